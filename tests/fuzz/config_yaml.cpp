// Fuzz target: a configuration file (Config::load_yaml).
#include "fuzz_support.h"
#include "msinet/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace msinet::fuzz;
  const fs::path file = fresh_scratch_dir() / "msinet.yaml";
  write_bytes(file, {reinterpret_cast<const char*>(data), size});
  expect_clean([&] {
    msinet::config::Config config;
    config.load_yaml(file);
    config.urls();
    config.describe();
  });
  return 0;
}
