# Tests of areas 'model' and 'runtime' (see tests/CMakeLists.txt for msinet_add_test); they need
# LibTorch alone, so they also build with MSINET_CORE_ONLY.
msinet_add_test(test_model_ops LABEL unit SOURCES test_model_ops.cpp LIBS msinet_core)
msinet_torch_pch(test_model_ops)
msinet_add_test(test_runtime LABEL unit
  SOURCES test_runtime_inference.cpp test_runtime_matches_training.cpp
  LIBS msinet_runtime)
msinet_torch_pch(test_runtime)
msinet_add_test(test_runtime_onednn LABEL unit SOURCES test_runtime_onednn.cpp LIBS msinet_runtime)
msinet_torch_pch(test_runtime_onednn)
msinet_add_test(test_runtime_int8 LABEL unit SOURCES test_runtime_int8.cpp
                LIBS msinet_runtime DNNL::dnnl)
msinet_torch_pch(test_runtime_int8)
msinet_add_test(test_runtime_winograd LABEL unit SOURCES test_runtime_winograd.cpp
                LIBS msinet_runtime)
# WinogradConv is the runtime's own, not public API.
target_include_directories(test_runtime_winograd PRIVATE ${PROJECT_SOURCE_DIR}/src/runtime)
msinet_torch_pch(test_runtime_winograd)
