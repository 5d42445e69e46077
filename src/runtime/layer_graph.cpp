#include <ATen/Context.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <torch/torch.h>

#include <vector>

#include "executor.h"
#include "msinet/model/layers.h"
#include "msinet/model/ops.h"
#include "msinet/runtime/nhwc_ops.h"
#include "msinet/runtime/precision.h"
#include "winograd_conv.h"

namespace msinet::runtime {
namespace {

using model::Input;
using model::kLayers;
using model::Layer;
using model::Part;
using model::Pool;

// The oneDNN convolution with weights packed once and an optional fused ReLU, which LibTorch
// registers for TorchScript freezing (mkldnn_prepacked::conv2d_prepack / conv2d_run).
const c10::OperatorHandle* lookup(const char* name) {
  const auto h = c10::Dispatcher::singleton().findSchema({name, ""});
  return h ? new c10::OperatorHandle(*h) : nullptr;
}

const c10::OperatorHandle* prepack_operator() {
  static const c10::OperatorHandle* op = lookup("mkldnn_prepacked::conv2d_prepack");
  return op;
}

const c10::OperatorHandle* run_operator() {
  static const c10::OperatorHandle* op = lookup("mkldnn_prepacked::conv2d_run");
  return op;
}

// One convolution with its weights in the inference layout and precision.
struct Conv {
  torch::Tensor weight, bias;  // bias may be undefined
  int64_t padding = 0, dilation = 1;
  bool relu = true;
  c10::IValue packed;                      // mkldnn ConvOpContext for packed_shape
  std::vector<int64_t> packed_shape;       // [N, C, H, W] it was packed for
  std::shared_ptr<WinogradConv> winograd;  // set: computes this convolution instead
};

// The rows of `input` kind that feed the ASPP fusion, as (first column, channels) of its weight.
std::vector<std::pair<int64_t, int64_t>> fusion_columns(Input input) {
  std::vector<std::pair<int64_t, int64_t>> columns;
  int64_t offset = 0;
  for (const Layer& l : kLayers) {
    if (l.input != Input::kFeatures && l.input != Input::kFeatureMean) continue;
    if (l.input == input) columns.emplace_back(offset, l.out);
    offset += l.out;
  }
  return columns;
}

// The columns of a 1x1 fusion weight [out, in, 1, 1] that `columns` name, concatenated.
torch::Tensor select_columns(const torch::Tensor& weight,
                             const std::vector<std::pair<int64_t, int64_t>>& columns) {
  std::vector<torch::Tensor> parts;
  for (const auto& [first, count] : columns) parts.push_back(weight.narrow(1, first, count));
  return torch::cat(parts, /*dim=*/1);
}

// ref: saliency/model.py _encoder, _aspp, _decoder
class LayerGraph : public Executor {
 public:
  LayerGraph(const model::MSINet& net, const torch::Device& device, const InferenceOptions& options,
             ConvKernels kernels);
  torch::Tensor run(const torch::Tensor& x, LayerObserver* observer) override {
    return decode(aspp(encode(x.to(dtype).contiguous(format), observer), observer), observer);
  }
  std::string describe() const override;
  std::string explain() const override;

 private:
  torch::Device device{torch::kCPU};
  InferenceOptions options;
  torch::ScalarType dtype = torch::kFloat32;
  torch::MemoryFormat format = torch::MemoryFormat::Contiguous;
  bool packed = false;
  bool nhwc = false;
  bool winograd = false;             // ConvKernels::kWinograd in effect
  std::vector<Conv> convs;           // one per row of kLayers
  Conv fuse_local;                   // NHWC path: the ASPP fusion over the kFeatures branches
  torch::Tensor fuse_global_weight;  // NHWC path: the ASPP fusion's kFeatureMean columns
  std::vector<int64_t> buffer_shape;
  torch::Tensor features, local;  // NHWC concatenation buffers, reused while the shape holds

  Conv make_conv(const torch::Tensor& weight, const torch::Tensor& bias, int64_t dilation,
                 bool relu) const {
    Conv c;
    // Channels-last weights also make the packing choose the NHWC convolution's weight layout.
    c.weight = weight.detach().to(device, dtype).contiguous(format);
    if (bias.defined()) c.bias = bias.detach().to(device, dtype).contiguous();
    c.dilation = dilation;
    c.padding = dilation * (weight.size(2) - 1) / 2;
    c.relu = relu;
    return c;
  }

