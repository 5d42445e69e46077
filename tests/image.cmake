# Tests of area 'image' (see tests/CMakeLists.txt for msinet_add_test).
