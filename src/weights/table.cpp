#include "msinet/weights/table.h"

#include <snappy.h>

#include <algorithm>

#include "msinet/util/error.h"
#include "msinet/weights/crc32c.h"
#include "msinet/weights/proto_wire.h"

namespace msinet::weights {
namespace {

// ref: tensorflow/tsl/lib/io/format.h (BlockHandle::kMaxEncodedLength, Footer::kEncodedLength)
constexpr size_t kMaxHandleLength = 20;
constexpr size_t kFooterLength = 2 * kMaxHandleLength + 8;
// ref: tensorflow/tsl/lib/io/format.h kBlockTrailerSize (1-byte type + 32-bit crc)
constexpr size_t kBlockTrailerSize = 5;
// A decompressed block larger than this is refused (TensorFlow writes 4 KiB - 256 KiB blocks).
constexpr size_t kMaxBlockSize = size_t{1} << 30;

struct BlockHandle {
  uint64_t offset = 0;
  uint64_t size = 0;
};

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw Error(ErrorCode::kWeights, "checkpoint index '" + file + "' is corrupt: " + what +
                                       ". Replace the file with a complete copy.");
}

BlockHandle decode_handle(std::string_view& in, const std::string& file, const char* what) {
  try {
    BlockHandle h;
    h.offset = wire::read_varint(in);
    h.size = wire::read_varint(in);
    return h;
  } catch (const wire::WireError& e) {
    fail(file, std::string("bad ") + what + " block handle (" + e.what() + ")");
  }
}

// ref: tensorflow/tsl/lib/io/format.cc ReadBlock
std::string read_block(std::string_view file_bytes, size_t limit, const BlockHandle& h,
                       const std::string& file, const char* what) {
  if (h.offset > limit || h.size > limit - h.offset ||
      limit - h.offset - h.size < kBlockTrailerSize) {
    fail(file, std::string(what) + " block at offset " + std::to_string(h.offset) + " (" +
                   std::to_string(h.size) + " bytes) runs past the end of the file (" +
                   std::to_string(file_bytes.size()) + " bytes)");
  }
  const std::string_view contents = file_bytes.substr(h.offset, h.size);
  const char type = file_bytes[h.offset + h.size];
  const uint32_t stored = wire::load_fixed32(file_bytes.data() + h.offset + h.size + 1);
  const uint32_t actual = crc32c_extend(crc32c(contents), std::string_view(&type, 1));
  if (crc32c_unmask(stored) != actual) {
    fail(file, std::string(what) + " block at offset " + std::to_string(h.offset) +
                   " fails its CRC32C check");
  }
  if (type == 0) return std::string(contents);
  if (type == 1) {
    size_t length = 0;
    if (!snappy::GetUncompressedLength(contents.data(), contents.size(), &length) ||
        length > kMaxBlockSize ||
        !snappy::IsValidCompressedBuffer(contents.data(), contents.size())) {
      fail(file, std::string(what) + " block at offset " + std::to_string(h.offset) +
                     " is not valid Snappy data");
    }
    std::string out;
    if (!snappy::Uncompress(contents.data(), contents.size(), &out)) {
      fail(file, std::string(what) + " block at offset " + std::to_string(h.offset) +
                     " does not decompress");
    }
    return out;
  }
  fail(file, std::string(what) + " block at offset " + std::to_string(h.offset) +
                 " has unknown compression type " + std::to_string(static_cast<uint8_t>(type)));
}

uint32_t read_varint32(std::string_view& in) {
  const uint64_t v = wire::read_varint(in);
  if (v > 0xFFFFFFFFu) throw wire::WireError("varint32 out of range");
  return static_cast<uint32_t>(v);
}

// ref: tensorflow/tsl/lib/io/block.cc (Block::Iter::ParseNextKey, restart array)
std::vector<TableEntry> parse_block(const std::string& block, const std::string& file,
                                    const std::string& what) {
  if (block.size() < 4) fail(file, what + " block is shorter than its restart count");
  const uint32_t num_restarts = wire::load_fixed32(block.data() + block.size() - 4);
  const size_t max_restarts = (block.size() - 4) / 4;
  if (num_restarts > max_restarts) {
    fail(file, what + " block claims " + std::to_string(num_restarts) + " restart points");
  }
  const size_t restart_offset = block.size() - 4 * (size_t{num_restarts} + 1);
  if (num_restarts == 0 && restart_offset != 0) fail(file, what + " block has no restart point");
  std::vector<TableEntry> entries;
  std::vector<std::pair<size_t, bool>> starts;  // entry offset, shared == 0
  std::string_view in(block.data(), restart_offset);
  std::string key;
  try {
    while (!in.empty()) {
      const size_t at = restart_offset - in.size();
      const uint32_t shared = read_varint32(in);
      const uint32_t non_shared = read_varint32(in);
      const uint32_t value_length = read_varint32(in);
      if (shared > key.size()) {
        throw wire::WireError("entry at byte " + std::to_string(at) + " shares " +
                              std::to_string(shared) + " bytes of a " + std::to_string(key.size()) +
                              "-byte key");
      }
      if (size_t{non_shared} + value_length > in.size()) {
        throw wire::WireError("entry at byte " + std::to_string(at) + " runs past the block");
      }
      std::string next = key.substr(0, shared);
      next.append(in.data(), non_shared);
      if (!entries.empty() && !(entries.back().key < next)) {
        throw wire::WireError("keys out of order at '" + next + "'");
      }
      key = next;
      entries.push_back({key, std::string(in.substr(non_shared, value_length))});
      starts.emplace_back(at, shared == 0);
      in.remove_prefix(size_t{non_shared} + value_length);
    }
  } catch (const wire::WireError& e) {
    fail(file, what + " block: " + e.what());
  }
  for (uint32_t i = 0; i < num_restarts; ++i) {
    const uint32_t r = wire::load_fixed32(block.data() + restart_offset + 4 * size_t{i});
    const auto it =
        std::lower_bound(starts.begin(), starts.end(), std::make_pair(size_t{r}, false));
    const bool ok =
        (it != starts.end() && it->first == r && it->second) || (entries.empty() && r == 0);
    if (!ok) fail(file, what + " block has a bad restart point " + std::to_string(r));
  }
  return entries;
}

}  // namespace

