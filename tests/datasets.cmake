# Tests of area 'datasets' (see tests/CMakeLists.txt for msinet_add_test).
