# Tests of area 'bench' (see tests/CMakeLists.txt for msinet_add_test): the benchmark command
# and the test job it times.
msinet_add_test(test_bench_smoke LABEL smoke TIMEOUT 600 SOURCES test_bench_smoke.cpp
                LIBS nlohmann_json::nlohmann_json)
add_dependencies(test_bench_smoke msinet)
msinet_add_test(test_bench_pipeline LABEL unit SOURCES test_bench_pipeline.cpp
                LIBS msinet_bench msinet_infer)
# The PyTorch peer of `msinet bench --train --peer torch` builds the same network as msinet
# (24,934,209 parameters, as test_model_net checks of msinet's) with a map of the input's size,
# and takes a training step. Skipped without /usr/bin/python3 and its torch.
if(EXISTS /usr/bin/python3)
  add_test(NAME bench.TorchPeerMatchesModel
           COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/tools/torch_train_peer.py
                   --size 48x64 --batch 2 --threads 1 --steps 1 --warmup 0)
  set_tests_properties(
    bench.TorchPeerMatchesModel
    PROPERTIES LABELS smoke TIMEOUT 60
               PASS_REGULAR_EXPRESSION
               "\"parameters\": 24934209, \"output_shape\": \\[2, 1, 48, 64\\]"
               SKIP_REGULAR_EXPRESSION "ModuleNotFoundError")
endif()
