# Tests of area 'submit' and of `msinet submit` (see tests/CMakeLists.txt for msinet_add_test).
msinet_add_test(test_submit LABEL unit SOURCES test_submit.cpp
                LIBS msinet_submit nlohmann_json::nlohmann_json ${OpenCV_LIBS})
add_dependencies(test_submit msinet)
