#include "msinet/weights/readers.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/weights/crc32c.h"
#include "msinet/weights/json.h"
#include "msinet/weights/proto_wire.h"
#include "msinet/weights/table.h"
#include "msinet/weights/tf_dtype.h"
#include "msinet/weights/tf_proto.h"

namespace msinet::weights {
namespace {

constexpr const char* kReplaceHint = ". Replace it with a complete copy of the file.";

[[noreturn]] void corrupt(const fs::path& file, const std::string& tensor,
                          const std::string& what) {
  std::string msg = "weight file '" + file.string() + "' is corrupt";
  if (!tensor.empty()) msg += " at tensor '" + tensor + "'";
  throw Error(ErrorCode::kWeights, msg + ": " + what + kReplaceHint);
}

std::string read_bytes(const fs::path& path, const char* what) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw Error(ErrorCode::kWeights,
                std::string(what) + " '" + path.string() + "' not found (or not a regular file)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(ErrorCode::kWeights,
                std::string("cannot open ") + what + " '" + path.string() + "'");
  std::string out;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0)
    throw Error(ErrorCode::kWeights,
                std::string("cannot read ") + what + " '" + path.string() + "'");
  out.resize(static_cast<size_t>(size));
  in.seekg(0);
  if (size > 0 && !in.read(out.data(), size)) {
    throw Error(ErrorCode::kWeights,
                std::string("cannot read ") + what + " '" + path.string() + "'");
  }
  return out;
}

bool bitwise_equal(const DecodedTensor& a, const DecodedTensor& b) {
  return a.dtype == b.dtype && a.shape == b.shape && a.numeric == b.numeric &&
         a.values.size() == b.values.size() &&
         (a.values.empty() ||
          std::memcmp(a.values.data(), b.values.data(), a.values.size() * sizeof(float)) == 0);
}

void add_tensor(WeightFile& out, const fs::path& file, const std::string& name, DecodedTensor&& t) {
  if (!t.numeric) {
    out.skipped.push_back(name + " (" + dtype_name(t.dtype) + ")");
    return;
  }
  if (out.tensors.count(name)) corrupt(file, name, "the name occurs twice");
  out.dtypes[name] = dtype_name(t.dtype);
  out.tensors[name] = FloatTensor{std::move(t.shape), std::move(t.values)};
}

// Const nodes of a GraphDef into `out`. A name held with different values by several
// functions is qualified as "<function>/<name>" so that no value is silently dropped.
void read_graph_consts(std::string_view graph, const fs::path& file, WeightFile& out) {
  std::vector<ConstNode> nodes;
  try {
    nodes = find_graph_consts(graph);
  } catch (const wire::WireError& e) {
    corrupt(file, "", std::string("malformed GraphDef (") + e.what() + ")");
  }
  std::vector<DecodedTensor> decoded(nodes.size());
  std::map<std::string, std::vector<size_t>> by_name;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::string label =
        nodes[i].function.empty() ? nodes[i].name : nodes[i].function + "/" + nodes[i].name;
    try {
      decoded[i] = parse_tensor_proto(nodes[i].tensor);
    } catch (const wire::WireError& e) {
      corrupt(file, label, std::string("malformed TensorProto (") + e.what() + ")");
    } catch (const std::invalid_argument& e) {
      corrupt(file, label, e.what());
    }
    by_name[nodes[i].name].push_back(i);
  }
  for (auto& [name, idx] : by_name) {
    bool same = true;
    for (size_t k = 1; k < idx.size(); ++k)
      same = same && bitwise_equal(decoded[idx[0]], decoded[idx[k]]);
    if (same) {
      add_tensor(out, file, name, std::move(decoded[idx[0]]));
      continue;
    }
    for (size_t i : idx) {
      const std::string qualified =
          nodes[i].function.empty() ? name : nodes[i].function + "/" + name;
      add_tensor(out, file, qualified, std::move(decoded[i]));
    }
  }
}

const std::regex& data_file_pattern() {
  static const std::regex kPattern(R"((.*)\.data-([0-9]{5})-of-([0-9]{5})$)");
  return kPattern;
}

