// Fuzz target: a user dataset file (load_dataset_yaml), beside folders images/ and maps/ and a
// list file train.txt, so that well-formed files get past the folder checks.
#include "fuzz_support.h"
#include "msinet/data/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace msinet::fuzz;
  const fs::path& dir = fresh_scratch_dir();
  fs::create_directory(dir / "images");
  fs::create_directory(dir / "maps");
  write_bytes(dir / "train.txt", "a.jpg\n# comment\n\nb.jpg\n");
  write_bytes(dir / "mydata.yaml", {reinterpret_cast<const char*>(data), size});
  expect_clean([&] { msinet::data::load_dataset_yaml(dir / "mydata.yaml"); });
  return 0;
}
