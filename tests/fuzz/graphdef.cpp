// Fuzz target: a frozen GraphDef .pb (read_frozen_graph): protobuf wire parsing, NodeDefs,
// function libraries, TensorProtos.
#include "fuzz_support.h"
#include "msinet/weights/readers.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  msinet::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace msinet::fuzz;
  const fs::path pb = fresh_scratch_dir() / "frozen.pb";
  write_bytes(pb, {reinterpret_cast<const char*>(data), size});
  expect_clean([&] { msinet::weights::read_frozen_graph(pb); });
  return 0;
}
