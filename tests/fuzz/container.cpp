// Fuzz target: msinet's own checkpoint container (decode_checkpoint), in memory.
#include "msinet/checkpoint/container.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  msinet::fuzz::expect_clean([&] { msinet::checkpoint::decode_checkpoint(bytes, "fuzz.msinet"); });
  return 0;
}
