# Tests of area 'export': the exported models in independent runtimes (ONNX Runtime and
# TensorFlow.js from tests/node, installed by scripts/test.sh; OpenCV DNN) against `msinet test`.
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs dnn)
msinet_add_test(test_export LABEL slow TIMEOUT 900
  SOURCES test_export.cpp
  LIBS msinet_export msinet_bench msinet_checkpoint msinet_eval msinet_weights onnx
       nlohmann_json::nlohmann_json ${OpenCV_LIBS})
msinet_torch_pch(test_export)
add_dependencies(test_export msinet)
