// A TfGraph as GraphDef protocol buffers.
#include <cstring>

#include "msinet/weights/proto_wire.h"
#include "msinet/weights/tf_proto.h"
#include "tf_graph.h"

namespace msinet::exporter {
namespace {

namespace wire = weights::wire;

// ref: tensorflow/core/framework/tensor.proto (dtype = 1, tensor_shape = 2, tensor_content = 4)
std::string tensor_proto(const TfConstant& c) {
  if (c.type == TfType::kFloat) return weights::encode_float_tensor_proto(c.shape, c.floats);
  std::string out;
  wire::put_varint_field(out, 1, static_cast<uint64_t>(TfType::kInt32));
  wire::put_bytes_field(out, 2, weights::encode_tensor_shape(c.shape));
  std::string content;
  for (int32_t v : c.ints) wire::put_fixed32(content, static_cast<uint32_t>(v));
  if (!content.empty()) wire::put_bytes_field(out, 4, content);
  return out;
}

// ref: tensorflow/core/framework/attr_value.proto (list = 1 {i = 3}, s = 2, i = 3, f = 4,
// b = 5, type = 6, shape = 7, tensor = 8)
std::string attr_value(const TfAttr& a, const TfConstant* constant) {
  std::string out;
  switch (a.kind) {
    case TfAttr::Kind::kType:
      wire::put_varint_field(out, 6, static_cast<uint64_t>(a.i));
      break;
    case TfAttr::Kind::kInt:
      wire::put_varint_field(out, 3, static_cast<uint64_t>(a.i));
      break;
    case TfAttr::Kind::kFloat: {
      uint32_t bits = 0;
      std::memcpy(&bits, &a.f, sizeof bits);
      wire::put_fixed32_field(out, 4, bits);
      break;
    }
    case TfAttr::Kind::kBool:
      wire::put_varint_field(out, 5, a.b ? 1 : 0);
      break;
    case TfAttr::Kind::kString:
      wire::put_bytes_field(out, 2, a.s);
      break;
    case TfAttr::Kind::kInts: {
      std::string packed, list;
      for (int64_t v : a.ints) wire::put_varint(packed, static_cast<uint64_t>(v));
      wire::put_bytes_field(list, 3, packed);
      wire::put_bytes_field(out, 1, list);
      break;
    }
    case TfAttr::Kind::kShape:
      wire::put_bytes_field(out, 7, weights::encode_tensor_shape(a.ints));
      break;
    case TfAttr::Kind::kTensor:
      wire::put_bytes_field(out, 8, tensor_proto(*constant));
      break;
  }
  return out;
}

}  // namespace

// ref: tensorflow/core/framework/graph.proto (node = 1, versions = 4 {producer = 1}),
// node_def.proto (name = 1, op = 2, input = 3, attr = 5 map entries {key = 1, value = 2})
std::string graphdef_bytes(const TfGraph& graph) {
  std::string out;
  for (const TfNode& n : graph.nodes) {
    const auto constant = graph.constants.find(n.name);
    std::string node;
    wire::put_bytes_field(node, 1, n.name);
    wire::put_bytes_field(node, 2, n.op);
    for (const std::string& input : n.inputs) wire::put_bytes_field(node, 3, input);
    for (const auto& [key, value] : n.attrs) {
      std::string entry;
      wire::put_bytes_field(entry, 1, key);
      wire::put_bytes_field(
          entry, 2,
          attr_value(value, constant == graph.constants.end() ? nullptr : &constant->second));
      wire::put_bytes_field(node, 5, entry);
    }
    wire::put_bytes_field(out, 1, node);
  }
  std::string versions;
  wire::put_varint_field(versions, 1, static_cast<uint64_t>(graph.producer));
  wire::put_bytes_field(out, 4, versions);
  return out;
}

}  // namespace msinet::exporter
