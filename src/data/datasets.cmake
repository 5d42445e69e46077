# msinet_datasets: built-in and user datasets, splits, MAT files, map making, preparation recipes.
add_library(msinet_datasets STATIC
  blur.cpp
  dataset.cpp
  matfile.cpp
  recipes.cpp
  splits.cpp
)
target_include_directories(msinet_datasets PUBLIC ${PROJECT_SOURCE_DIR}/include)
target_include_directories(msinet_datasets SYSTEM PUBLIC ${OpenCV_INCLUDE_DIRS})
target_link_libraries(msinet_datasets
  PUBLIC msinet_util msinet_fetch msinet_image ${OpenCV_LIBS}
  PRIVATE PkgConfig::MATIO yaml-cpp)
# The blur must add and multiply in scipy's order, without fused multiply-adds.
set_source_files_properties(blur.cpp PROPERTIES COMPILE_OPTIONS
  "$<$<CXX_COMPILER_ID:GNU,Clang>:-ffp-contract=off;-O3>")
msinet_target_defaults(msinet_datasets)
msinet_area(msinet_datasets AREA datasets HEADER_DIRS data DEPENDS util fetch image)
