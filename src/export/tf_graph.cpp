#include "tf_graph.h"

#include "msinet/util/error.h"
#include "network_walk.h"

namespace msinet::exporter {

using model::kLayers;
using model::Pool;

TfAttr TfAttr::type(TfType t) {
  TfAttr a;
  a.kind = Kind::kType;
  a.i = static_cast<int64_t>(t);
  return a;
}
TfAttr TfAttr::integer(int64_t v) {
  TfAttr a;
  a.kind = Kind::kInt;
  a.i = v;
  return a;
}
TfAttr TfAttr::real(float v) {
  TfAttr a;
  a.kind = Kind::kFloat;
  a.f = v;
  return a;
}
TfAttr TfAttr::boolean(bool v) {
  TfAttr a;
  a.kind = Kind::kBool;
  a.b = v;
  return a;
}
TfAttr TfAttr::string(std::string v) {
  TfAttr a;
  a.kind = Kind::kString;
  a.s = std::move(v);
  return a;
}
TfAttr TfAttr::list(std::vector<int64_t> v) {
  TfAttr a;
  a.kind = Kind::kInts;
  a.ints = std::move(v);
  return a;
}
TfAttr TfAttr::shape(std::vector<int64_t> dims) {
  TfAttr a;
  a.kind = Kind::kShape;
  a.ints = std::move(dims);
  return a;
}
TfAttr TfAttr::tensor() {
  TfAttr a;
  a.kind = Kind::kTensor;
  return a;
}

namespace {

const TfAttr kFloatT = TfAttr::type(TfType::kFloat);
const TfAttr kInt32T = TfAttr::type(TfType::kInt32);

// ref: saliency/model.py (tf.layers.conv2d, max_pooling2d, concat, reduce_mean,
// resize_bilinear, _normalize); the names follow TF1's defaults for those calls.
class TfBuilder final : public NetworkBuilder {
 public:
  explicit TfBuilder(const weights::NamedTensors& w) : weights_(w) {}

  TfGraph graph;

  std::string add(const std::string& name, const std::string& op, std::vector<std::string> inputs,
                  std::vector<std::pair<std::string, TfAttr>> attrs) {
    if (!names_.emplace(name, 0).second) {
      throw Error(ErrorCode::kInternal, "export: TensorFlow node '" + name + "' added twice");
    }
    graph.nodes.push_back({name, op, std::move(inputs), std::move(attrs)});
    return name;
  }

  // A name not used yet: `base`, then `base_1`, `base_2`, ... (TF's own rule).
  std::string unique(const std::string& base) {
    auto& count = counters_[base];
    const std::string name = count == 0 ? base : base + "_" + std::to_string(count);
    ++count;
    return name;
  }

  std::string constant(const std::string& name, TfConstant value) {
    const TfType type = value.type;
    graph.constants[name] = std::move(value);
    return add(name, "Const", {}, {{"dtype", TfAttr::type(type)}, {"value", TfAttr::tensor()}});
  }

  std::string int_constant(const std::string& name, std::vector<int64_t> shape,
                           std::vector<int32_t> values) {
    TfConstant c;
    c.type = TfType::kInt32;
    c.shape = std::move(shape);
    c.ints = std::move(values);
    return constant(unique(name), std::move(c));
  }

  std::string weight(const std::string& name) {
    const auto it = weights_.find(name);
    if (it == weights_.end()) {
      throw Error(ErrorCode::kInternal, "export: no weight tensor '" + name + "'");
    }
    TfConstant c;
    c.shape = it->second.shape;
    c.floats = it->second.values;
    return constant(name, std::move(c));
  }

  std::string conv(size_t index, const std::string& x) override {
    const model::Layer& l = kLayers[index];
    const std::string scope = model::tf_scope(l);
    const std::string kernel = weight(scope + "/kernel"), bias = weight(scope + "/bias");
    // The global branch (aspp/conv1_5) reads a 1x1 map with VALID padding, as the original.
    const bool valid = l.input == model::Input::kFeatureMean;
    std::string y = add(scope + "/Conv2D", "Conv2D", {x, kernel},
                        {{"T", kFloatT},
                         {"data_format", TfAttr::string("NHWC")},
                         {"dilations", TfAttr::list({1, l.dilation, l.dilation, 1})},
                         {"padding", TfAttr::string(valid ? "VALID" : "SAME")},
                         {"strides", TfAttr::list({1, 1, 1, 1})},
                         {"use_cudnn_on_gpu", TfAttr::boolean(true)}});
    y = add(scope + "/BiasAdd", "BiasAdd", {y, bias},
            {{"T", kFloatT}, {"data_format", TfAttr::string("NHWC")}});
    if (l.relu) y = add(scope + "/Relu", "Relu", {y}, {{"T", kFloatT}});
    return y;
  }

