#pragma once
// Safe zip extraction (libzip): entries that would land outside the target are refused, and
// both the number of entries and the unpacked size are bounded.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace msinet::fetch {

/// Bounds for one archive.
struct ExtractLimits {
  uint64_t max_total_bytes = 16ull << 30;  ///< sum of unpacked sizes
  uint64_t max_entries = 1'000'000;
};

/// Decides whether an entry (its path inside the archive, '/'-separated) is extracted, and
/// where to: return an empty string to skip it, or the relative destination path.
using EntryMapper = std::function<std::string(const std::string& entry_name)>;

/// Extracts the regular files of `zip_path` into `dest_dir` (created if missing), each at the
/// path `map` returns for it (identity when `map` is empty). Absolute paths, `..` components and
/// symbolic links (every one, skipped by `map` or not) are refused with Error(kData) naming the
/// entry before anything is written; a corrupt archive or a CRC error is Error(kData) naming the
/// archive. Returns the number of files written.
uint64_t extract_zip(const std::filesystem::path& zip_path, const std::filesystem::path& dest_dir,
                     const EntryMapper& map = {}, const ExtractLimits& limits = {});

}  // namespace msinet::fetch