  torch::Tensor conv(Conv& c, const torch::Tensor& x) const {
    if (c.winograd) return c.winograd->run(x);
    if (packed) {
      const std::vector<int64_t> shape = x.sizes().vec();
      if (c.packed_shape != shape) {
        torch::jit::Stack stack{c.weight,
                                c.bias.defined() ? c10::IValue(c.bias) : c10::IValue(),
                                std::vector<int64_t>{1, 1},
                                std::vector<int64_t>{c.padding, c.padding},
                                std::vector<int64_t>{c.dilation, c.dilation},
                                int64_t{1},
                                shape,
                                std::string(c.relu ? "relu" : "none")};
        prepack_operator()->callBoxed(&stack);
        c.packed = stack.at(0);
        c.packed_shape = shape;
      }
      torch::jit::Stack stack{x, c.packed};
      run_operator()->callBoxed(&stack);
      return stack.at(0).toTensor();
    }
    const std::vector<int64_t> stride = {1, 1}, padding = {c.padding, c.padding},
                               dilation = {c.dilation, c.dilation};
    torch::Tensor y = torch::conv2d(x, c.weight, c.bias, stride, padding, dilation);
    if (c.relu) y.relu_();
    return y.contiguous(format);
  }

  torch::Tensor upsample(const torch::Tensor& x) const {
    if (nhwc) return upsample2x_nhwc(x);
    return model::upsample2x_tf_legacy(x.contiguous()).contiguous(format);
  }

  // Pooling of `t` after row `l`; with the NHWC kernels a feature row also writes its channel
  // slice of the features buffer, and the last encoder row writes only that.
  torch::Tensor pool(const Layer& l, const torch::Tensor& t, int64_t* feature_offset,
                     bool last) const {
    if (!nhwc) {
      if (l.pool == Pool::kStride2)
        return torch::max_pool2d(t, /*kernel_size=*/2, /*stride=*/2).contiguous(format);
      if (l.pool == Pool::kSameStride1) return model::max_pool_same_stride1(t).contiguous(format);
      return t;
    }
    if (l.pool == Pool::kNone) {
      if (l.feature) {
        features.narrow(1, *feature_offset, t.size(1)).copy_(t);
        *feature_offset += t.size(1);
      }
      return t;
    }
    const int64_t h = l.pool == Pool::kStride2 ? t.size(2) / 2 : t.size(2);
    const int64_t w = l.pool == Pool::kStride2 ? t.size(3) / 2 : t.size(3);
    std::vector<NhwcSlice> outputs;
    torch::Tensor out;
    if (!last || !l.feature) {
      out = empty_nhwc(t.size(0), t.size(1), h, w, dtype);
      outputs.push_back({out, 0});
    }
    if (l.feature) {
      outputs.push_back({features, *feature_offset});
      *feature_offset += t.size(1);
    }
    if (l.pool == Pool::kStride2) {
      max_pool2x2_nhwc(t, outputs);
    } else {
      max_pool_same_s1_nhwc(t, outputs);
    }
    return out;
  }

  // ref: saliency/model.py _encoder
  torch::Tensor encode(const torch::Tensor& input, LayerObserver* observer) {
    if (nhwc) {
      const int64_t m = model::input_multiple();
      const std::vector<int64_t> shape = {input.size(0), input.size(2) / m, input.size(3) / m};
      if (buffer_shape != shape) {
        features = empty_nhwc(shape[0], model::feature_channels(), shape[1], shape[2], dtype);
        local = empty_nhwc(shape[0], fuse_local.weight.size(1), shape[1], shape[2], dtype);
        buffer_shape = shape;
      }
    }
    std::vector<torch::Tensor> parts;
    int64_t feature_offset = 0;
    torch::Tensor t = input;
    for (size_t i = 0; i < kLayers.size(); ++i) {
      const Layer& l = kLayers[i];
      if (l.part != Part::kEncoder) continue;
      const bool last = i + 1 == kLayers.size() || kLayers[i + 1].part != Part::kEncoder;
      if (observer) observer->before(i, t);
      t = pool(l, conv(convs[i], t), &feature_offset, last);
      if (l.feature && !nhwc) parts.push_back(t);
      if (observer) observer->after(i);
    }
    if (nhwc) return features;
    return torch::cat(parts, /*dim=*/1).contiguous(format);
  }

  // ref: saliency/model.py _aspp
  torch::Tensor aspp(const torch::Tensor& x, LayerObserver* observer) {
    std::vector<torch::Tensor> branches;
    torch::Tensor global_term, y;
    int64_t local_offset = 0;
    const std::vector<int64_t> one = {1, 1}, none = {0, 0};
    for (size_t i = 0; i < kLayers.size(); ++i) {
      const Layer& l = kLayers[i];
      if (l.part != Part::kAspp) continue;
      Conv& c = convs[i];
      if (observer) observer->before(i, l.input == Input::kAsppBranches && nhwc ? local : x);
      if (l.input == Input::kFeatureMean) {
        torch::Tensor pooled = x.mean({2, 3}, /*keepdim=*/true);
        torch::Tensor g =
            torch::conv2d(pooled.contiguous(), c.weight.contiguous(), c.bias, one, none, one);
        if (l.relu) g.relu_();
        if (nhwc) {
          // The fusion is 1x1, so its sum splits by branch; this branch is constant over the map
          // and adds a per-image bias instead of a broadcast channel block.
          global_term = torch::conv2d(g, fuse_global_weight, torch::Tensor(), one, none, one);
        } else {
          branches.push_back(model::resize_bilinear_tf_legacy(g, x.size(2), x.size(3)));
        }
      } else if (l.input == Input::kFeatures) {
        torch::Tensor b = conv(c, x);
        if (nhwc) {
          local.narrow(1, local_offset, b.size(1)).copy_(b);
          local_offset += b.size(1);
        } else {
          branches.push_back(b);
        }
      } else if (nhwc) {
        y = conv(fuse_local, local).add_(global_term);
        if (l.relu) y.relu_();
      } else {
        y = conv(c, torch::cat(branches, /*dim=*/1).contiguous(format));
      }
      if (observer) observer->after(i);
    }
    return y;
  }

