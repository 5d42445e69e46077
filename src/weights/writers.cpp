#include "msinet/weights/writers.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/weights/crc32c.h"
#include "msinet/weights/proto_wire.h"
#include "msinet/weights/tf_dtype.h"
#include "msinet/weights/tf_proto.h"

namespace msinet::weights {
namespace {

using Json = nlohmann::ordered_json;  // members in TF.js converter order

// `count` values must fill `shape` exactly.
void check_tensor(const std::string& name, const std::vector<int64_t>& shape, size_t count) {
  int64_t n = 0;
  try {
    n = checked_num_elements(shape);
  } catch (const std::invalid_argument& e) {
    throw Error(ErrorCode::kWeights, "cannot write tensor '" + name + "': " + e.what());
  }
  if (static_cast<size_t>(n) != count) {
    throw Error(ErrorCode::kWeights, "cannot write tensor '" + name + "': shape " +
                                         shape_string(shape) + " needs " + std::to_string(n) +
                                         " values, it has " + std::to_string(count));
  }
}

// A TF.js manifest is UTF-8 JSON: `text` must be valid UTF-8.
void check_utf8(const std::string& text, const std::string& what) {
  try {
    (void)Json(text).dump();
  } catch (const Json::type_error&) {
    throw Error(ErrorCode::kWeights,
                "cannot write " + what + " to a TF.js manifest: it is not valid UTF-8; rename it");
  }
}

std::string_view float_bytes(const std::vector<float>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)};
}

}  // namespace

void write_tfjs(const std::filesystem::path& json_path, const NamedTensors& tensors,
                const TfjsWriteOptions& options) {
  std::string data;
  Json entries = Json::array();
  for (const auto& [name, t] : tensors) {
    check_tensor(name, t.shape, t.values.size());
    check_utf8(name, "tensor '" + name + "'");
    Json entry;
    entry["name"] = name;
    entry["shape"] = t.shape;
    entry["dtype"] = "float32";
    if (options.quantization == TfjsQuantization::kNone) {
      data.append(float_bytes(t.values));
    } else if (options.quantization == TfjsQuantization::kFloat16) {
      for (float v : t.values) {
        const uint16_t h = float_to_half(v);
        data.push_back(static_cast<char>(h & 0xFF));
        data.push_back(static_cast<char>(h >> 8));
      }
      entry["quantization"]["dtype"] = "float16";
    } else {
      const bool u8 = options.quantization == TfjsQuantization::kUint8;
      const double levels = u8 ? 255.0 : 65535.0;
      double lo = 0, hi = 0;
      for (size_t i = 0; i < t.values.size(); ++i) {
        const double v = t.values[i];
        if (!std::isfinite(v)) {
          throw Error(ErrorCode::kWeights,
                      "cannot quantize tensor '" + name + "': it holds a non-finite value");
        }
        lo = i ? std::min(lo, v) : v;
        hi = i ? std::max(hi, v) : v;
      }
      double scale = (hi - lo) / levels;
      if (!(scale > 0)) scale = 1.0;
      for (float v : t.values) {
        const double q = std::clamp(std::round((static_cast<double>(v) - lo) / scale), 0.0, levels);
        const auto qi = static_cast<uint32_t>(q);
        data.push_back(static_cast<char>(qi & 0xFF));
        if (!u8) data.push_back(static_cast<char>(qi >> 8));
      }
      Json& quantization = entry["quantization"];
      quantization["dtype"] = u8 ? "uint8" : "uint16";
      quantization["scale"] = scale;
      quantization["min"] = lo;
    }
    entries.push_back(std::move(entry));
  }
  for (const auto& [name, t] : options.int32_tensors) {
    check_utf8(name, "tensor '" + name + "'");
    check_tensor(name, t.shape, t.values.size());
    for (int32_t v : t.values) {
      for (int byte = 0; byte < 4; ++byte) {
        data.push_back(static_cast<char>((static_cast<uint32_t>(v) >> (8 * byte)) & 0xFF));
      }
    }
    Json entry;
    entry["name"] = name;
    entry["shape"] = t.shape;
    entry["dtype"] = "int32";
    entries.push_back(std::move(entry));
  }
  const size_t shard_bytes = std::max<size_t>(options.shard_bytes, 1);
  const size_t num_shards = std::max<size_t>(1, (data.size() + shard_bytes - 1) / shard_bytes);
  const std::filesystem::path dir = json_path.parent_path();
  Json paths = Json::array();
  for (size_t i = 0; i < num_shards; ++i) {
    const std::string file = options.shard_prefix + std::to_string(i + 1) + "of" +
                             std::to_string(num_shards) + options.shard_extension;
    check_utf8(file, "shard name '" + file + "'");
    const size_t from = i * shard_bytes;
    const size_t count = std::min(shard_bytes, data.size() - std::min(from, data.size()));
    util::write_file_atomic(dir / file,
                            std::string_view(data).substr(std::min(from, data.size()), count));
    paths.push_back(file);
  }
  Json group;
  group["paths"] = std::move(paths);
  group["weights"] = std::move(entries);
  Json manifest = Json::array();
  manifest.push_back(std::move(group));
  Json doc;
  if (options.bare_manifest) {
    doc = std::move(manifest);
  } else {
    doc["format"] = "graph-model";
    doc["generatedBy"] = "msinet";
    if (!options.model_members.empty()) {
      const Json members = Json::parse(options.model_members);
      for (const auto& [key, value] : members.items()) doc[key] = value;
    }
    doc["weightsManifest"] = std::move(manifest);
  }
  util::write_file_atomic(json_path, doc.dump() + "\n");
}

