# Tests of area 'util' (see tests/CMakeLists.txt for msinet_add_test).
