#include "msinet/model/inference.h"

#include <ATen/Context.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <torch/torch.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <array>

#include "msinet/model/nhwc_ops.h"
#include "msinet/model/ops.h"
#include "msinet/util/error.h"

namespace msinet::model {
namespace {

// The 23 convolutions: kernel, channels, dilation, and the feature size as a divisor of the
// input size (0: the 1x1 map of the global ASPP branch). ref: saliency/model.py
struct LayerSpec {
  int64_t kernel, in, out, dilation, divisor;
};
constexpr std::array<LayerSpec, 23> kLayers = {{
    {3, 3, 64, 1, 1},      {3, 64, 64, 1, 1},    {3, 64, 128, 1, 2},   {3, 128, 128, 1, 2},
    {3, 128, 256, 1, 4},   {3, 256, 256, 1, 4},  {3, 256, 256, 1, 4},  {3, 256, 512, 1, 8},
    {3, 512, 512, 1, 8},   {3, 512, 512, 1, 8},  {3, 512, 512, 2, 8},  {3, 512, 512, 2, 8},
    {3, 512, 512, 2, 8},   {1, 1280, 256, 1, 8}, {3, 1280, 256, 4, 8}, {3, 1280, 256, 8, 8},
    {3, 1280, 256, 12, 8}, {1, 1280, 256, 1, 0}, {1, 1280, 256, 1, 8}, {3, 256, 128, 1, 4},
    {3, 128, 64, 1, 2},    {3, 64, 32, 1, 1},    {3, 32, 1, 1, 1},
}};

constexpr int64_t kBranchChannels = 256;

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

bool packed_convolutions_available() {
  return at::hasMKLDNN() && prepack_operator() != nullptr && run_operator() != nullptr;
}

bool os_supports_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;  // OSXSAVE
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  (void)hi;
  return (lo & 0xE6u) == 0xE6u;  // SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM state
#else
  return false;
#endif
}

// One convolution with its weights in the inference layout and precision.
struct Conv {
  torch::Tensor weight, bias;  // bias may be undefined
  int64_t padding = 0, dilation = 1;
  bool relu = true;
  c10::IValue packed;                 // mkldnn ConvOpContext for packed_shape
  std::vector<int64_t> packed_shape;  // [N, C, H, W] it was packed for
};

}  // namespace

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::kFloat32;
  if (name == "bf16") return Precision::kBFloat16;
  if (name == "fp16") return Precision::kFloat16;
  throw Error(ErrorCode::kUsage, "unknown precision '" + name + "': use fp32, bf16 or fp16");
}

std::string precision_name(Precision precision) {
  switch (precision) {
    case Precision::kFloat32:
      return "fp32";
    case Precision::kBFloat16:
      return "bf16";
    case Precision::kFloat16:
      return "fp16";
  }
  return "?";
}

torch::ScalarType precision_dtype(Precision precision) {
  switch (precision) {
    case Precision::kBFloat16:
      return torch::kBFloat16;
    case Precision::kFloat16:
      return torch::kFloat16;
    case Precision::kFloat32:
      break;
  }
  return torch::kFloat32;
}

bool cpu_has_bf16() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 0, a, b, c, d);
  const bool amx_bf16 = (d & (1u << 22)) != 0;
  __cpuid_count(7, 1, a, b, c, d);
  const bool avx512_bf16 = (a & (1u << 5)) != 0;
  return (avx512_bf16 && os_supports_avx512()) || amx_bf16;
#else
  return false;
#endif
}

std::string precision_unsupported_reason(Precision precision, const torch::Device& device) {
  if (precision == Precision::kFloat32) return {};
  const std::string name = precision_name(precision);
  if (device.is_cuda()) return {};
  if (!device.is_cpu())
    return "precision " + name + " is not supported on " + device.str() + "; use fp32";
  if (precision == Precision::kFloat16) {
    return "precision fp16 runs on CUDA only; on the CPU use fp32, or bf16 where the CPU has "
           "AVX512_BF16 or AMX";
  }
  if (!cpu_has_bf16()) {
    return "precision bf16 needs a CPU with bfloat16 instructions (AVX512_BF16 or AMX-BF16), "
           "which this CPU does not report; use --precision fp32";
  }
  if (!at::hasMKLDNN()) {
    return "precision bf16 on the CPU needs LibTorch built with oneDNN (MKL-DNN), which this "
           "build lacks; use --precision fp32";
  }
  return {};
}

void check_precision(Precision precision, const torch::Device& device) {
  const std::string why = precision_unsupported_reason(precision, device);
  if (!why.empty()) throw Error(ErrorCode::kUsage, why);
}

