# Tests of area 'bench' (see tests/CMakeLists.txt for msinet_add_test): the fast inference path
# and the benchmark command.
msinet_add_test(test_bench_inference LABEL unit SOURCES test_bench_inference.cpp LIBS msinet_core)
msinet_torch_pch(test_bench_inference)
msinet_add_test(test_bench_smoke LABEL smoke TIMEOUT 600 SOURCES test_bench_smoke.cpp LIBS msinet_weights)
add_dependencies(test_bench_smoke msinet)
msinet_add_test(test_bench_pipeline LABEL unit SOURCES test_bench_pipeline.cpp LIBS msinet_app)
