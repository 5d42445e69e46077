#pragma once
// The immutable sorted table (LevelDB format) behind a TensorFlow checkpoint's `.index` file:
// data blocks of prefix-compressed keys with restart points, an index block, a footer with the
// block handles and a magic number, each block followed by a type byte and a masked CRC32C.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace msinet::weights {

/// One key and its value.
struct TableEntry {
  std::string key;
  std::string value;
};

/// Magic number closing every table file.
// ref: tensorflow/tsl/lib/io/format.h kTableMagicNumber
inline constexpr unsigned long long kTableMagicNumber = 0xdb4775248b80fb57ull;

/// Every entry of the table in `bytes`, in key order. Verifies the footer, the magic, each
/// block's CRC and type (0 raw, 1 Snappy), the restart points and the key order. Throws
/// Error(kWeights) naming `file` when anything is off.
std::vector<TableEntry> read_table(std::string_view bytes, const std::string& file);

/// How build_table lays out blocks.
struct TableOptions {
  size_t block_size = 4096;   ///< a data block is closed once it holds this many bytes
  int restart_interval = 16;  ///< keys between restart points
  bool snappy = false;        ///< Snappy-compress every data and index block
};

/// A table file holding `entries` (sorted by key, unique), readable by TensorFlow.
std::string build_table(const std::vector<TableEntry>& entries, const TableOptions& options = {});

}  // namespace msinet::weights