void write_frozen_graph(const std::filesystem::path& pb_path, const NamedTensors& tensors) {
  std::string graph;
  for (const auto& [name, t] : tensors) {
    check_tensor(name, t.shape, t.values.size());
    std::string dtype_attr;
    wire::put_varint_field(dtype_attr, 6, static_cast<uint64_t>(TfDtype::kFloat));
    std::string value_attr;
    wire::put_bytes_field(value_attr, 8, encode_float_tensor_proto(t.shape, t.values));
    std::string node;
    // ref: tensorflow/core/framework/node_def.proto (name = 1, op = 2, attr = 5 map entries)
    wire::put_bytes_field(node, 1, name);
    wire::put_bytes_field(node, 2, "Const");
    for (const auto& [key, value] : {std::pair<std::string, std::string>{"dtype", dtype_attr},
                                     std::pair<std::string, std::string>{"value", value_attr}}) {
      std::string entry;
      wire::put_bytes_field(entry, 1, key);
      wire::put_bytes_field(entry, 2, value);
      wire::put_bytes_field(node, 5, entry);
    }
    wire::put_bytes_field(graph, 1, node);
  }
  std::string versions;
  wire::put_varint_field(versions, 1, 27);
  wire::put_bytes_field(graph, 4, versions);  // ref: graph.proto versions = 4
  util::write_file_atomic(pb_path, graph);
}

void write_checkpoint(const std::filesystem::path& prefix, const NamedTensors& tensors,
                      const TableOptions& table_options) {
  std::vector<TableEntry> entries;
  std::string header;
  wire::put_varint_field(header, 1, 1);  // num_shards
  std::string version;
  wire::put_varint_field(version, 1, 1);
  wire::put_bytes_field(header, 3, version);
  entries.push_back({"", header});
  std::string data;
  for (const auto& [name, t] : tensors) {
    check_tensor(name, t.shape, t.values.size());
    if (name.empty()) throw Error(ErrorCode::kWeights, "cannot write a tensor with an empty name");
    const std::string_view bytes = float_bytes(t.values);
    // ref: tensorflow/core/protobuf/tensor_bundle.proto BundleEntryProto
    std::string entry;
    wire::put_varint_field(entry, 1, static_cast<uint64_t>(TfDtype::kFloat));
    wire::put_bytes_field(entry, 2, encode_tensor_shape(t.shape));
    if (!data.empty()) wire::put_varint_field(entry, 4, data.size());
    if (!bytes.empty()) wire::put_varint_field(entry, 5, bytes.size());
    wire::put_fixed32_field(entry, 6, crc32c_mask(crc32c(bytes)));
    entries.push_back({name, entry});
    data.append(bytes);
  }
  util::write_file_atomic(prefix.string() + ".data-00000-of-00001", data);
  util::write_file_atomic(prefix.string() + ".index", build_table(entries, table_options));
}

}  // namespace msinet::weights
