#pragma once
// Shared by the fuzz targets (tests/fuzz/*.cpp): a fresh scratch folder per input for the
// readers that take files, the split of one input into the files of a multi-file format, and
// the rule that only msinet::Error is a correct rejection.

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "msinet/util/error.h"

namespace msinet::fuzz {

namespace fs = std::filesystem;

/// Separates the files of one input, e.g. a TF.js manifest and its shard (see split_parts).
inline constexpr std::string_view kPartSeparator = "\n--msinet-fuzz-part--\n";

/// `input` cut at the first `max_parts - 1` separators; the last part keeps any further ones.
inline std::vector<std::string_view> split_parts(std::string_view input, size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    const size_t at = input.find(kPartSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(input.substr(0, at));
    input.remove_prefix(at + kPartSeparator.size());
  }
  parts.push_back(input);
  return parts;
}

/// The parts joined by the separator: how seeds of multi-file formats are made.
inline std::string join_parts(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += kPartSeparator;
    out += parts[i];
  }
  return out;
}

/// This process's scratch folder: under $MSINET_FUZZ_SCRATCH, else /dev/shm when it exists
/// (no disk writes per input), else the system's temporary folder.
inline const fs::path& scratch_dir() {
  static const fs::path dir = [] {
    const char* env = std::getenv("MSINET_FUZZ_SCRATCH");
    std::error_code ec;
    const fs::path root = env && *env                        ? fs::path(env)
                          : fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm")
                                                             : fs::temp_directory_path();
    return root / ("msinet-fuzz-" + std::to_string(::getpid()));
  }();
  return dir;
}

/// scratch_dir(), emptied: every input starts from nothing. Removed when the process exits.
inline const fs::path& fresh_scratch_dir() {
  static const bool cleanup = std::atexit([] {
                                std::error_code ignored;
                                fs::remove_all(scratch_dir(), ignored);
                              }) == 0;
  (void)cleanup;
  fs::remove_all(scratch_dir());
  fs::create_directories(scratch_dir());
  return scratch_dir();
}

/// Writes `bytes` to `path` (creating its folder).
inline void write_bytes(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) std::abort();  // the fuzz setup itself failed, not the code under test
}

/// Runs `parse`; an msinet::Error is a correct rejection, anything else escapes (a finding).
template <typename F>
void expect_clean(F&& parse) {
  try {
    parse();
  } catch (const Error&) {
  }
}

/// Silences msinet's logging (warnings about odd input are expected by the thousand).
inline void quiet_logs() { spdlog::set_level(spdlog::level::off); }

}  // namespace msinet::fuzz