std::string shard_suffix(int shard, int num_shards) {
  char buf[48];
  std::snprintf(buf, sizeof buf, ".data-%05d-of-%05d", shard, num_shards);
  return buf;
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

bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// --- TF.js -------------------------------------------------------------------------------

struct TfjsEntryLayout {
  size_t element_bytes = 0;  // bytes per stored element (0 for strings)
  bool is_string = false;
};

fs::path shard_path(const fs::path& json_path, const std::string& rel) {
  if (rel.empty()) corrupt(json_path, "", "a shard path is empty");
  if (rel.find("://") != std::string::npos) {
    throw Error(ErrorCode::kWeights, "TF.js manifest '" + json_path.string() + "' refers to '" +
                                         rel + "'; download the shards beside the json file first");
  }
  const fs::path p(rel);
  if (p.is_absolute()) corrupt(json_path, "", "shard path '" + rel + "' is absolute");
  for (const auto& part : p) {
    if (part == "..") corrupt(json_path, "", "shard path '" + rel + "' leaves the json's folder");
  }
  return json_path.parent_path() / p;
}

double member_number(const json::Value& obj, const char* key, const fs::path& file,
                     const std::string& tensor) {
  const json::Value* v = obj.find(key);
  if (!v || !v->is_number())
    corrupt(file, tensor, std::string("quantization lacks a numeric '") + key + "'");
  return v->number();
}

void read_tfjs_group(const json::Value& group, size_t index, const fs::path& json_path,
                     WeightFile& out) {
  const std::string where = "weight group " + std::to_string(index);
  if (!group.is_object()) corrupt(json_path, "", where + " is not an object");
  const json::Value* paths = group.find("paths");
  const json::Value* weights = group.find("weights");
  if (!paths || !paths->is_array()) corrupt(json_path, "", where + " has no 'paths' array");
  if (!weights || !weights->is_array()) corrupt(json_path, "", where + " has no 'weights' array");
  std::string data;
  std::string shard_names;
  for (const json::Value& p : paths->array()) {
    if (!p.is_string()) corrupt(json_path, "", where + " has a path that is not a string");
    const fs::path shard = shard_path(json_path, p.string());
    shard_names += (shard_names.empty() ? "" : ", ") + shard.filename().string();
    std::error_code ec;
    if (!fs::is_regular_file(shard, ec)) {
      throw Error(ErrorCode::kWeights, "TF.js shard '" + shard.string() + "' listed in '" +
                                           json_path.string() + "' is missing");
    }
    data += read_bytes(shard, "TF.js shard");
  }
  size_t offset = 0;
  for (const json::Value& w : weights->array()) {
    if (!w.is_object()) corrupt(json_path, "", where + " has an entry that is not an object");
    const json::Value* name_v = w.find("name");
    if (!name_v || !name_v->is_string())
      corrupt(json_path, "", where + " has an entry without a name");
    const std::string& name = name_v->string();
    const json::Value* shape_v = w.find("shape");
    const json::Value* dtype_v = w.find("dtype");
    if (!shape_v || !shape_v->is_array()) corrupt(json_path, name, "no 'shape' array");
    if (!dtype_v || !dtype_v->is_string()) corrupt(json_path, name, "no 'dtype' string");
    std::vector<int64_t> shape;
    for (const json::Value& d : shape_v->array()) {
      if (!d.is_number() || d.number() < 0 || d.number() != std::floor(d.number()) ||
          d.number() > 9.0e15) {
        corrupt(json_path, name, "shape holds a value that is not a non-negative integer");
      }
      shape.push_back(static_cast<int64_t>(d.number()));
    }
    int64_t n = 0;
    try {
      n = checked_num_elements(shape);
    } catch (const std::invalid_argument& e) {
      corrupt(json_path, name, e.what());
    }
    const std::string& dtype = dtype_v->string();
    const json::Value* quant = w.find("quantization");
    std::string stored = dtype;  // the element type in the shard
    double scale = 1, min = 0;
    bool affine = false;
    if (quant) {
      if (!quant->is_object()) corrupt(json_path, name, "'quantization' is not an object");
      const json::Value* qd = quant->find("dtype");
      if (!qd || !qd->is_string()) corrupt(json_path, name, "quantization lacks a 'dtype'");
      stored = qd->string();
      if (stored == "uint8" || stored == "uint16") {
        scale = member_number(*quant, "scale", json_path, name);
        min = member_number(*quant, "min", json_path, name);
        affine = true;
      } else if (stored != "float16") {
        corrupt(json_path, name, "unknown quantization dtype '" + stored + "'");
      }
      if (dtype != "float32" && dtype != "int32") {
        corrupt(json_path, name, "quantized entries must be float32 or int32, not '" + dtype + "'");
      }
    }
    TfjsEntryLayout layout;
    if (stored == "float32" || stored == "int32") {
      layout.element_bytes = 4;
    } else if (stored == "uint16" || stored == "float16") {
      layout.element_bytes = 2;
    } else if (stored == "uint8" || stored == "bool") {
      layout.element_bytes = 1;
    } else if (stored == "complex64") {
      layout.element_bytes = 8;
    } else if (stored == "string") {
      layout.is_string = true;
    } else {
      corrupt(json_path, name, "unknown dtype '" + stored + "'");
    }
    const size_t left = data.size() - offset;
    if (layout.is_string) {
      // ref: tfjs-core/src/io/io_utils.ts (each string: 4-byte little-endian length, bytes)
      for (int64_t i = 0; i < n; ++i) {
        if (data.size() - offset < 4) corrupt(json_path, name, "string entry runs past the shards");
        const uint32_t len = wire::load_fixed32(data.data() + offset);
        offset += 4;
        if (len > data.size() - offset)
          corrupt(json_path, name, "string entry runs past the shards");
        offset += len;
      }
      out.skipped.push_back(name + " (string)");
      continue;
    }
    const size_t bytes = static_cast<size_t>(n) * layout.element_bytes;
    if (bytes > left) {
      corrupt(json_path, name,
              "needs bytes [" + std::to_string(offset) + ", " + std::to_string(offset + bytes) +
                  ") but the shards of " + where + " (" + shard_names + ") hold " +
                  std::to_string(data.size()) + " bytes");
    }
    const std::string_view raw(data.data() + offset, bytes);
    offset += bytes;
    if (stored == "complex64") {
      out.skipped.push_back(name + " (complex64)");
      continue;
    }
    std::vector<float> values(static_cast<size_t>(n));
    // ref: tfjs-core/src/io/io_utils.ts decodeWeights (q * scale + min; int32 rounds)
    if (affine) {
      for (int64_t i = 0; i < n; ++i) {
        const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
        const size_t k = static_cast<size_t>(i);
        const double q = stored == "uint8" ? static_cast<double>(p[k])
                                           : static_cast<double>(p[2 * k] | (p[2 * k + 1] << 8));
        double v = q * scale + min;
        if (dtype == "int32") v = std::round(v);
        values[static_cast<size_t>(i)] = static_cast<float>(v);
      }
    } else if (stored == "float16") {
      for (int64_t i = 0; i < n; ++i) {
        const auto* p = reinterpret_cast<const unsigned char*>(raw.data() + 2 * i);
        const float v = half_to_float(static_cast<uint16_t>(p[0] | (p[1] << 8)));
        values[static_cast<size_t>(i)] = dtype == "int32" ? std::round(v) : v;
      }
    } else {
      const int tf = stored == "float32" ? static_cast<int>(TfDtype::kFloat)
                     : stored == "int32" ? static_cast<int>(TfDtype::kInt32)
                                         : static_cast<int>(TfDtype::kBool);
      values = convert_to_float(tf, raw);
    }
    if (out.tensors.count(name)) corrupt(json_path, name, "the name occurs twice in the manifest");
    out.dtypes[name] = quant ? stored + "-quantized " + dtype : dtype;
    out.tensors[name] = FloatTensor{std::move(shape), std::move(values)};
  }
  if (offset != data.size()) {
    corrupt(json_path, "",
            "the shards of " + where + " (" + shard_names + ") hold " +
                std::to_string(data.size()) + " bytes but its manifest describes " +
                std::to_string(offset));
  }
}

}  // namespace

