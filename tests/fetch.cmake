# Tests of area 'fetch' (see tests/CMakeLists.txt for msinet_add_test).
