// Fuzz target: the sorted table of a checkpoint's .index file (read_table), in memory.
#include "msinet/weights/table.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  msinet::fuzz::expect_clean([&] {
    msinet::weights::read_table({reinterpret_cast<const char*>(data), size}, "fuzz.index");
  });
  return 0;
}
