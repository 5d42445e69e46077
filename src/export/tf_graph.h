#pragma once
// MSI-Net as a TensorFlow graph (NHWC, TF1 ops), the form of the original's frozen
// model_<dataset>_cpu.pb: Placeholder "input" [batch, height, width, 3] (RGB, 0..255), Const
// weights named "<scope>/kernel" (HWIO) and "<scope>/bias", Conv2D + BiasAdd + Relu per layer,
// and RealDiv "output" [batch, height, width, 1]. One graph, two serialisations: GraphDef
// protocol buffers (graphdef.cpp) and the JSON topology of a TF.js graph model (tfjs_model.cpp).

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "msinet/weights/float_tensor.h"

namespace msinet::exporter {

/// TensorFlow DataType numbers used here. ref: tensorflow/core/framework/types.proto
enum class TfType : int { kFloat = 1, kInt32 = 3 };

/// One AttrValue of a NodeDef. ref: tensorflow/core/framework/attr_value.proto
struct TfAttr {
  enum class Kind { kType, kInt, kFloat, kBool, kString, kInts, kShape, kTensor };
  Kind kind = Kind::kInt;
  int64_t i = 0;              ///< kInt; kType: the TfType number
  float f = 0;                ///< kFloat
  bool b = false;             ///< kBool
  std::string s;              ///< kString
  std::vector<int64_t> ints;  ///< kInts; kShape: the dimensions (-1 = unknown)

  static TfAttr type(TfType t);
  static TfAttr integer(int64_t v);
  static TfAttr real(float v);
  static TfAttr boolean(bool v);
  static TfAttr string(std::string v);
  static TfAttr list(std::vector<int64_t> v);
  static TfAttr shape(std::vector<int64_t> dims);
  static TfAttr tensor();  ///< the node's constant: TfGraph::constants[node name]
};

/// A constant: float32 or int32 values in row-major order.
struct TfConstant {
  TfType type = TfType::kFloat;
  std::vector<int64_t> shape;
  std::vector<float> floats;
  std::vector<int32_t> ints;
};

/// One NodeDef. ref: tensorflow/core/framework/node_def.proto
struct TfNode {
  std::string name;
  std::string op;
  std::vector<std::string> inputs;
  std::vector<std::pair<std::string, TfAttr>> attrs;  ///< in the order written
};

/// A whole graph: nodes in topological order, and the value of every Const node.
struct TfGraph {
  std::vector<TfNode> nodes;
  std::map<std::string, TfConstant> constants;
  int64_t producer = 27;  ///< GraphDef versions.producer (TensorFlow 1.13)
};

/// Input and output tensor names of the graph.
inline constexpr const char* kTfInput = "input";
inline constexpr const char* kTfOutput = "output";

/// The network with `tf_weights` (named "<scope>/kernel", HWIO, and "<scope>/bias", as
/// checkpoint::export_tf_weights gives them). `height` x `width` fixes the input size; 0 x 0
/// leaves it unknown (the graph computes every size from the input's shape).
TfGraph build_tf_graph(const weights::NamedTensors& tf_weights, int height, int width);

/// Serialised GraphDef (protocol buffers), every Const holding its value.
std::string graphdef_bytes(const TfGraph& graph);

}  // namespace msinet::exporter
