# Tests of area 'serve' (see tests/CMakeLists.txt for msinet_add_test): `msinet serve` through
# the real binary, with httplib's client.
msinet_add_test(test_serve LABEL smoke TIMEOUT 300 SOURCES test_serve.cpp
                LIBS msinet_bench PkgConfig::HTTPLIB nlohmann_json::nlohmann_json ${OpenCV_LIBS})
msinet_torch_pch(test_serve)
add_dependencies(test_serve msinet)
