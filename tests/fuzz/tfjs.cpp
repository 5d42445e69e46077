// Fuzz target: a TF.js weights manifest and its shards (read_tfjs). Input: the JSON, then up
// to three shards written as shard1..shard3, separated by kPartSeparator.
#include "fuzz_support.h"
#include "msinet/weights/readers.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  msinet::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace msinet::fuzz;
  const auto parts = split_parts({reinterpret_cast<const char*>(data), size}, 4);
  const fs::path& dir = fresh_scratch_dir();
  write_bytes(dir / "model.json", parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    write_bytes(dir / ("shard" + std::to_string(i)), parts[i]);
  }
  expect_clean([&] { msinet::weights::read_tfjs(dir / "model.json"); });
  return 0;
}