double forward_flops(int64_t h, int64_t w) {
  double total = 0;
  for (const LayerSpec& l : kLayers) {
    const double pixels =
        l.divisor == 0 ? 1.0
                       : static_cast<double>(h / l.divisor) * static_cast<double>(w / l.divisor);
    total += 2.0 * static_cast<double>(l.kernel * l.kernel * l.in * l.out) * pixels;
  }
  return total;
}

struct InferenceNet::Impl {
  torch::Device device{torch::kCPU};
  InferenceOptions options;
  torch::ScalarType dtype = torch::kFloat32;
  torch::MemoryFormat format = torch::MemoryFormat::Contiguous;
  bool packed = false;
  bool nhwc = false;
  std::vector<Conv> encoder;         // conv1_1 .. conv5_3
  std::vector<Conv> branches;        // aspp conv1_1 .. conv1_4
  Conv global;                       // aspp conv1_5
  Conv fuse;                         // aspp conv2 over all five branches
  Conv fuse_local;                   // aspp conv2 restricted to branches 1-4 (NHWC path)
  torch::Tensor fuse_global_weight;  // aspp conv2 restricted to branch 5
  std::vector<Conv> decoder;         // decoder conv1 .. conv4
  torch::Tensor mean;                // [1,3,1,1] float32 on the device
  std::vector<int64_t> buffer_shape;
  torch::Tensor features, local;  // NHWC concatenation buffers, reused while the shape holds

  Conv make_conv(const torch::nn::Conv2d& m, bool relu) const {
    return make_conv(m->weight, m->bias, (*m->options.dilation())[0], relu);
  }

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

  torch::Tensor pool2(const torch::Tensor& x, const std::vector<NhwcSlice>& extra = {}) const {
    if (!nhwc) return torch::max_pool2d(x, /*kernel_size=*/2, /*stride=*/2).contiguous(format);
    torch::Tensor out = empty_nhwc(x.size(0), x.size(1), x.size(2) / 2, x.size(3) / 2, dtype);
    std::vector<NhwcSlice> outputs = {{out, 0}};
    outputs.insert(outputs.end(), extra.begin(), extra.end());
    max_pool2x2_nhwc(x, outputs);
    return out;
  }

  torch::Tensor upsample(const torch::Tensor& x) const {
    if (nhwc) return upsample2x_nhwc(x);
    return upsample2x_tf_legacy(x.contiguous()).contiguous(format);
  }

  // ref: saliency/model.py _encoder
  torch::Tensor encode(const torch::Tensor& input) {
    const int64_t n = input.size(0), h = input.size(2) / 8, w = input.size(3) / 8;
    torch::Tensor t = pool2(conv(encoder[1], conv(encoder[0], input)));
    t = pool2(conv(encoder[3], conv(encoder[2], t)));
    t = conv(encoder[6], conv(encoder[5], conv(encoder[4], t)));
    if (!nhwc) {
      torch::Tensor p3 = pool2(t);
      torch::Tensor p4 =
          max_pool_same_stride1(conv(encoder[9], conv(encoder[8], conv(encoder[7], p3))))
              .contiguous(format);
      torch::Tensor p5 =
          max_pool_same_stride1(conv(encoder[12], conv(encoder[11], conv(encoder[10], p4))));
      return torch::cat({p3, p4, p5.contiguous(format)}, /*dim=*/1).contiguous(format);
    }
    const std::vector<int64_t> shape = {n, h, w};
    if (buffer_shape != shape) {
      features = empty_nhwc(n, EncoderImpl::kOutChannels, h, w, dtype);
      local = empty_nhwc(n, 4 * kBranchChannels, h, w, dtype);
      buffer_shape = shape;
    }
    torch::Tensor p3 = pool2(t, {{features, 0}});
    t = conv(encoder[9], conv(encoder[8], conv(encoder[7], p3)));
    torch::Tensor p4 = empty_nhwc(n, t.size(1), h, w, dtype);
    max_pool_same_s1_nhwc(t, {{p4, 0}, {features, p3.size(1)}});
    t = conv(encoder[12], conv(encoder[11], conv(encoder[10], p4)));
    max_pool_same_s1_nhwc(t, {{features, p3.size(1) + p4.size(1)}});
    return features;
  }

