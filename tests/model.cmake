# Tests of area 'model' (see tests/CMakeLists.txt for msinet_add_test).
