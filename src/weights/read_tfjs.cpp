// TF.js weights: a model.json (its weightsManifest) or a bare weights manifest, and the binary
// shards it lists.
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "msinet/util/error.h"
#include "msinet/weights/proto_wire.h"
#include "msinet/weights/readers.h"
#include "msinet/weights/tf_dtype.h"
#include "reader_util.h"

namespace msinet::weights {
namespace {

using Json = nlohmann::json;
using detail::corrupt;

constexpr size_t kMaxManifestBytes = size_t{64} << 20;  // model.json with its graph included
constexpr int kMaxDepth = 256;

struct TfjsEntryLayout {
  size_t element_bytes = 0;  // bytes per stored element (0 for strings)
  bool is_string = false;
};

// A nesting limit that the parser callback reports.
struct TooDeep {};

// nlohmann's message without its "[json.exception.<kind>.<id>] " prefix.
std::string json_message(const Json::exception& e) {
  const std::string what = e.what();
  const size_t end = what.rfind("[json.exception.", 0) == 0 ? what.find("] ") : std::string::npos;
  return end == std::string::npos ? what : what.substr(end + 2);
}

// ref: RFC 8259 (strict: no comments, no trailing commas, no text after the value)
Json parse_manifest(const std::string& text, const fs::path& json_path) {
  const Json::parser_callback_t limit_depth = [](int depth, Json::parse_event_t event, Json&) {
    if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
        depth >= kMaxDepth) {
      throw TooDeep{};
    }
    return true;
  };
  try {
    return Json::parse(text, limit_depth);
  } catch (const Json::parse_error& e) {
    corrupt(json_path, "",
            "not valid JSON at byte " + std::to_string(e.byte) + " (" + json_message(e) + ")");
  } catch (const Json::exception& e) {
    corrupt(json_path, "", "not valid JSON (" + json_message(e) + ")");
  } catch (const TooDeep&) {
    corrupt(json_path, "",
            "not valid JSON (nested deeper than " + std::to_string(kMaxDepth) + " levels)");
  }
}

// The member `key` of `obj`, or nullptr when absent or when `obj` is not an object.
const Json* member(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const std::string& string_of(const Json& v) { return v.get_ref<const std::string&>(); }

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

double member_number(const Json& obj, const char* key, const fs::path& file,
                     const std::string& tensor) {
  const Json* v = member(obj, key);
  if (!v || !v->is_number())
    corrupt(file, tensor, std::string("quantization lacks a numeric '") + key + "'");
  return v->get<double>();
}

void read_tfjs_group(const Json& group, size_t index, const fs::path& json_path, WeightFile& out) {
  const std::string where = "weight group " + std::to_string(index);
  if (!group.is_object()) corrupt(json_path, "", where + " is not an object");
  const Json* paths = member(group, "paths");
  const Json* weights = member(group, "weights");
  if (!paths || !paths->is_array()) corrupt(json_path, "", where + " has no 'paths' array");
  if (!weights || !weights->is_array()) corrupt(json_path, "", where + " has no 'weights' array");
  std::string data;
  std::string shard_names;
  for (const Json& p : *paths) {
    if (!p.is_string()) corrupt(json_path, "", where + " has a path that is not a string");
    const fs::path shard = shard_path(json_path, string_of(p));
    shard_names += (shard_names.empty() ? "" : ", ") + shard.filename().string();
    std::error_code ec;
    if (!fs::is_regular_file(shard, ec)) {
      throw Error(ErrorCode::kWeights, "TF.js shard '" + shard.string() + "' listed in '" +
                                           json_path.string() + "' is missing");
    }
    data += detail::read_bytes(shard, "TF.js shard");
  }
  size_t offset = 0;
  for (const Json& w : *weights) {
    if (!w.is_object()) corrupt(json_path, "", where + " has an entry that is not an object");
    const Json* name_v = member(w, "name");
    if (!name_v || !name_v->is_string())
      corrupt(json_path, "", where + " has an entry without a name");
    const std::string& name = string_of(*name_v);
    const Json* shape_v = member(w, "shape");
    const Json* dtype_v = member(w, "dtype");
    if (!shape_v || !shape_v->is_array()) corrupt(json_path, name, "no 'shape' array");
    if (!dtype_v || !dtype_v->is_string()) corrupt(json_path, name, "no 'dtype' string");
    std::vector<int64_t> shape;
    for (const Json& d : *shape_v) {
      const double v = d.is_number() ? d.get<double>() : -1.0;
      if (!d.is_number() || v < 0 || v != std::floor(v) || v > 9.0e15) {
        corrupt(json_path, name, "shape holds a value that is not a non-negative integer");
      }
      shape.push_back(static_cast<int64_t>(v));
    }
    int64_t n = 0;
    try {
      n = checked_num_elements(shape);
    } catch (const std::invalid_argument& e) {
      corrupt(json_path, name, e.what());
    }
    const std::string& dtype = string_of(*dtype_v);
    const Json* quant = member(w, "quantization");
    std::string stored = dtype;  // the element type in the shard
    double scale = 1, min = 0;
    bool affine = false;
    if (quant) {
      if (!quant->is_object()) corrupt(json_path, name, "'quantization' is not an object");
      const Json* qd = member(*quant, "dtype");
      if (!qd || !qd->is_string()) corrupt(json_path, name, "quantization lacks a 'dtype'");
      stored = string_of(*qd);
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

WeightFile read_tfjs(const fs::path& json_path) {
  WeightFile out;
  out.format = WeightFormat::kTfjs;
  out.source = json_path;
  const std::string text = detail::read_bytes(json_path, "TF.js manifest", kMaxManifestBytes);
  const Json doc = parse_manifest(text, json_path);
  const Json* manifest = &doc;
  if (doc.is_object()) {
    manifest = member(doc, "weightsManifest");
    if (!manifest) {
      throw Error(ErrorCode::kWeights,
                  "'" + json_path.string() + "' has no 'weightsManifest'; it is not a TF.js model");
    }
  }
  if (!manifest->is_array()) corrupt(json_path, "", "the weights manifest is not an array");
  for (size_t g = 0; g < manifest->size(); ++g) {
    read_tfjs_group((*manifest)[g], g, json_path, out);
  }
  return out;
}

}  // namespace msinet::weights