  // ref: saliency/model.py _decoder
  torch::Tensor decode(const torch::Tensor& x, LayerObserver* observer) {
    torch::Tensor t = x;
    for (size_t i = 0; i < kLayers.size(); ++i) {
      const Layer& l = kLayers[i];
      if (l.part != Part::kDecoder) continue;
      if (observer) observer->before(i, t);
      if (l.input == Input::kUpsampled) t = upsample(t);
      t = conv(convs[i], t);
      if (observer) observer->after(i);
    }
    return t;
  }
};

LayerGraph::LayerGraph(const model::MSINet& net, const torch::Device& device,
                       const InferenceOptions& options, ConvKernels kernels)
    : device(device), options(options) {
  dtype = precision_dtype(options.precision);
  format =
      options.channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  packed = options.prepack && device.is_cpu() && packed_convolutions_available();
  nhwc = options.nhwc_kernels && options.channels_last && device.is_cpu();
  this->options.prepack = packed;
  this->options.nhwc_kernels = nhwc;
  winograd = kernels == ConvKernels::kWinograd && nhwc && dtype == torch::kFloat32;
  if (device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);

  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < kLayers.size(); ++i) {
    const Layer& l = kLayers[i];
    const torch::nn::Conv2d& c = net->conv(i);
    convs.push_back(make_conv(c->weight, c->bias, l.dilation, l.relu));
    // conv1_1 (3 input channels) has too few products per tile to gain from Winograd.
    if (winograd && l.kernel == 3 && l.in >= 64) {
      convs.back().winograd =
          std::make_shared<WinogradConv>(c->weight, c->bias, l.dilation, l.relu);
      convs.back().weight = torch::Tensor();  // its transformed copy is the one used
    }
    if (l.input == Input::kAsppBranches && nhwc) {
      const torch::Tensor w = c->weight.detach();
      fuse_local = make_conv(select_columns(w, fusion_columns(Input::kFeatures)), c->bias,
                             l.dilation, /*relu=*/false);
      fuse_global_weight =
          select_columns(w, fusion_columns(Input::kFeatureMean)).to(device, dtype).contiguous();
    }
  }
}

std::string LayerGraph::describe() const {
  const LayerGraph& m = *this;
  std::string s = m.options.channels_last ? "channels-last" : "NCHW";
  if (m.winograd) s += ", Winograd F(4x4,3x3) 3x3 conv+bias+ReLU";
  if (m.packed) s += ", oneDNN packed conv+ReLU";
  if (m.nhwc) s += ", NHWC kernels";
  if (m.device.is_cuda()) s += ", cuDNN benchmark";
  return s;
}

std::string LayerGraph::explain() const {
  const LayerGraph& m = *this;
  std::string s = m.options.channels_last ? "channels-last (NHWC) activations and weights"
                                          : "NCHW activations and weights";
  if (m.device.is_cpu()) {
    if (m.packed) {
      s += "; convolutions by oneDNN with weights packed once per input shape and the ReLU fused";
    } else if (!packed_convolutions_available()) {
      s += "; plain convolutions (this LibTorch lacks oneDNN or its mkldnn_prepacked operators)";
    } else {
      s += "; plain convolutions (packing switched off)";
    }
    if (m.winograd) {
      s += "; the 3x3 convolutions with 64 or more input channels by msinet's Winograd "
           "F(4x4,3x3): 6x6 input tiles transformed, 36 batched oneDNN matrix products per "
           "chunk of tiles, bias and ReLU fused into the output transform, a rate-d dilated "
           "convolution split into its d x d sub-grids";
    }
    s += m.nhwc ? "; one-pass NHWC pooling, concatenation and upsampling kernels"
                : "; LibTorch pooling, concatenation and upsampling";
  } else if (m.device.is_cuda()) {
    s += "; cuDNN with benchmark mode (the fastest algorithm chosen per input shape)";
  }
  return s;
}

}  // namespace

bool packed_convolutions_available() {
  return at::hasMKLDNN() && prepack_operator() != nullptr && run_operator() != nullptr;
}

std::unique_ptr<Executor> make_layer_graph(const model::MSINet& net, const torch::Device& device,
                                           const InferenceOptions& options, ConvKernels kernels) {
  return std::make_unique<LayerGraph>(net, device, options, kernels);
}

}  // namespace msinet::runtime