std::vector<TableEntry> read_table(std::string_view bytes, const std::string& file) {
  if (bytes.size() < kFooterLength) {
    fail(file, "it has " + std::to_string(bytes.size()) + " bytes, fewer than the " +
                   std::to_string(kFooterLength) + "-byte footer");
  }
  const size_t footer_at = bytes.size() - kFooterLength;
  // ref: tensorflow/tsl/lib/io/format.cc Footer::DecodeFrom
  if (wire::load_fixed64(bytes.data() + footer_at + 2 * kMaxHandleLength) != kTableMagicNumber) {
    fail(file, "wrong magic number (not a TensorFlow table file)");
  }
  std::string_view footer = bytes.substr(footer_at, 2 * kMaxHandleLength);
  const BlockHandle metaindex = decode_handle(footer, file, "metaindex");
  const BlockHandle index = decode_handle(footer, file, "index");
  read_block(bytes, footer_at, metaindex, file, "metaindex");
  const std::vector<TableEntry> index_entries =
      parse_block(read_block(bytes, footer_at, index, file, "index"), file, "index");
  std::vector<TableEntry> out;
  for (const TableEntry& ie : index_entries) {
    std::string_view hv = ie.value;
    const BlockHandle h = decode_handle(hv, file, "data");
    if (!hv.empty()) fail(file, "index entry '" + ie.key + "' has trailing bytes");
    std::vector<TableEntry> block =
        parse_block(read_block(bytes, footer_at, h, file, "data"), file,
                    "data block at offset " + std::to_string(h.offset) + ",");
    for (TableEntry& e : block) {
      if (!out.empty() && !(out.back().key < e.key)) {
        fail(file, "keys out of order across blocks at '" + e.key + "'");
      }
      if (e.key > ie.key) fail(file, "key '" + e.key + "' lies beyond its index entry");
      out.push_back(std::move(e));
    }
  }
  return out;
}

namespace {

class BlockBuilder {
 public:
  explicit BlockBuilder(int restart_interval) : interval_(std::max(1, restart_interval)) {}
  void add(const std::string& key, std::string_view value) {
    size_t shared = 0;
    if (counter_ < interval_ && !restarts_.empty()) {
      const size_t n = std::min(last_key_.size(), key.size());
      while (shared < n && last_key_[shared] == key[shared]) ++shared;
    } else {
      restarts_.push_back(static_cast<uint32_t>(buffer_.size()));
      counter_ = 0;
    }
    wire::put_varint(buffer_, shared);
    wire::put_varint(buffer_, key.size() - shared);
    wire::put_varint(buffer_, value.size());
    buffer_.append(key, shared, std::string::npos);
    buffer_.append(value.data(), value.size());
    last_key_ = key;
    ++counter_;
  }
  size_t size() const { return buffer_.size(); }
  bool empty() const { return restarts_.empty(); }
  std::string finish() {
    if (restarts_.empty()) restarts_.push_back(0);
    std::string out = std::move(buffer_);
    for (uint32_t r : restarts_) wire::put_fixed32(out, r);
    wire::put_fixed32(out, static_cast<uint32_t>(restarts_.size()));
    buffer_.clear();
    restarts_.clear();
    counter_ = 0;
    last_key_.clear();
    return out;
  }

 private:
  int interval_;
  int counter_ = 0;
  std::string buffer_;
  std::string last_key_;
  std::vector<uint32_t> restarts_;
};

void put_handle(std::string& out, const BlockHandle& h) {
  wire::put_varint(out, h.offset);
  wire::put_varint(out, h.size);
}

BlockHandle write_block(std::string& file, const std::string& contents, bool compress) {
  std::string compressed;
  std::string_view body = contents;
  char type = 0;
  if (compress) {
    snappy::Compress(contents.data(), contents.size(), &compressed);
    body = compressed;
    type = 1;
  }
  BlockHandle h{file.size(), body.size()};
  file.append(body.data(), body.size());
  file.push_back(type);
  wire::put_fixed32(file, crc32c_mask(crc32c_extend(crc32c(body), std::string_view(&type, 1))));
  return h;
}

}  // namespace

std::string build_table(const std::vector<TableEntry>& entries, const TableOptions& options) {
  std::string file;
  BlockBuilder data(options.restart_interval);
  BlockBuilder index(1);
  std::string last_key;
  auto flush = [&] {
    if (data.empty()) return;
    const BlockHandle h = write_block(file, data.finish(), options.snappy);
    std::string hv;
    put_handle(hv, h);
    index.add(last_key, hv);
  };
  for (const TableEntry& e : entries) {
    data.add(e.key, e.value);
    last_key = e.key;
    if (data.size() >= options.block_size) flush();
  }
  flush();
  BlockBuilder meta(1);
  const BlockHandle meta_handle = write_block(file, meta.finish(), false);
  const BlockHandle index_handle = write_block(file, index.finish(), options.snappy);
  std::string footer;
  put_handle(footer, meta_handle);
  put_handle(footer, index_handle);
  footer.resize(2 * kMaxHandleLength, '\0');
  wire::put_fixed64(footer, kTableMagicNumber);
  return file + footer;
}

}  // namespace msinet::weights
