// Fuzz target: a SavedModel folder (read_saved_model). Input: saved_model.pb, then optionally
// variables/variables.index and variables/variables.data-00000-of-00001, separated by
// kPartSeparator.
#include "fuzz_support.h"
#include "msinet/weights/readers.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  msinet::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace msinet::fuzz;
  const auto parts = split_parts({reinterpret_cast<const char*>(data), size}, 3);
  const fs::path& dir = fresh_scratch_dir();
  write_bytes(dir / "saved_model.pb", parts[0]);
  if (parts.size() > 1) write_bytes(dir / "variables" / "variables.index", parts[1]);
  if (parts.size() > 2) {
    write_bytes(dir / "variables" / "variables.data-00000-of-00001", parts[2]);
  }
  expect_clean([&] { msinet::weights::read_saved_model(dir); });
  return 0;
}
