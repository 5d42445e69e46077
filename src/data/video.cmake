# msinet_video: video files and cameras in, map videos and streamed .npy arrays out, a preview
# window (OpenCV videoio with its FFmpeg backend, highgui; no LibTorch).
add_library(msinet_video STATIC
  video.cpp
)
target_include_directories(msinet_video PUBLIC ${PROJECT_SOURCE_DIR}/include)
target_include_directories(msinet_video SYSTEM PUBLIC ${OpenCV_INCLUDE_DIRS})
target_link_libraries(msinet_video PUBLIC msinet_util ${OpenCV_LIBS} opencv_videoio
                      PRIVATE opencv_highgui)
msinet_target_defaults(msinet_video)
msinet_area(msinet_video AREA video HEADERS data/video.h DEPENDS util)