  // ref: saliency/model.py _aspp
  torch::Tensor aspp(const torch::Tensor& x) {
    torch::Tensor pooled = x.mean({2, 3}, /*keepdim=*/true);
    const std::vector<int64_t> one = {1, 1}, none = {0, 0};
    torch::Tensor g =
        torch::conv2d(pooled.contiguous(), global.weight.contiguous(), global.bias, one, none, one)
            .relu_();
    if (!nhwc) {
      std::vector<torch::Tensor> parts;
      for (Conv& b : branches) parts.push_back(conv(b, x));
      parts.push_back(resize_bilinear_tf_legacy(g, x.size(2), x.size(3)));
      return conv(fuse, torch::cat(parts, /*dim=*/1).contiguous(format));
    }
    // conv2 is 1x1, so its sum splits by branch; the global branch is constant over the map and
    // adds a per-image bias instead of a broadcast channel block.
    for (size_t i = 0; i < branches.size(); ++i) {
      local.narrow(1, static_cast<int64_t>(i) * kBranchChannels, kBranchChannels)
          .copy_(conv(branches[i], x));
    }
    torch::Tensor y = conv(fuse_local, local);
    torch::Tensor g_term = torch::conv2d(g, fuse_global_weight, torch::Tensor(), one, none, one);
    return y.add_(g_term).relu_();
  }

  // ref: saliency/model.py _decoder
  torch::Tensor decode(const torch::Tensor& x) {
    torch::Tensor t = conv(decoder[0], upsample(x));
    t = conv(decoder[1], upsample(t));
    t = conv(decoder[2], upsample(t));
    return conv(decoder[3], t);
  }
};

InferenceNet::InferenceNet(const MSINet& net, const torch::Device& device,
                           const InferenceOptions& options)
    : impl_(std::make_unique<Impl>()) {
  check_precision(options.precision, device);
  Impl& m = *impl_;
  m.device = device;
  m.options = options;
  m.dtype = precision_dtype(options.precision);
  m.format =
      options.channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  m.packed = options.prepack && device.is_cpu() && packed_convolutions_available();
  m.nhwc = options.nhwc_kernels && options.channels_last && device.is_cpu();
  m.options.prepack = m.packed;
  m.options.nhwc_kernels = m.nhwc;
  if (device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);

  torch::NoGradGuard no_grad;
  for (const auto& c : net->encoder->convs) m.encoder.push_back(m.make_conv(c, /*relu=*/true));
  const ASPPImpl& a = *net->aspp;
  for (const auto* c : {&a.conv1_1, &a.conv1_2, &a.conv1_3, &a.conv1_4}) {
    m.branches.push_back(m.make_conv(*c, /*relu=*/true));
  }
  m.global = m.make_conv(a.conv1_5, /*relu=*/true);
  if (m.nhwc) {
    const int64_t local_channels = 4 * kBranchChannels;
    const torch::Tensor& w = a.conv2->weight;
    m.fuse_local = m.make_conv(w.narrow(1, 0, local_channels), a.conv2->bias, 1, /*relu=*/false);
    m.fuse_global_weight = w.detach()
                               .narrow(1, local_channels, w.size(1) - local_channels)
                               .to(device, m.dtype)
                               .contiguous();
  } else {
    m.fuse = m.make_conv(a.conv2, /*relu=*/true);
  }
  const DecoderImpl& d = *net->decoder;
  for (const auto* c : {&d.conv1, &d.conv2, &d.conv3}) m.decoder.push_back(m.make_conv(*c, true));
  m.decoder.push_back(m.make_conv(d.conv4, /*relu=*/false));
  m.mean = torch::tensor({kRgbMean[0], kRgbMean[1], kRgbMean[2]}, torch::kFloat32)
               .view({1, 3, 1, 1})
               .to(device);
}

InferenceNet::~InferenceNet() = default;

// ref: saliency/model.py forward
torch::Tensor InferenceNet::forward_raw(const torch::Tensor& rgb) {
  check_rgb_input(rgb);
  Impl& m = *impl_;
  c10::InferenceMode guard;
  torch::Tensor x = rgb.to(m.device, torch::kFloat32, /*non_blocking=*/true);
  x = (x - m.mean).to(m.dtype).contiguous(m.format);
  return m.decode(m.aspp(m.encode(x)));
}

torch::Tensor InferenceNet::forward(const torch::Tensor& rgb) {
  torch::Tensor raw = forward_raw(rgb);
  c10::InferenceMode guard;
  return normalize_maps(raw.to(torch::kFloat32)).contiguous();
}

const torch::Device& InferenceNet::device() const { return impl_->device; }

const InferenceOptions& InferenceNet::options() const { return impl_->options; }

std::string InferenceNet::describe() const {
  const Impl& m = *impl_;
  std::string s = m.device.str() + ", " + precision_name(m.options.precision) + ", " +
                  (m.options.channels_last ? "channels-last" : "NCHW");
  if (m.packed) s += ", oneDNN packed conv+ReLU";
  if (m.nhwc) s += ", NHWC kernels";
  if (m.device.is_cuda()) s += ", cuDNN benchmark";
  return s;
}

}  // namespace msinet::model
