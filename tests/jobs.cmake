# Tests of area 'jobs' (see tests/CMakeLists.txt for msinet_add_test).
