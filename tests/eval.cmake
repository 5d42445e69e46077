# Tests of area 'eval' (see tests/CMakeLists.txt for msinet_add_test).
msinet_add_test(test_eval LABEL unit
  SOURCES test_eval_metrics.cpp test_eval_emd.cpp test_eval_io.cpp test_eval_job.cpp
          test_eval_tuebingen.cpp
  LIBS msinet_eval)
# Bootstrap intervals, the Wilcoxon test (against SciPy), and the PNG plots read back by pixel.
msinet_add_test(test_eval_stats LABEL unit
  SOURCES test_eval_stats.cpp test_eval_plots.cpp test_eval_compare.cpp
  LIBS msinet_eval nlohmann_json::nlohmann_json)
# `msinet eval --pred A --pred B` through the binary.
msinet_add_test(test_cli_eval_compare LABEL smoke SOURCES test_cli_eval_compare.cpp
                LIBS msinet_eval nlohmann_json::nlohmann_json ${OpenCV_LIBS})
add_dependencies(test_cli_eval_compare msinet)
