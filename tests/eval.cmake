# Tests of area 'eval' (see tests/CMakeLists.txt for msinet_add_test).
msinet_add_test(test_eval LABEL unit
  SOURCES test_eval_metrics.cpp
  LIBS msinet_eval)
