// Checkpoint V2 tensor bundle: <prefix>.index (a table of BundleEntryProto) and its
// <prefix>.data-NNNNN-of-NNNNN shards.
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include "msinet/util/error.h"
#include "msinet/weights/crc32c.h"
#include "msinet/weights/proto_wire.h"
#include "msinet/weights/readers.h"
#include "msinet/weights/table.h"
#include "msinet/weights/tf_dtype.h"
#include "msinet/weights/tf_proto.h"
#include "reader_util.h"

namespace msinet::weights {
namespace {

std::string shard_suffix(int shard, int num_shards) {
  char buf[48];
  std::snprintf(buf, sizeof buf, ".data-%05d-of-%05d", shard, num_shards);
  return buf;
}

bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

namespace detail {

const std::regex& data_file_pattern() {
  static const std::regex kPattern(R"((.*)\.data-([0-9]{5})-of-([0-9]{5})$)");
  return kPattern;
}

void read_bundle(const fs::path& prefix, WeightFile& out) {
  const fs::path index_path = prefix.string() + ".index";
  const std::string index = read_bytes(index_path, "checkpoint index");
  const std::vector<TableEntry> entries = read_table(index, index_path.string());
  if (entries.empty() || !entries.front().key.empty()) {
    corrupt(index_path, "", "the bundle header (empty key) is missing");
  }
  BundleHeader header;
  try {
    header = parse_bundle_header(entries.front().value);
  } catch (const wire::WireError& e) {
    corrupt(index_path, "", std::string("malformed bundle header (") + e.what() + ")");
  }
  if (header.endianness != 0) {
    throw Error(ErrorCode::kWeights, "checkpoint '" + prefix.string() +
                                         "' was written on a big-endian machine; only "
                                         "little-endian bundles are supported");
  }
  if (header.num_shards < 1 || header.num_shards > 99999) {
    corrupt(index_path, "", "bundle header lists " + std::to_string(header.num_shards) + " shards");
  }
  struct Shard {
    std::unique_ptr<std::ifstream> in;
    uint64_t size = 0;
    fs::path path;
  };
  std::map<int, Shard> shards;
  auto shard = [&](int id) -> Shard& {
    auto it = shards.find(id);
    if (it != shards.end()) return it->second;
    Shard s;
    s.path = prefix.string() + shard_suffix(id, header.num_shards);
    std::error_code ec;
    if (!fs::is_regular_file(s.path, ec)) {
      throw Error(ErrorCode::kWeights, "checkpoint data file '" + s.path.string() +
                                           "' is missing; it belongs beside '" +
                                           index_path.string() + "'");
    }
    s.size = fs::file_size(s.path, ec);
    s.in = std::make_unique<std::ifstream>(s.path, std::ios::binary);
    if (ec || !*s.in) throw Error(ErrorCode::kWeights, "cannot open '" + s.path.string() + "'");
    return shards.emplace(id, std::move(s)).first->second;
  };
  for (size_t i = 1; i < entries.size(); ++i) {
    const std::string& name = entries[i].key;
    BundleEntry e;
    try {
      e = parse_bundle_entry(entries[i].value);
    } catch (const wire::WireError& err) {
      corrupt(index_path, name, std::string("malformed BundleEntryProto (") + err.what() + ")");
    } catch (const std::invalid_argument& err) {
      corrupt(index_path, name, err.what());
    }
    if (!is_known_dtype(e.dtype))
      corrupt(index_path, name, "unknown dtype " + std::to_string(e.dtype));
    if (e.partitioned) {
      throw Error(ErrorCode::kWeights, "checkpoint '" + prefix.string() + "': tensor '" + name +
                                           "' is partitioned (slices), which is not supported");
    }
    if (!is_numeric_dtype(e.dtype)) {
      out.skipped.push_back(name + " (" + dtype_name(e.dtype) + ")");
      continue;
    }
    int64_t n = 0;
    try {
      n = checked_num_elements(e.shape);
    } catch (const std::invalid_argument& err) {
      corrupt(index_path, name, err.what());
    }
    const int64_t want = n * static_cast<int64_t>(dtype_size(e.dtype));
    if (e.size != want) {
      corrupt(index_path, name,
              "entry size " + std::to_string(e.size) + " bytes, but shape " +
                  shape_string(e.shape) + " of " + dtype_name(e.dtype) + " needs " +
                  std::to_string(want));
    }
    if (e.shard_id < 0 || e.shard_id >= header.num_shards) {
      corrupt(index_path, name,
              "shard " + std::to_string(e.shard_id) + " of " + std::to_string(header.num_shards));
    }
    Shard& s = shard(e.shard_id);
    if (e.offset < 0 || static_cast<uint64_t>(e.offset) > s.size ||
        static_cast<uint64_t>(e.size) > s.size - static_cast<uint64_t>(e.offset)) {
      corrupt(s.path, name,
              "bytes [" + std::to_string(e.offset) + ", " + std::to_string(e.offset + e.size) +
                  ") lie past the end of the " + std::to_string(s.size) + "-byte data file");
    }
    std::string bytes(static_cast<size_t>(e.size), '\0');
    s.in->clear();
    s.in->seekg(e.offset);
    if (e.size > 0 && !s.in->read(bytes.data(), e.size)) {
      corrupt(s.path, name, "cannot read its bytes");
    }
    // ref: tensorflow/core/util/tensor_bundle/tensor_bundle.cc BundleReader::GetValue (crc check)
    if (e.has_crc32c && crc32c_unmask(e.crc32c) != crc32c(bytes)) {
      corrupt(s.path, name, "its bytes fail the CRC32C check");
    }
    DecodedTensor t;
    t.dtype = e.dtype;
    t.shape = e.shape;
    t.numeric = true;
    t.values = convert_to_float(e.dtype, bytes);
    if (out.tensors.count(name)) out.tensors.erase(name);
    add_tensor(out, s.path, name, std::move(t));
  }
}

}  // namespace detail

fs::path checkpoint_prefix(const fs::path& path) {
  const std::string s = path.string();
  std::error_code ec;
  if (has_suffix(s, ".index")) return fs::path(s.substr(0, s.size() - 6));
  std::smatch m;
  if (std::regex_match(s, m, detail::data_file_pattern())) return fs::path(m[1].str());
  if (fs::is_directory(path, ec)) {
    const fs::path state = path / "checkpoint";
    if (fs::is_regular_file(state, ec)) {
      // ref: tensorflow/python/training/checkpoint_management.py (CheckpointState text proto)
      static const std::regex kLine(R"(^\s*model_checkpoint_path\s*:\s*"([^"]*)\"\s*$)");
      std::istringstream lines(detail::read_bytes(state, "checkpoint state file"));
      std::string line;
      while (std::getline(lines, line)) {
        if (std::regex_match(line, m, kLine)) {
          const fs::path p(m[1].str());
          return p.is_absolute() ? p : path / p;
        }
      }
    }
    std::vector<fs::path> indexes;
    for (const auto& e : fs::directory_iterator(path, ec)) {
      if (e.is_regular_file() && e.path().extension() == ".index") indexes.push_back(e.path());
    }
    if (indexes.size() == 1) return checkpoint_prefix(indexes.front());
    throw Error(ErrorCode::kWeights,
                "folder '" + s + "' holds " + std::to_string(indexes.size()) +
                    " checkpoint .index files and no 'checkpoint' state file; name the checkpoint "
                    "prefix (e.g. " +
                    (path / "model.ckpt").string() + ")");
  }
  if (fs::is_regular_file(s + ".index", ec)) return path;
  throw Error(ErrorCode::kWeights, "'" + s + "' is not a checkpoint: '" + s + ".index' not found");
}

WeightFile read_checkpoint(const fs::path& path) {
  WeightFile out;
  out.format = WeightFormat::kCheckpoint;
  const fs::path prefix = checkpoint_prefix(path);
  out.source = prefix;
  detail::read_bundle(prefix, out);
  return out;
}

}  // namespace msinet::weights
