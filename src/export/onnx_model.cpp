#include "onnx_model.h"

#include <cstring>
#include <exception>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "msinet/util/error.h"
#include "msinet/weights/tf_dtype.h"
#include "network_walk.h"

namespace msinet::exporter {
namespace {

using model::kLayers;
using model::Pool;
using DataType = onnx::TensorProto_DataType;

constexpr int kOpset = 13;

class OnnxBuilder final : public NetworkBuilder {
 public:
  OnnxBuilder(onnx::GraphProto& graph, const weights::NamedTensors& w, const OnnxOptions& o)
      : graph_(graph), weights_(w), options_(o) {}

  // A node named after its output `base` (made unique), with attributes added by the caller.
  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::string& base) {
    onnx::NodeProto& n = *graph_.add_node();
    const std::string name = unique(base);
    n.set_op_type(op);
    n.set_name(name);
    for (const std::string& in : inputs) n.add_input(in);
    n.add_output(name);
    return n;
  }

  static void ints(onnx::NodeProto& n, const std::string& key, const std::vector<int64_t>& v) {
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name(key);
    a.set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a.add_ints(x);
  }
  static void integer(onnx::NodeProto& n, const std::string& key, int64_t v) {
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name(key);
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(v);
  }
  static void text(onnx::NodeProto& n, const std::string& key, const std::string& v) {
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name(key);
    a.set_type(onnx::AttributeProto::STRING);
    a.set_s(v);
  }

  std::string initializer(const std::string& name, const std::vector<int64_t>& dims,
                          const std::vector<float>& values, bool compute_type) {
    onnx::TensorProto& t = *graph_.add_initializer();
    t.set_name(name);
    for (int64_t d : dims) t.add_dims(d);
    if (compute_type && options_.fp16) {
      t.set_data_type(onnx::TensorProto::FLOAT16);
      std::string raw(values.size() * 2, '\0');
      for (size_t i = 0; i < values.size(); ++i) {
        const uint16_t h = weights::float_to_half(values[i]);
        raw[2 * i] = static_cast<char>(h & 0xFF);
        raw[2 * i + 1] = static_cast<char>(h >> 8);
      }
      t.set_raw_data(raw);
    } else {
      t.set_data_type(onnx::TensorProto::FLOAT);
      t.set_raw_data(
          std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
    }
    return name;
  }

  std::string int64_initializer(const std::string& base, const std::vector<int64_t>& values) {
    onnx::TensorProto& t = *graph_.add_initializer();
    const std::string name = unique(base);
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) t.add_int64_data(v);
    return name;
  }

  std::string weight(const std::string& name) {
    const auto it = weights_.find(name);
    if (it == weights_.end()) {
      throw Error(ErrorCode::kInternal, "export: no weight tensor '" + name + "'");
    }
    return initializer(name, it->second.shape, it->second.values, /*compute_type=*/true);
  }

  std::string conv(size_t index, const std::string& x) override {
    const model::Layer& l = kLayers[index];
    const std::string module = model::module_path(l);
    const int64_t pad = l.dilation * (l.kernel - 1) / 2;
    onnx::NodeProto& c =
        node("Conv", {x, weight(module + ".weight"), weight(module + ".bias")}, module + ".conv");
    ints(c, "dilations", {l.dilation, l.dilation});
    ints(c, "kernel_shape", {l.kernel, l.kernel});
    ints(c, "pads", {pad, pad, pad, pad});
    ints(c, "strides", {1, 1});
    if (!l.relu) return c.output(0);
    return node("Relu", {c.output(0)}, module + ".relu").output(0);
  }

  std::string max_pool(Pool pool, const std::string& x) override {
    const bool halve = pool == Pool::kStride2;
    onnx::NodeProto& p = node("MaxPool", {x}, "max_pool");
    ints(p, "kernel_shape", {2, 2});
    ints(p, "strides", {halve ? 2 : 1, halve ? 2 : 1});
    // TF "SAME" for a 2x2 window at stride 1 pads one cell after (bottom, right) only.
    ints(p, "pads", halve ? std::vector<int64_t>{0, 0, 0, 0} : std::vector<int64_t>{0, 0, 1, 1});
    return p.output(0);
  }

