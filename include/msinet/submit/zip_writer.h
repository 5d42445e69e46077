#pragma once
// Writing a zip archive from files, atomically (libzip).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace msinet::submit {

namespace fs = std::filesystem;

/// One member of an archive: its name inside and the file that holds its bytes.
struct ZipEntry {
  std::string name;      ///< e.g. "model/i1.jpg"
  fs::path source;       ///< read when the archive is written
  bool compress = true;  ///< deflate (false: stored, for JPEG data that does not shrink)
};

/// Writes `entries` to a temporary zip beside `out`, then renames it over `out`; nothing is left
/// behind on failure. Returns the archive's size in bytes. Throws Error(kIo) naming `out`.
uint64_t write_zip_atomic(const fs::path& out, const std::vector<ZipEntry>& entries);

}  // namespace msinet::submit
