# Tests of area 'eval' (see tests/CMakeLists.txt for msinet_add_test).
