#pragma once
// Just the TensorFlow protocol-buffer messages the weight readers need, decoded from the wire
// format: TensorProto, TensorShapeProto, GraphDef / NodeDef / FunctionDefLibrary, SavedModel /
// MetaGraphDef, BundleHeaderProto / BundleEntryProto. Parsers throw wire::WireError or
// std::invalid_argument; the readers turn those into msinet::Error naming file and tensor.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace msinet::weights {

/// A TensorProto decoded to float32 (when numeric).
struct DecodedTensor {
  int dtype = 0;               ///< TfDtype number
  std::vector<int64_t> shape;  ///< dimensions
  bool numeric = false;        ///< false for string, complex, quantized, resource, variant
  std::vector<float> values;   ///< element values (empty when not numeric)
};

/// The dimensions of a TensorShapeProto; an unknown rank or dimension is invalid_argument.
// ref: tensorflow/core/framework/tensor_shape.proto (dim = 2 {size = 1}, unknown_rank = 3)
std::vector<int64_t> parse_tensor_shape(std::string_view message);

/// Decodes a TensorProto: tensor_content, or the typed *_val field of its dtype (one value
/// fills the shape; fewer values repeat the last, as TensorFlow does). An unknown dtype, a
/// content size that does not match the shape, or values of another type are invalid_argument.
// ref: tensorflow/core/framework/tensor.proto TensorProto
DecodedTensor parse_tensor_proto(std::string_view message);

/// A Const node found in a GraphDef.
struct ConstNode {
  std::string name;         ///< NodeDef.name
  std::string function;     ///< FunctionDef signature name; empty in the top-level graph
  std::string_view tensor;  ///< the serialized TensorProto of attr "value"
};

/// Every Const node of a GraphDef: top-level nodes, then function-library node_defs.
// ref: tensorflow/core/framework/graph.proto (node = 1, library = 2),
//      tensorflow/core/framework/function.proto (function = 1; signature = 1, node_def = 3),
//      tensorflow/core/framework/node_def.proto (name = 1, op = 2, attr = 5),
//      tensorflow/core/framework/attr_value.proto (tensor = 8)
std::vector<ConstNode> find_graph_consts(std::string_view graph_def);

/// The GraphDef of a SavedModel: the first MetaGraphDef tagged "serve", else the first one.
// ref: tensorflow/core/protobuf/saved_model.proto (saved_model_schema_version = 1,
//      meta_graphs = 2), meta_graph.proto (meta_info_def = 1 {tags = 4}, graph_def = 2)
std::string_view saved_model_graph(std::string_view saved_model);

/// True when a .pb holds a SavedModel rather than a GraphDef (its field 1 is a varint).
bool looks_like_saved_model(std::string_view pb);

/// The header of a tensor bundle (the entry under the empty key).
// ref: tensorflow/core/protobuf/tensor_bundle.proto BundleHeaderProto
struct BundleHeader {
  int32_t num_shards = 0;
  int32_t endianness = 0;  ///< 0 little, 1 big
  int32_t version_producer = 0;
};

/// Metadata of one checkpointed tensor.
// ref: tensorflow/core/protobuf/tensor_bundle.proto BundleEntryProto
struct BundleEntry {
  int dtype = 0;
  std::vector<int64_t> shape;
  int32_t shard_id = 0;
  int64_t offset = 0;
  int64_t size = 0;
  bool has_crc32c = false;
  uint32_t crc32c = 0;       ///< masked CRC32C of the tensor bytes
  bool partitioned = false;  ///< has slices (not supported)
};

/// Decodes a BundleHeaderProto.
BundleHeader parse_bundle_header(std::string_view message);
/// Decodes a BundleEntryProto.
BundleEntry parse_bundle_entry(std::string_view message);

/// Encodes a float32 TensorProto: float_val for one element, tensor_content otherwise.
std::string encode_float_tensor_proto(const std::vector<int64_t>& shape,
                                      const std::vector<float>& values);
/// Encodes a TensorShapeProto.
std::string encode_tensor_shape(const std::vector<int64_t>& shape);

}  // namespace msinet::weights
