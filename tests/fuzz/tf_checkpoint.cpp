// Fuzz target: a checkpoint V2 tensor bundle (read_checkpoint). Input: model.index, then
// model.data-00000-of-00001, separated by kPartSeparator.
#include "fuzz_support.h"
#include "msinet/weights/readers.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  msinet::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace msinet::fuzz;
  const auto parts = split_parts({reinterpret_cast<const char*>(data), size}, 2);
  const fs::path& dir = fresh_scratch_dir();
  write_bytes(dir / "model.index", parts[0]);
  if (parts.size() > 1) write_bytes(dir / "model.data-00000-of-00001", parts[1]);
  expect_clean([&] { msinet::weights::read_checkpoint(dir / "model"); });
  return 0;
}
