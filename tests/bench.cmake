# Tests of area 'bench' (see tests/CMakeLists.txt for msinet_add_test): the benchmark command
# and the test job it times.
msinet_add_test(test_bench_smoke LABEL smoke TIMEOUT 600 SOURCES test_bench_smoke.cpp
                LIBS nlohmann_json::nlohmann_json)
add_dependencies(test_bench_smoke msinet)
msinet_add_test(test_bench_pipeline LABEL unit SOURCES test_bench_pipeline.cpp
                LIBS msinet_bench msinet_infer)
