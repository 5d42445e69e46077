# Tests of area 'model' (see tests/CMakeLists.txt for msinet_add_test).
msinet_add_test(test_model LABEL unit
  SOURCES
    test_model_checkpoint.cpp
    test_model_net.cpp
    test_model_ops.cpp
    test_model_weights.cpp
  LIBS msinet_core)
msinet_torch_pch(test_model)
