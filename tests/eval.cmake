# Tests of area 'eval' (see tests/CMakeLists.txt for msinet_add_test).
msinet_add_test(test_eval LABEL unit
  SOURCES test_eval_metrics.cpp test_eval_emd.cpp test_eval_io.cpp test_eval_job.cpp
  LIBS msinet_eval)
