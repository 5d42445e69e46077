// Fuzz target: MAT files through matio as the dataset recipes read them (MatFile, its numeric
// and cell variables, OSIE's fixations), from a temporary file.
//
// Compressed v5 variables are left out: matio 1.5.23 inflates a compressed cell or struct
// array of any declared size, a cell at a time, whatever the data holds (a 499-byte file took
// 2.9 GB in Mat_VarReadNextInfo alone), which no check in msinet can prevent. MAT 7.3 files
// (HDF5) are left out too: libhdf5 1.10.8 itself copies overlapping memory (H5HG_read) and leaks
// on damaged files, inside Mat_VarReadInfo.
#include <cstring>

#include "fuzz_support.h"
#include "msinet/data/matfile.h"

namespace {

// True when a v5 file (128-byte header, then tagged data elements) holds a compressed
// element (type miCOMPRESSED, 15) at its top level.
// ref: MathWorks, "MAT-File Format" (2019), Data Element Format
bool has_compressed_v5_element(std::string_view bytes) {
  if (bytes.size() < 128) return false;
  const bool swap = bytes.substr(126, 2) == "MI";  // written big-endian
  const auto u32 = [&](size_t at) {
    uint32_t v = 0;
    std::memcpy(&v, bytes.data() + at, 4);
    return swap ? __builtin_bswap32(v) : v;
  };
  size_t at = 128;
  while (bytes.size() - at >= 8) {
    const uint32_t type = u32(at), size = u32(at + 4);
    if ((type & 0xffff) == 15) return true;
    if (type >> 16 != 0) {  // small element: type and size in the first 4 bytes
      at += 8;
      continue;
    }
    const uint64_t next = at + 8 + ((uint64_t{size} + 7) & ~uint64_t{7});
    if (next > bytes.size()) break;
    at = static_cast<size_t>(next);
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  msinet::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace msinet::fuzz;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (has_compressed_v5_element(bytes)) return 0;
  if (bytes.find("\x89HDF\r\n\x1a\n") != std::string_view::npos) return 0;  // an HDF5 superblock
  const fs::path file = fresh_scratch_dir() / "fuzz.mat";
  write_bytes(file, bytes);
  expect_clean([&] {
    const msinet::data::MatFile mat(file);
    mat.is_v73();
    // The variables the recipes read (DUT-OMRON, PASCAL-S).
    for (const char* name : {"s", "sizeData"}) {
      expect_clean([&] { mat.numeric(name); });
    }
    expect_clean([&] { mat.numeric_cells("fixCell"); });
  });
  expect_clean([&] { msinet::data::read_osie_fixations(file); });
  return 0;
}