std::string format_name(WeightFormat format) {
  switch (format) {
    case WeightFormat::kTfjs:
      return "tfjs";
    case WeightFormat::kFrozenGraph:
      return "frozen-graph";
    case WeightFormat::kSavedModel:
      return "saved-model";
    case WeightFormat::kCheckpoint:
      return "checkpoint";
  }
  return "unknown";
}

fs::path checkpoint_prefix(const fs::path& path) {
  const std::string s = path.string();
  std::error_code ec;
  if (has_suffix(s, ".index")) return fs::path(s.substr(0, s.size() - 6));
  std::smatch m;
  if (std::regex_match(s, m, data_file_pattern())) return fs::path(m[1].str());
  if (fs::is_directory(path, ec)) {
    const fs::path state = path / "checkpoint";
    if (fs::is_regular_file(state, ec)) {
      // ref: tensorflow/python/training/checkpoint_management.py (CheckpointState text proto)
      static const std::regex kLine(R"(^\s*model_checkpoint_path\s*:\s*"([^"]*)\"\s*$)");
      std::istringstream lines(read_bytes(state, "checkpoint state file"));
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

WeightFormat detect_weight_format(const fs::path& src) {
  std::error_code ec;
  const std::string s = src.string();
  if (fs::is_directory(src, ec)) {
    if (fs::is_regular_file(src / "saved_model.pb", ec)) return WeightFormat::kSavedModel;
    if (fs::is_regular_file(src / "model.json", ec)) return WeightFormat::kTfjs;
    try {
      checkpoint_prefix(src);
      return WeightFormat::kCheckpoint;
    } catch (const Error&) {
      for (const auto& e : fs::directory_iterator(src, ec)) {
        if (e.path().extension() == ".index") throw;
      }
      throw Error(ErrorCode::kWeights,
                  "folder '" + s +
                      "' holds no weights: expected saved_model.pb, model.json, or "
                      "a checkpoint (.index + .data files)");
    }
  }
  if (fs::is_regular_file(src, ec)) {
    const std::string ext = util::to_lower(src.extension().string());
    if (ext == ".json") return WeightFormat::kTfjs;
    if (ext == ".pb") {
      if (src.filename() == "saved_model.pb") return WeightFormat::kSavedModel;
      std::ifstream in(src, std::ios::binary);
      std::string head(16, '\0');
      in.read(head.data(), static_cast<std::streamsize>(head.size()));
      head.resize(static_cast<size_t>(in.gcount()));
      return looks_like_saved_model(head) ? WeightFormat::kSavedModel : WeightFormat::kFrozenGraph;
    }
    if (ext == ".index" || std::regex_match(s, data_file_pattern()))
      return WeightFormat::kCheckpoint;
    throw Error(ErrorCode::kWeights, "cannot tell the weight format of '" + s +
                                         "': expected .json (TF.js), .pb (GraphDef or "
                                         "SavedModel), or a checkpoint .index");
  }
  if (fs::is_regular_file(s + ".index", ec)) return WeightFormat::kCheckpoint;
  throw Error(ErrorCode::kWeights, "weights '" + s + "' not found");
}

WeightFile read_weight_file(const fs::path& src) {
  switch (detect_weight_format(src)) {
    case WeightFormat::kTfjs:
      return read_tfjs(fs::is_directory(src) ? src / "model.json" : src);
    case WeightFormat::kFrozenGraph:
      return read_frozen_graph(src);
    case WeightFormat::kSavedModel:
      return read_saved_model(fs::is_directory(src) ? src : src.parent_path());
    case WeightFormat::kCheckpoint:
      return read_checkpoint(src);
  }
  throw Error(ErrorCode::kInternal, "unhandled weight format");
}

NamedTensors read_weights(const fs::path& src) { return read_weight_file(src).tensors; }

WeightFile read_frozen_graph(const fs::path& pb_path) {
  WeightFile out;
  out.format = WeightFormat::kFrozenGraph;
  out.source = pb_path;
  const std::string bytes = read_bytes(pb_path, "GraphDef file");
  if (looks_like_saved_model(bytes)) {
    std::string_view graph;
    try {
      graph = saved_model_graph(bytes);
    } catch (const wire::WireError& e) {
      corrupt(pb_path, "", std::string("malformed SavedModel (") + e.what() + ")");
    }
    out.format = WeightFormat::kSavedModel;
    read_graph_consts(graph, pb_path, out);
    return out;
  }
  read_graph_consts(bytes, pb_path, out);
  return out;
}

WeightFile read_saved_model(const fs::path& dir) {
  WeightFile out;
  out.format = WeightFormat::kSavedModel;
  out.source = dir;
  const fs::path pb = dir / "saved_model.pb";
  const std::string bytes = read_bytes(pb, "SavedModel file");
  std::string_view graph;
  try {
    graph = saved_model_graph(bytes);
  } catch (const wire::WireError& e) {
    corrupt(pb, "", std::string("malformed SavedModel (") + e.what() + ")");
  }
  read_graph_consts(graph, pb, out);
  const fs::path variables = dir / "variables" / "variables";
  std::error_code ec;
  if (fs::is_regular_file(variables.string() + ".index", ec)) read_bundle(variables, out);
  return out;
}

WeightFile read_checkpoint(const fs::path& path) {
  WeightFile out;
  out.format = WeightFormat::kCheckpoint;
  const fs::path prefix = checkpoint_prefix(path);
  out.source = prefix;
  read_bundle(prefix, out);
  return out;
}

WeightFile read_tfjs(const fs::path& json_path) {
  WeightFile out;
  out.format = WeightFormat::kTfjs;
  out.source = json_path;
  const std::string text = read_bytes(json_path, "TF.js manifest");
  json::Value doc;
  try {
    doc = json::parse(text);
  } catch (const std::invalid_argument& e) {
    corrupt(json_path, "", std::string("not valid JSON (") + e.what() + ")");
  }
  const json::Value* manifest = &doc;
  if (doc.is_object()) {
    manifest = doc.find("weightsManifest");
    if (!manifest) {
      throw Error(ErrorCode::kWeights,
                  "'" + json_path.string() + "' has no 'weightsManifest'; it is not a TF.js model");
    }
  }
  if (!manifest->is_array()) corrupt(json_path, "", "the weights manifest is not an array");
  for (size_t g = 0; g < manifest->array().size(); ++g) {
    read_tfjs_group(manifest->array()[g], g, json_path, out);
  }
  return out;
}

}  // namespace msinet::weights