  std::string max_pool(Pool pool, const std::string& x) override {
    const bool halve = pool == Pool::kStride2;
    return add(unique("max_pooling2d") + "/MaxPool", "MaxPool", {x},
               {{"T", kFloatT},
                {"data_format", TfAttr::string("NHWC")},
                {"ksize", TfAttr::list({1, 2, 2, 1})},
                {"padding", TfAttr::string(halve ? "VALID" : "SAME")},
                {"strides", TfAttr::list({1, halve ? 2 : 1, halve ? 2 : 1, 1})}});
  }

  std::string concat(const std::vector<std::string>& xs) override {
    const std::string name = unique("concat");
    std::vector<std::string> inputs = xs;
    inputs.push_back(int_constant(name + "/axis", {}, {3}));
    return add(name, "ConcatV2", inputs,
               {{"N", TfAttr::integer(static_cast<int64_t>(xs.size()))},
                {"T", kFloatT},
                {"Tidx", kInt32T}});
  }

  std::string spatial_mean(const std::string& x) override {
    const std::string name = unique("Mean");
    const std::string axes = int_constant(name + "/reduction_indices", {2}, {1, 2});
    return add(name, "Mean", {x, axes},
               {{"T", kFloatT}, {"Tidx", kInt32T}, {"keep_dims", TfAttr::boolean(true)}});
  }

  std::string broadcast_spatial(const std::string& x, int64_t /*channels*/,
                                const std::string& like) override {
    return resize(x, spatial_size(like), 1);
  }

  std::string upsample2(const std::string& x) override { return resize(x, spatial_size(x), 2); }

  // Height and width of `x` as an int32 vector, from its shape at run time.
  std::string spatial_size(const std::string& x) {
    const std::string shape =
        add(unique("Shape"), "Shape", {x}, {{"T", kFloatT}, {"out_type", kInt32T}});
    const std::string name = unique("strided_slice");
    const std::string begin = int_constant(name + "/stack", {1}, {1});
    const std::string end = int_constant(name + "/stack_1", {1}, {3});
    const std::string step = int_constant(name + "/stack_2", {1}, {1});
    return add(name, "StridedSlice", {shape, begin, end, step},
               {{"Index", kInt32T},
                {"T", kInt32T},
                {"begin_mask", TfAttr::integer(0)},
                {"ellipsis_mask", TfAttr::integer(0)},
                {"end_mask", TfAttr::integer(0)},
                {"new_axis_mask", TfAttr::integer(0)},
                {"shrink_axis_mask", TfAttr::integer(0)}});
  }

  // ref: saliency/model.py _upsample (tf.image.resize_bilinear, TF1 defaults)
  std::string resize(const std::string& x, const std::string& size, int factor) {
    const std::string name = unique("ResizeBilinear");
    const std::string scaled =
        add(name + "/size", "Mul", {size, int_constant(name + "/factor", {}, {factor})},
            {{"T", kInt32T}});
    return add(name, "ResizeBilinear", {x, scaled},
               {{"T", kFloatT},
                {"align_corners", TfAttr::boolean(false)},
                {"half_pixel_centers", TfAttr::boolean(false)}});
  }

 private:
  const weights::NamedTensors& weights_;
  std::map<std::string, int> names_;
  std::map<std::string, int> counters_;
};

}  // namespace

TfGraph build_tf_graph(const weights::NamedTensors& tf_weights, int height, int width) {
  TfBuilder b(tf_weights);
  const int64_t h = height > 0 ? height : -1, w = width > 0 ? width : -1;
  b.add(kTfInput, "Placeholder", {}, {{"dtype", kFloatT}, {"shape", TfAttr::shape({-1, h, w, 3})}});
  // ref: saliency/model.py _encoder (the Caffe BGR means, subtracted from RGB on purpose)
  TfConstant mean;
  mean.shape = {1, 1, 1, 3};
  mean.floats = {103.939f, 116.779f, 123.68f};
  const std::string mean_name = b.constant("imagenet_mean", std::move(mean));
  const std::string image = b.add("sub", "Sub", {kTfInput, mean_name}, {{"T", kFloatT}});
  const std::string raw = walk_network(b, image);
  // ref: saliency/model.py _normalize
  const std::string axes = b.int_constant("Min/reduction_indices", {3}, {1, 2, 3});
  const std::string lo =
      b.add("Min", "Min", {raw, axes},
            {{"T", kFloatT}, {"Tidx", kInt32T}, {"keep_dims", TfAttr::boolean(true)}});
  const std::string shifted = b.add("sub_1", "Sub", {raw, lo}, {{"T", kFloatT}});
  const std::string axes2 = b.int_constant("Max/reduction_indices", {3}, {1, 2, 3});
  const std::string hi =
      b.add("Max", "Max", {shifted, axes2},
            {{"T", kFloatT}, {"Tidx", kInt32T}, {"keep_dims", TfAttr::boolean(true)}});
  TfConstant eps;
  eps.floats = {1e-7f};
  const std::string eps_name = b.constant("add/x", std::move(eps));
  const std::string denominator = b.add("add", "Add", {eps_name, hi}, {{"T", kFloatT}});
  b.add(kTfOutput, "RealDiv", {shifted, denominator}, {{"T", kFloatT}});
  return std::move(b.graph);
}

}  // namespace msinet::exporter
