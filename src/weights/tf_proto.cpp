#include "msinet/weights/tf_proto.h"

#include <cstring>
#include <stdexcept>

#include "msinet/weights/proto_wire.h"
#include "msinet/weights/tf_dtype.h"

namespace msinet::weights {
namespace {

using wire::Reader;
using wire::WireError;
using wire::WireType;

void expect(WireType actual, WireType wanted, const char* field) {
  if (actual != wanted) throw WireError(std::string("field ") + field + " has the wrong wire type");
}

int to_int(uint64_t v, const char* field) {
  const auto s = static_cast<int64_t>(v);
  if (s < INT32_MIN || s > INT32_MAX) throw WireError(std::string(field) + " out of range");
  return static_cast<int>(s);
}

// Appends a repeated varint field, packed or not.
void read_varints(Reader& r, WireType type, std::vector<uint64_t>& out) {
  if (type == WireType::kVarint) {
    out.push_back(r.varint());
  } else if (type == WireType::kLengthDelimited) {
    std::string_view packed = r.bytes();
    while (!packed.empty()) out.push_back(wire::read_varint(packed));
  } else {
    throw WireError("repeated integer field has the wrong wire type");
  }
}

template <typename T, size_t kSize>
void read_fixed(Reader& r, WireType type, std::vector<T>& out) {
  constexpr WireType kScalar = kSize == 4 ? WireType::kFixed32 : WireType::kFixed64;
  auto load = [](const char* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
  };
  if (type == kScalar) {
    char buf[8];
    if (kSize == 4) {
      const uint32_t u = r.fixed32();
      std::memcpy(buf, &u, 4);
    } else {
      const uint64_t u = r.fixed64();
      std::memcpy(buf, &u, 8);
    }
    out.push_back(load(buf));
  } else if (type == WireType::kLengthDelimited) {
    std::string_view packed = r.bytes();
    if (packed.size() % kSize != 0) throw WireError("packed fixed-width field has a partial value");
    for (size_t i = 0; i < packed.size(); i += kSize) out.push_back(load(packed.data() + i));
  } else {
    throw WireError("repeated fixed-width field has the wrong wire type");
  }
}

// Fills `n` elements from `count` typed values the TensorFlow way.
// ref: tensorflow/core/framework/tensor.cc FromProtoField
template <typename Convert>
std::vector<float> fill(int64_t n, size_t count, Convert convert) {
  if (static_cast<int64_t>(count) > n) {
    throw std::invalid_argument(std::to_string(count) + " values for " + std::to_string(n) +
                                " elements");
  }
  std::vector<float> out(static_cast<size_t>(n), 0.0f);
  for (size_t i = 0; i < count; ++i) out[i] = convert(i);
  if (count > 0) {
    for (size_t i = count; i < out.size(); ++i) out[i] = out[count - 1];
  }
  return out;
}

}  // namespace

std::vector<int64_t> parse_tensor_shape(std::string_view message) {
  std::vector<int64_t> shape;
  Reader r(message);
  uint32_t field;
  WireType type;
  while (r.next(field, type)) {
    if (field == 2) {
      expect(type, WireType::kLengthDelimited, "TensorShapeProto.dim");
      Reader dim(r.bytes());
      int64_t size = 0;
      while (dim.next(field, type)) {
        if (field == 1) {
          expect(type, WireType::kVarint, "Dim.size");
          size = static_cast<int64_t>(dim.varint());
        } else {
          dim.skip(type);
        }
      }
      if (size < 0) throw std::invalid_argument("shape has an unknown dimension");
      shape.push_back(size);
    } else if (field == 3) {
      expect(type, WireType::kVarint, "TensorShapeProto.unknown_rank");
      if (r.varint() != 0) throw std::invalid_argument("shape has an unknown rank");
    } else {
      r.skip(type);
    }
  }
  return shape;
}

DecodedTensor parse_tensor_proto(std::string_view message) {
  DecodedTensor t;
  std::string_view content;
  std::vector<float> float_val;
  std::vector<double> double_val;
  std::vector<uint64_t> int_val, int64_val, half_val, bool_val, uint32_val, uint64_val;
  size_t string_count = 0;
  Reader r(message);
  uint32_t field;
  WireType type;
  while (r.next(field, type)) {
    switch (field) {
      case 1:
        expect(type, WireType::kVarint, "TensorProto.dtype");
        t.dtype = to_int(r.varint(), "dtype");
        break;
      case 2:
        expect(type, WireType::kLengthDelimited, "TensorProto.tensor_shape");
        t.shape = parse_tensor_shape(r.bytes());
        break;
      case 4:
        expect(type, WireType::kLengthDelimited, "TensorProto.tensor_content");
        content = r.bytes();
        break;
      case 5:
        read_fixed<float, 4>(r, type, float_val);
        break;
      case 6:
        read_fixed<double, 8>(r, type, double_val);
        break;
      case 7:
        read_varints(r, type, int_val);
        break;
      case 8:
        expect(type, WireType::kLengthDelimited, "TensorProto.string_val");
        r.bytes();
        ++string_count;
        break;
      case 10:
        read_varints(r, type, int64_val);
        break;
      case 11:
        read_varints(r, type, bool_val);
        break;
      case 13:
        read_varints(r, type, half_val);
        break;
      case 16:
        read_varints(r, type, uint32_val);
        break;
      case 17:
        read_varints(r, type, uint64_val);
        break;
      default:
        r.skip(type);
    }
  }
  if (!is_known_dtype(t.dtype)) {
    throw std::invalid_argument("unknown dtype " + std::to_string(t.dtype));
  }
  const int64_t n = checked_num_elements(t.shape);
  t.numeric = is_numeric_dtype(t.dtype);
  if (!t.numeric) return t;

  const auto dtype = static_cast<TfDtype>(t.dtype);
  // Which typed field holds this dtype's values.
  const void* own = nullptr;
  switch (dtype) {
    case TfDtype::kFloat:
      own = &float_val;
      break;
    case TfDtype::kDouble:
      own = &double_val;
      break;
    case TfDtype::kInt32:
    case TfDtype::kInt16:
    case TfDtype::kInt8:
    case TfDtype::kUint8:
    case TfDtype::kUint16:
      own = &int_val;
      break;
    case TfDtype::kInt64:
      own = &int64_val;
      break;
    case TfDtype::kBool:
      own = &bool_val;
      break;
    case TfDtype::kHalf:
    case TfDtype::kBfloat16:
      own = &half_val;
      break;
    case TfDtype::kUint32:
      own = &uint32_val;
      break;
    case TfDtype::kUint64:
      own = &uint64_val;
      break;
    default:
      break;
  }
  const bool foreign =
      (own != &float_val && !float_val.empty()) || (own != &double_val && !double_val.empty()) ||
      (own != &int_val && !int_val.empty()) || (own != &int64_val && !int64_val.empty()) ||
      (own != &bool_val && !bool_val.empty()) || (own != &half_val && !half_val.empty()) ||
      (own != &uint32_val && !uint32_val.empty()) || (own != &uint64_val && !uint64_val.empty()) ||
      string_count > 0;
  if (foreign) {
    throw std::invalid_argument("holds values of another type than its dtype " +
                                dtype_name(t.dtype));
  }
  if (!content.empty()) {
    const size_t want = static_cast<size_t>(n) * dtype_size(t.dtype);
    if (content.size() != want) {
      throw std::invalid_argument("tensor_content has " + std::to_string(content.size()) +
                                  " bytes; shape " + shape_string(t.shape) + " of " +
                                  dtype_name(t.dtype) + " needs " + std::to_string(want));
    }
    const bool also_values = !float_val.empty() || !double_val.empty() || !int_val.empty() ||
                             !int64_val.empty() || !bool_val.empty() || !half_val.empty() ||
                             !uint32_val.empty() || !uint64_val.empty();
    if (also_values) throw std::invalid_argument("holds both tensor_content and typed values");
    t.values = convert_to_float(t.dtype, content);
    return t;
  }
  switch (dtype) {
    case TfDtype::kFloat:
      t.values = fill(n, float_val.size(), [&](size_t i) { return float_val[i]; });
      break;
    case TfDtype::kDouble:
      t.values =
          fill(n, double_val.size(), [&](size_t i) { return static_cast<float>(double_val[i]); });
      break;
    case TfDtype::kInt32:
    case TfDtype::kInt16:
    case TfDtype::kInt8:
      t.values = fill(n, int_val.size(), [&](size_t i) {
        return static_cast<float>(static_cast<int32_t>(static_cast<uint32_t>(int_val[i])));
      });
      break;
    case TfDtype::kUint8:
    case TfDtype::kUint16:
      t.values = fill(n, int_val.size(), [&](size_t i) {
        return static_cast<float>(static_cast<uint32_t>(int_val[i]));
      });
      break;
    case TfDtype::kInt64:
      t.values = fill(n, int64_val.size(), [&](size_t i) {
        return static_cast<float>(static_cast<int64_t>(int64_val[i]));
      });
      break;
    case TfDtype::kBool:
      t.values = fill(n, bool_val.size(), [&](size_t i) { return bool_val[i] ? 1.0f : 0.0f; });
      break;
    case TfDtype::kHalf:
      t.values = fill(n, half_val.size(),
                      [&](size_t i) { return half_to_float(static_cast<uint16_t>(half_val[i])); });
      break;
    case TfDtype::kBfloat16:
      t.values = fill(n, half_val.size(), [&](size_t i) {
        return bfloat16_to_float(static_cast<uint16_t>(half_val[i]));
      });
      break;
    case TfDtype::kUint32:
      t.values = fill(n, uint32_val.size(), [&](size_t i) {
        return static_cast<float>(static_cast<uint32_t>(uint32_val[i]));
      });
      break;
    case TfDtype::kUint64:
      t.values =
          fill(n, uint64_val.size(), [&](size_t i) { return static_cast<float>(uint64_val[i]); });
      break;
    default:
      break;
  }
  return t;
}

namespace {

// The quoted name of a node whose bytes were cut short, or "(unnamed)".
std::string partial_node_name(std::string_view partial) {
  try {
    Reader r(partial);
    uint32_t field;
    WireType type;
    while (r.next(field, type)) {
      if (field == 1 && type == WireType::kLengthDelimited)
        return "'" + std::string(r.bytes()) + "'";
      r.skip(type);
    }
  } catch (const WireError&) {
  }
  return "(unnamed)";
}

void collect_nodes(std::string_view nodes_owner, uint32_t node_field, const std::string& function,
                   std::vector<ConstNode>& out) {
  Reader r(nodes_owner);
  uint32_t field;
  WireType type;
  while (r.next(field, type)) {
    if (field != node_field) {
      r.skip(type);
      continue;
    }
    expect(type, WireType::kLengthDelimited, "NodeDef");
    std::string_view node_bytes;
    try {
      node_bytes = r.bytes();
    } catch (const WireError& e) {
      throw WireError(std::string("node ") + partial_node_name(r.remaining()) + " is cut short (" +
                      e.what() + ")");
    }
    Reader node(node_bytes);
    ConstNode c;
    c.function = function;
    std::string op;
    bool has_value = false;
    while (node.next(field, type)) {
      if (field == 1) {
        expect(type, WireType::kLengthDelimited, "NodeDef.name");
        c.name = std::string(node.bytes());
      } else if (field == 2) {
        expect(type, WireType::kLengthDelimited, "NodeDef.op");
        op = std::string(node.bytes());
      } else if (field == 5) {
        expect(type, WireType::kLengthDelimited, "NodeDef.attr");
        Reader entry(node.bytes());
        std::string_view key, value;
        while (entry.next(field, type)) {
          if (field == 1) {
            expect(type, WireType::kLengthDelimited, "attr key");
            key = entry.bytes();
          } else if (field == 2) {
            expect(type, WireType::kLengthDelimited, "attr value");
            value = entry.bytes();
          } else {
            entry.skip(type);
          }
        }
        if (key != "value") continue;
        Reader attr(value);
        while (attr.next(field, type)) {
          if (field == 8) {
            expect(type, WireType::kLengthDelimited, "AttrValue.tensor");
            c.tensor = attr.bytes();
            has_value = true;
          } else {
            attr.skip(type);
          }
        }
      } else {
        node.skip(type);
      }
    }
    if (op == "Const") {
      if (!has_value) throw WireError("Const node '" + c.name + "' has no value");
      out.push_back(std::move(c));
    }
  }
}

}  // namespace

std::vector<ConstNode> find_graph_consts(std::string_view graph_def) {
  std::vector<ConstNode> out;
  collect_nodes(graph_def, 1, "", out);
  Reader r(graph_def);
  uint32_t field;
  WireType type;
  while (r.next(field, type)) {
    if (field != 2) {
      r.skip(type);
      continue;
    }
    expect(type, WireType::kLengthDelimited, "GraphDef.library");
    Reader lib(r.bytes());
    while (lib.next(field, type)) {
      if (field != 1) {
        lib.skip(type);
        continue;
      }
      expect(type, WireType::kLengthDelimited, "FunctionDef");
      const std::string_view function = lib.bytes();
      std::string name;
      Reader f(function);
      while (f.next(field, type)) {
        if (field == 1) {
          expect(type, WireType::kLengthDelimited, "FunctionDef.signature");
          Reader sig(f.bytes());
          while (sig.next(field, type)) {
            if (field == 1) {
              expect(type, WireType::kLengthDelimited, "OpDef.name");
              name = std::string(sig.bytes());
            } else {
              sig.skip(type);
            }
          }
        } else {
          f.skip(type);
        }
      }
      collect_nodes(function, 3, name.empty() ? "<unnamed function>" : name, out);
    }
  }
  return out;
}

bool looks_like_saved_model(std::string_view pb) {
  try {
    Reader r(pb);
    uint32_t field;
    WireType type;
    if (!r.next(field, type)) return false;
    return field == 1 && type == WireType::kVarint;
  } catch (const WireError&) {
    return false;
  }
}

std::string_view saved_model_graph(std::string_view saved_model) {
  Reader r(saved_model);
  uint32_t field;
  WireType type;
  std::string_view first, served;
  bool have_first = false, have_served = false;
  while (r.next(field, type)) {
    if (field != 2) {
      r.skip(type);
      continue;
    }
    expect(type, WireType::kLengthDelimited, "SavedModel.meta_graphs");
    Reader meta(r.bytes());
    std::string_view graph;
    bool has_graph = false, serve = false;
    while (meta.next(field, type)) {
      if (field == 1) {
        expect(type, WireType::kLengthDelimited, "MetaGraphDef.meta_info_def");
        Reader info(meta.bytes());
        while (info.next(field, type)) {
          if (field == 4) {
            expect(type, WireType::kLengthDelimited, "MetaInfoDef.tags");
            if (info.bytes() == "serve") serve = true;
          } else {
            info.skip(type);
          }
        }
      } else if (field == 2) {
        expect(type, WireType::kLengthDelimited, "MetaGraphDef.graph_def");
        graph = meta.bytes();
        has_graph = true;
      } else {
        meta.skip(type);
      }
    }
    if (!has_graph) continue;
    if (!have_first) {
      first = graph;
      have_first = true;
    }
    if (serve && !have_served) {
      served = graph;
      have_served = true;
    }
  }
  if (!have_first) throw WireError("the SavedModel holds no MetaGraphDef with a graph");
  return have_served ? served : first;
}

BundleHeader parse_bundle_header(std::string_view message) {
  BundleHeader h;
  Reader r(message);
  uint32_t field;
  WireType type;
  while (r.next(field, type)) {
    if (field == 1) {
      expect(type, WireType::kVarint, "num_shards");
      h.num_shards = to_int(r.varint(), "num_shards");
    } else if (field == 2) {
      expect(type, WireType::kVarint, "endianness");
      h.endianness = to_int(r.varint(), "endianness");
    } else if (field == 3) {
      expect(type, WireType::kLengthDelimited, "version");
      Reader v(r.bytes());
      while (v.next(field, type)) {
        if (field == 1) {
          expect(type, WireType::kVarint, "VersionDef.producer");
          h.version_producer = to_int(v.varint(), "producer");
        } else {
          v.skip(type);
        }
      }
    } else {
      r.skip(type);
    }
  }
  return h;
}

BundleEntry parse_bundle_entry(std::string_view message) {
  BundleEntry e;
  Reader r(message);
  uint32_t field;
  WireType type;
  while (r.next(field, type)) {
    switch (field) {
      case 1:
        expect(type, WireType::kVarint, "dtype");
        e.dtype = to_int(r.varint(), "dtype");
        break;
      case 2:
        expect(type, WireType::kLengthDelimited, "shape");
        e.shape = parse_tensor_shape(r.bytes());
        break;
      case 3:
        expect(type, WireType::kVarint, "shard_id");
        e.shard_id = to_int(r.varint(), "shard_id");
        break;
      case 4:
        expect(type, WireType::kVarint, "offset");
        e.offset = static_cast<int64_t>(r.varint());
        break;
      case 5:
        expect(type, WireType::kVarint, "size");
        e.size = static_cast<int64_t>(r.varint());
        break;
      case 6:
        expect(type, WireType::kFixed32, "crc32c");
        e.crc32c = r.fixed32();
        e.has_crc32c = true;
        break;
      case 7:
        expect(type, WireType::kLengthDelimited, "slices");
        r.bytes();
        e.partitioned = true;
        break;
      default:
        r.skip(type);
    }
  }
  return e;
}

std::string encode_tensor_shape(const std::vector<int64_t>& shape) {
  std::string out;
  for (int64_t d : shape) {
    std::string dim;
    if (d != 0) wire::put_varint_field(dim, 1, static_cast<uint64_t>(d));
    wire::put_bytes_field(out, 2, dim);
  }
  return out;
}

std::string encode_float_tensor_proto(const std::vector<int64_t>& shape,
                                      const std::vector<float>& values) {
  std::string out;
  wire::put_varint_field(out, 1, static_cast<uint64_t>(TfDtype::kFloat));
  wire::put_bytes_field(out, 2, encode_tensor_shape(shape));
  if (values.size() == 1) {
    uint32_t bits;
    std::memcpy(&bits, values.data(), 4);
    std::string packed;
    wire::put_fixed32(packed, bits);
    wire::put_bytes_field(out, 5, packed);
  } else if (!values.empty()) {
    wire::put_bytes_field(out, 4,
                          std::string_view(reinterpret_cast<const char*>(values.data()),
                                           values.size() * sizeof(float)));
  }
  return out;
}

}  // namespace msinet::weights
