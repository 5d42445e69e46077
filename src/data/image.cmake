# msinet_image: decoding, TF1-exact resizing, padding, map writing, overlays (OpenCV, no LibTorch).
add_library(msinet_image STATIC
  image.cpp
  image_header.cpp
  image_resize.cpp
  overlay.cpp
)
target_include_directories(msinet_image PUBLIC ${PROJECT_SOURCE_DIR}/include)
target_include_directories(msinet_image SYSTEM PUBLIC ${OpenCV_INCLUDE_DIRS})
target_link_libraries(msinet_image PUBLIC msinet_util ${OpenCV_LIBS} PRIVATE PNG::PNG)
# The resize kernels must round every product and sum in float32 as TensorFlow does.
target_compile_options(msinet_image PRIVATE $<$<CXX_COMPILER_ID:GNU,Clang>:-ffp-contract=off>)
msinet_target_defaults(msinet_image)
msinet_area(msinet_image AREA image HEADERS data/image.h data/overlay.h DEPENDS util)
