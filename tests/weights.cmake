# Tests of area 'weights' (see tests/CMakeLists.txt for msinet_add_test).