  std::string concat(const std::vector<std::string>& xs) override {
    onnx::NodeProto& c = node("Concat", xs, "concat");
    integer(c, "axis", 1);
    return c.output(0);
  }

  std::string spatial_mean(const std::string& x) override {
    onnx::NodeProto& m = node("ReduceMean", {x}, "mean");
    ints(m, "axes", {2, 3});
    integer(m, "keepdims", 1);
    return m.output(0);
  }

  // The int64 shape `leading` + [height, width] of `like`, whose size is the input's divided by
  // `divisor`: a constant when the input size is fixed, else read from `like` at run time.
  std::string spatial_shape(const std::string& base, std::vector<int64_t> leading,
                            const std::string& like, int64_t divisor) {
    if (options_.height > 0) {
      leading.push_back(options_.height / divisor);
      leading.push_back(options_.width / divisor);
      return int64_initializer(base, leading);
    }
    const std::string full = node("Shape", {like}, base + "_of").output(0);
    const std::string hw =
        node("Slice",
             {full, int64_initializer("slice_start", {2}), int64_initializer("slice_end", {4})},
             base + "_size")
            .output(0);
    onnx::NodeProto& c = node("Concat", {int64_initializer(base + "_leading", leading), hw}, base);
    integer(c, "axis", 0);
    return c.output(0);
  }

  // Expand to [1, channels, H/8, W/8]: the full target shape, which OpenCV DNN (4.6) needs
  // (it does not broadcast Expand's shape argument both ways, as ONNX allows).
  std::string broadcast_spatial(const std::string& x, int64_t channels,
                                const std::string& like) override {
    const std::string shape =
        spatial_shape("broadcast_shape", {1, channels}, like, model::input_multiple());
    return node("Expand", {x, shape}, "global_branch").output(0);
  }

  std::string upsample2(const std::string& x) override {
    if (scales_.empty()) scales_ = initializer("upsample_scales", {4}, {1, 1, 2, 2}, false);
    onnx::NodeProto& r = node("Resize", {x, "", scales_}, "upsample");
    text(r, "coordinate_transformation_mode", "asymmetric");
    text(r, "mode", "linear");
    return r.output(0);
  }

  std::string unique(const std::string& base) {
    int& count = counters_[base];
    const std::string name = count == 0 ? base : base + "_" + std::to_string(count);
    ++count;
    return name;
  }

 private:
  onnx::GraphProto& graph_;
  const weights::NamedTensors& weights_;
  const OnnxOptions& options_;
  std::map<std::string, int> counters_;
  std::string scales_;
};

void set_tensor_type(onnx::ValueInfoProto& v, const std::string& name,
                     const std::vector<int64_t>& dims, const std::vector<std::string>& params) {
  v.set_name(name);
  onnx::TypeProto_Tensor& t = *v.mutable_type()->mutable_tensor_type();
  t.set_elem_type(onnx::TensorProto::FLOAT);
  for (size_t i = 0; i < dims.size(); ++i) {
    onnx::TensorShapeProto_Dimension& d = *t.mutable_shape()->add_dim();
    if (dims[i] > 0) {
      d.set_dim_value(dims[i]);
    } else {
      d.set_dim_param(params[i]);
    }
  }
}

std::vector<int64_t> with_channels(bool nhwc, int64_t c, int64_t h, int64_t w) {
  return nhwc ? std::vector<int64_t>{-1, h, w, c} : std::vector<int64_t>{-1, c, h, w};
}

std::vector<std::string> dim_names(bool nhwc) {
  return nhwc ? std::vector<std::string>{"batch", "height", "width", "channels"}
              : std::vector<std::string>{"batch", "channels", "height", "width"};
}

}  // namespace

