// Fuzz target: an ONNX model's initializers (read_onnx).
#include "fuzz_support.h"
#include "msinet/weights/readers.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  msinet::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace msinet::fuzz;
  const fs::path model = fresh_scratch_dir() / "model.onnx";
  write_bytes(model, {reinterpret_cast<const char*>(data), size});
  expect_clean([&] { msinet::weights::read_onnx(model); });
  return 0;
}
