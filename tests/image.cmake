# Tests of area 'image' (see tests/CMakeLists.txt for msinet_add_test).
msinet_add_test(test_data_image LABEL unit
  SOURCES test_data_image_resize.cpp test_data_image_io.cpp test_data_overlay.cpp
  LIBS msinet_image)