std::string onnx_model_bytes(const weights::NamedTensors& native_weights,
                             const OnnxOptions& options) {
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("msinet");
  model.set_doc_string("MSI-Net visual saliency: RGB input 0..255, saliency map in [0, 1]");
  onnx::OperatorSetIdProto& opset = *model.add_opset_import();
  opset.set_domain("");
  opset.set_version(kOpset);
  for (const auto& [key, value] : options.metadata) {
    onnx::StringStringEntryProto& m = *model.add_metadata_props();
    m.set_key(key);
    m.set_value(value);
  }
  onnx::GraphProto& graph = *model.mutable_graph();
  graph.set_name("msinet");
  const int64_t h = options.height > 0 ? options.height : -1;
  const int64_t w = options.width > 0 ? options.width : -1;
  set_tensor_type(*graph.add_input(), kOnnxInput, with_channels(options.nhwc, 3, h, w),
                  dim_names(options.nhwc));
  set_tensor_type(*graph.add_output(), kOnnxOutput, with_channels(options.nhwc, 1, h, w),
                  dim_names(options.nhwc));

  OnnxBuilder b(graph, native_weights, options);
  std::string x = kOnnxInput;
  if (options.nhwc) {
    onnx::NodeProto& t = b.node("Transpose", {x}, "input_nchw");
    OnnxBuilder::ints(t, "perm", {0, 3, 1, 2});
    x = t.output(0);
  }
  // ref: saliency/model.py _encoder (the Caffe BGR means, subtracted from RGB on purpose)
  const std::string mean =
      b.initializer("imagenet_mean", {1, 3, 1, 1}, {103.939f, 116.779f, 123.68f}, false);
  x = b.node("Sub", {x, mean}, "centred").output(0);
  if (options.fp16) {
    onnx::NodeProto& c = b.node("Cast", {x}, "centred_fp16");
    OnnxBuilder::integer(c, "to", onnx::TensorProto::FLOAT16);
    x = c.output(0);
  }
  std::string raw = walk_network(b, x);
  if (options.fp16) {
    onnx::NodeProto& c = b.node("Cast", {raw}, "raw_fp32");
    OnnxBuilder::integer(c, "to", onnx::TensorProto::FLOAT);
    raw = c.output(0);
  }
  // ref: saliency/model.py _normalize
  onnx::NodeProto& lo = b.node("ReduceMin", {raw}, "map_min");
  OnnxBuilder::ints(lo, "axes", {1, 2, 3});
  OnnxBuilder::integer(lo, "keepdims", 1);
  const std::string shifted = b.node("Sub", {raw, lo.output(0)}, "shifted").output(0);
  onnx::NodeProto& hi = b.node("ReduceMax", {shifted}, "map_max");
  OnnxBuilder::ints(hi, "axes", {1, 2, 3});
  OnnxBuilder::integer(hi, "keepdims", 1);
  const std::string eps = b.initializer("epsilon", {}, {1e-7f}, false);
  std::string denominator = b.node("Add", {hi.output(0), eps}, "denominator").output(0);
  // The per-image denominator [N, 1, 1, 1] is expanded to the map's shape first: the division
  // is the same, and OpenCV DNN (4.6) cannot broadcast a Div.
  const std::string map_shape = b.spatial_shape("map_shape", {1, 1}, shifted, 1);
  denominator = b.node("Expand", {denominator, map_shape}, "denominator_map").output(0);
  onnx::NodeProto& out =
      b.node("Div", {shifted, denominator}, options.nhwc ? "output_nchw" : kOnnxOutput);
  if (options.nhwc) {
    onnx::NodeProto& t = b.node("Transpose", {out.output(0)}, kOnnxOutput);
    OnnxBuilder::ints(t, "perm", {0, 2, 3, 1});
  }

  try {
    onnx::checker::check_model(model);
    onnx::ModelProto inferred = model;
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(true, 1, false));
    const onnx::TensorShapeProto& shape = inferred.graph().output(0).type().tensor_type().shape();
    const std::vector<int64_t> expected = with_channels(options.nhwc, 1, h, w);
    bool ok = shape.dim_size() == 4;
    for (int i = 0; ok && i < 4; ++i) {
      const auto& d = shape.dim(i);
      ok = expected[i] > 0 ? d.dim_value() == expected[i] : !d.has_dim_value();
    }
    if (!ok) throw std::runtime_error("inferred output shape " + shape.DebugString());
  } catch (const std::exception& e) {
    throw Error(ErrorCode::kInternal,
                std::string("export: the ONNX model failed the ONNX checks: ") + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    throw Error(ErrorCode::kInternal, "export: the ONNX model could not be serialised");
  }
  return bytes;
}

}  // namespace msinet::exporter
