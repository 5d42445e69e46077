#include "msinet/runtime/onednn_net.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <array>
#include <deque>
#include <functional>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

#include "msinet/model/layers.h"
#include "msinet/runtime/cpu_info.h"
#include "msinet/runtime/int8_calibration.h"
#include "msinet/runtime/nhwc_ops.h"
#include "msinet/util/error.h"
#include "onednn_kernels.h"

namespace msinet::runtime {
namespace {

using dnnl::memory;
using model::Input;
using model::kLayers;
using model::Layer;
using model::Part;
using model::Pool;
using Tag = memory::format_tag;
using Type = memory::data_type;
using Args = std::unordered_map<int, memory>;

// Activations are dense NHWC float buffers: the layout oneDNN 2.6's fastest convolutions
// (brgconv) choose for every layer on AVX-512, and the one layout in which its dilated ASPP
// convolutions (rate 8 and 12 at 1/8 resolution) have a JIT kernel at all.
// Int8 layers read them as u8 (the same layout).
memory::desc nhwc(int64_t n, int64_t c, int64_t h, int64_t w, Type type = Type::f32) {
  return memory::desc({n, c, h, w}, type, Tag::nhwc);
}

// One dense NHWC activation [n, c, h, w] inside memory the plan owns: float32, or u8 where an
// int8 convolution writes the input of the next int8 convolution.
struct Buffer {
  int64_t n = 0, c = 0, h = 0, w = 0;
  void* data = nullptr;
  int arena = -1;  // which of the plan's two ping-pong arenas holds it; -1: its own storage
  Type type = Type::f32;

  int64_t image_elements() const { return c * h * w; }
  float* floats() const {
    if (type != Type::f32)
      throw Error(ErrorCode::kInternal, "oneDNN plan: a u8 buffer read as f32");
    return static_cast<float*>(data);
  }
  memory::desc desc() const { return nhwc(n, c, h, w, type); }
  memory mem(const dnnl::engine& engine) const { return memory(desc(), engine, data); }
  // The same memory as a channels-last torch tensor (for the NHWC kernels and observers).
  torch::Tensor tensor() const {
    return torch::from_blob(data, {n, c, h, w}, {c * h * w, 1, w * c, c},
                            type == Type::u8 ? torch::kByte : torch::kFloat32);
  }
};

// Int8 arithmetic: u8 activations times s8 weights summed in int32. Without VNNI, oneDNN's
// u8s8 kernels (AVX2 and AVX-512 alike) multiply with vpmaddubsw, which adds two u8 x s8
// products into an int16 and saturates: 2 x 255 x 127 overflows it, 2 x 255 x 63 does not, so
// weights get 7 bits there (VNNI's vpdpbusd sums into int32 and takes the full 8).
struct Int8Levels {
  float activation = 255.f;  // the u8 code of a layer's input range
  float weight = 127.f;      // the s8 code of a channel's largest |weight|
};

// VNNI counts where the CPU reports it and oneDNN may use it (DNNL_MAX_CPU_ISA can cap it).
Int8Levels int8_levels() {
  const std::string& isa = cpu_info().isa;
  const bool cpu_vnni =
      isa.find("avx512_vnni") != std::string::npos || isa.find("avx_vnni") != std::string::npos;
  using dnnl::cpu_isa;
  const cpu_isa used = dnnl::get_effective_cpu_isa();
  const bool onednn_vnni = used == cpu_isa::all || used == cpu_isa::avx512_core_vnni ||
                           used == cpu_isa::avx512_core_bf16 || used == cpu_isa::avx512_core_amx ||
                           used == cpu_isa::avx2_vnni;
  return cpu_vnni && onednn_vnni ? Int8Levels{} : Int8Levels{255.f, 63.f};
}

// The layers kept in float32: the first (three channels of image: little to gain, and its
// input is signed), the ASPP global branch and fusion (one 1x1 at 1/8 size, and the fusion
// mixes branches of different ranges), and the last (no ReLU: a signed output read as the map).
bool int8_layer(size_t i) {
  const model::Layer& l = kLayers[i];
  return i != 0 && i + 1 != kLayers.size() && l.input != Input::kFeatureMean &&
         l.input != Input::kAsppBranches;
}

// Whether int8 layer `i` can hand its output to the next one as u8 directly: no pooling or
// feature copy between them, and the next reads it as it is.
bool u8_output(size_t i) {
  const model::Layer& l = kLayers[i];
  return int8_layer(i) && l.pool == Pool::kNone && !l.feature && i + 1 < kLayers.size() &&
         int8_layer(i + 1) && kLayers[i + 1].input == Input::kPrevious;
}

// One convolution as the model holds it: OIHW float weights, bias, with the weights reordered
// into each layout a primitive asked for (once per layout, shared by the shapes that agree).
struct ConvWeights {
  torch::Tensor weight, bias;  // bias undefined: none
  int64_t dilation = 1;
  std::vector<std::pair<memory::desc, memory>> packed;
  // Int8 (input_scale > 0): the u8 input is round(x * input_scale), the s8 weights of output
  // channel o round(w * weight_scales[o]); the bias in the int32 accumulator's units.
  float input_scale = 0;
  std::vector<float> weight_scales;
  torch::Tensor scaled_bias;

  bool int8() const { return input_scale > 0; }
  const torch::Tensor& bias_used() const { return int8() ? scaled_bias : bias; }

  int64_t kernel() const { return weight.size(2); }
  int64_t padding() const { return dilation * (kernel() - 1) / 2; }

  memory packed_for(const memory::desc& want, const dnnl::engine& engine, dnnl::stream& stream) {
    for (auto& [desc, mem] : packed) {
      if (desc == want) return mem;
    }
    const memory::desc user({weight.size(0), weight.size(1), kernel(), kernel()}, Type::f32,
                            Tag::oihw);
    memory plain(user, engine, weight.data_ptr<float>());
    memory out(want, engine);
    dnnl::primitive_attr attr;
    if (int8()) attr.set_output_scales(1 << 0, weight_scales);  // per output channel
    dnnl::reorder(dnnl::reorder::primitive_desc(engine, user, engine, want, attr))
        .execute(stream, plain, out);
    stream.wait();
    packed.emplace_back(want, out);
    return out;
  }
};

ConvWeights copy_conv(const torch::Tensor& weight, const torch::Tensor& bias, int64_t dilation) {
  ConvWeights c;
  c.weight = weight.detach().to(torch::kFloat32).contiguous().clone();
  if (bias.defined()) c.bias = bias.detach().to(torch::kFloat32).contiguous().clone();
  c.dilation = dilation;
  return c;
}

// Makes `c` an int8 layer whose input spans [0, input_range].
void quantise_conv(ConvWeights& c, double input_range, const Int8Levels& levels) {
  c.input_scale = static_cast<float>(levels.activation / input_range);
  const torch::Tensor largest = std::get<0>(c.weight.abs().flatten(1).max(1)).clamp_min(1e-30);
  const torch::Tensor scales = (levels.weight / largest).contiguous();
  c.weight_scales.assign(scales.data_ptr<float>(), scales.data_ptr<float>() + scales.numel());
  if (c.bias.defined()) c.scaled_bias = (c.bias * c.input_scale * scales).contiguous();
}

// The ASPP fusion's weight columns [first, first + count) that read the branches of `input` kind.
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

// The most floats one activation of an image needs at h x w (the arenas' size per image).
int64_t largest_activation(int64_t h, int64_t w) {
  int64_t most = 16 * h * w;  // the input, even if a convolution wants its 3 channels padded
  for (const Layer& l : kLayers) {
    if (l.input == Input::kUpsampled) {
      h *= 2;
      w *= 2;
      most = std::max(most, l.in * h * w);
    }
    most = std::max(most, std::max<int64_t>(l.out, 16) * h * w);
    if (l.pool == Pool::kStride2) {
      h /= 2;
      w /= 2;
    }
  }
  return most;
}

// A step of a plan: one primitive run once per argument set, or a kernel of our own.
struct Step {
  dnnl::primitive primitive;
  std::vector<Args> runs;
  std::function<void()> kernel;
};

// Everything made for one input shape: buffers, primitives, the order to run them in.
struct Plan {
  int64_t n = 0, h = 0, w = 0;
  std::array<std::vector<Step>, kLayers.size()> steps;
  std::array<std::function<torch::Tensor()>, kLayers.size()> inputs;  // for observers
  torch::Tensor arenas[2];
  std::deque<torch::Tensor> owned;  // buffers outside the arenas (features, ASPP branches)
  memory input;                     // NCHW user input, handle set per call
  Step input_reorder;
  memory output;  // NCHW output, handle set per call
  std::vector<Step> output_steps;
  torch::Tensor image_bias;  // [N, 256]: the ASPP fusion's bias plus its global-branch term
  torch::Tensor scratch;     // int8: the u8 input of a layer that reads float32
  std::vector<std::string> impls;
};

}  // namespace

struct OnednnNet::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::array<ConvWeights, kLayers.size()> convs;
  std::vector<ConvWeights> fusion_parts;  // the ASPP fusion split by kFeatures branch
  torch::Tensor fusion_global;            // [256, 256, 1, 1]: its kFeatureMean columns
  std::map<std::vector<int64_t>, std::unique_ptr<Plan>> plans;
  std::string last_explain;
  bool int8 = false;  // the layers int8_layer() names run in int8
  Int8Levels levels;

  // ---- builders, one per kind of step -------------------------------------------------------

  Buffer chain_buffer(Plan& p, const Buffer& after, int64_t c, int64_t h, int64_t w) const {
    Buffer b{p.n, c, h, w, nullptr, after.arena == 0 ? 1 : 0};
    if (b.image_elements() * p.n > p.arenas[b.arena].numel()) {
      throw Error(ErrorCode::kInternal, "oneDNN plan: an activation does not fit its arena");
    }
    b.data = p.arenas[b.arena].data_ptr<float>();
    return b;
  }

  Buffer own_buffer(Plan& p, int64_t c, int64_t h, int64_t w) const {
    p.owned.push_back(torch::empty({p.n * c * h * w}, torch::kFloat32));
    return Buffer{p.n, c, h, w, p.owned.back().data_ptr<float>(), -1};
  }

  // A convolution primitive: src/dst layouts as oneDNN prefers them (format any) when that is
  // `src`/`dst`, else as given; `src`/`dst` with format any are left to oneDNN.
  // Int8 layers (c.int8()): s8 weights, `output_scales` per output channel.
  dnnl::convolution_forward::primitive_desc conv_desc(
      const ConvWeights& c, memory::desc src, memory::desc dst, bool with_bias,
      const dnnl::post_ops& ops, const std::vector<float>& output_scales = {}) const {
    const int64_t k = c.kernel(), pad = c.padding();
    const memory::desc weights({c.weight.size(0), c.weight.size(1), k, k},
                               c.int8() ? Type::s8 : Type::f32, Tag::any);
    const memory::desc bias({c.weight.size(0)}, Type::f32, Tag::x);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    if (c.int8()) attr.set_output_scales(1 << 1, output_scales);  // per output channel
    auto make = [&](const memory::desc& s, const memory::desc& d) {
      const memory::dims stride = {1, 1}, dil = {c.dilation - 1, c.dilation - 1}, p = {pad, pad};
      auto desc = with_bias
                      ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                        dnnl::algorithm::convolution_direct, s,
                                                        weights, bias, d, stride, dil, p, p)
                      : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                        dnnl::algorithm::convolution_direct, s,
                                                        weights, d, stride, dil, p, p);
      return dnnl::convolution_forward::primitive_desc(desc, attr, engine);
    };
    const memory::desc src_any(src.dims(), src.data_type(), Tag::any);
    const memory::desc dst_any(dst.dims(), dst.data_type(), Tag::any);
    auto pd = make(src_any, dst_any);
    const bool src_free = src.data.format_kind == dnnl_format_kind_any;
    const bool dst_free = dst.data.format_kind == dnnl_format_kind_any;
    if ((src_free || pd.src_desc() == src) && (dst_free || pd.dst_desc() == dst)) return pd;
    return make(src_free ? src_any : src, dst_free ? dst_any : dst);
  }

  static dnnl::post_ops relu_ops(bool relu, bool sum = false) {
    dnnl::post_ops ops;
    if (sum) ops.append_sum(1.f);
    if (relu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    return ops;
  }

  Step conv_step(Plan& p, ConvWeights& c, const dnnl::convolution_forward::primitive_desc& pd,
                 const memory& src, const memory& dst) {
    Step s;
    s.primitive = dnnl::convolution_forward(pd);
    Args args = {{DNNL_ARG_SRC, src},
                 {DNNL_ARG_DST, dst},
                 {DNNL_ARG_WEIGHTS, c.packed_for(pd.weights_desc(), engine, stream)}};
    if (c.bias.defined()) {
      args[DNNL_ARG_BIAS] = memory(pd.bias_desc(), engine, c.bias_used().data_ptr<float>());
    }
    s.runs.push_back(std::move(args));
    p.impls.push_back(pd.impl_info_str());
    return s;
  }

  // f32 `src` -> u8 `dst` at `scale` (rounded to nearest even, saturated), a oneDNN reorder.
  Step quantise(const Buffer& src, const Buffer& dst, float scale) {
    dnnl::primitive_attr attr;
    attr.set_output_scales(0, {scale});
    const memory from = src.mem(engine), to = dst.mem(engine);
    Step s;
    s.primitive = dnnl::reorder(
        dnnl::reorder::primitive_desc(engine, from.get_desc(), engine, to.get_desc(), attr));
    s.runs.push_back({{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
    return s;
  }

  // "Same" convolution of `src` into a new `dst`, bias and ReLU fused. An int8 layer quantises a
  // float32 `src` first (into the plan's scratch) and writes `dst` as float32, or as u8 at
  // `dst_scale` (the next int8 layer's input scale).
  std::vector<Step> conv(Plan& p, ConvWeights& c, const Buffer& src, const Buffer& dst, bool relu,
                         float dst_scale = 1.f) {
    std::vector<Step> steps;
    Buffer in = src;
    if (c.int8() && src.type == Type::f32) {
      in = Buffer{src.n, src.c, src.h, src.w, p.scratch.data_ptr(), -1, Type::u8};
      if (in.image_elements() * in.n > p.scratch.numel()) {
        throw Error(ErrorCode::kInternal, "oneDNN plan: a u8 input does not fit the scratch");
      }
      steps.push_back(quantise(src, in, c.input_scale));
    }
    std::vector<float> scales;
    if (c.int8()) {
      const float out = dst.type == Type::u8 ? dst_scale : 1.f;
      for (float w : c.weight_scales) scales.push_back(out / (c.input_scale * w));
    }
    const auto pd = conv_desc(c, in.desc(), dst.desc(), c.bias.defined(), relu_ops(relu), scales);
    if (pd.src_desc() != in.desc() || pd.dst_desc() != dst.desc()) {
      throw Error(ErrorCode::kInternal, "oneDNN plan: a convolution refused NHWC");
    }
    steps.push_back(conv_step(p, c, pd, in.mem(engine), dst.mem(engine)));
    return steps;
  }

  static void append(std::vector<Step>& steps, std::vector<Step> more) {
    for (Step& s : more) steps.push_back(std::move(s));
  }

  // A max pool of `src` written into `outputs` (channel slices, in one pass): NHWC kernels.
  static Step pool(const Layer& l, const Buffer& src,
                   std::vector<std::pair<Buffer, int64_t>> outs) {
    Step s;
    s.kernel = [l, src, outs] {
      std::vector<NhwcSlice> slices;
      for (const auto& [b, offset] : outs) slices.push_back({b.tensor(), offset});
      if (l.pool == Pool::kStride2) {
        max_pool2x2_nhwc(src.tensor(), slices);
      } else {
        max_pool_same_s1_nhwc(src.tensor(), slices);
      }
    };
    return s;
  }

  static Step upsample(const Buffer& src, const Buffer& dst) {
    Step s;
    s.kernel = [src, dst] {
      upsample2x_nhwc_into(src.floats(), dst.floats(), src.n, src.h, src.w, src.c);
    };
    return s;
  }

  // The global ASPP branch: mean of the features, 1x1 conv + ReLU, times the fusion's columns
  // for it, plus the fusion's bias: a per-image bias of the fusion (image_bias).
  Step global_branch(Plan& p, const ConvWeights& c, const Layer& l, const Buffer& features,
                     const ConvWeights& fusion) {
    Step s;
    s.kernel = [this, &p, &c, &fusion, l, features] {
      const std::vector<int64_t> one = {1, 1}, none = {0, 0};
      torch::Tensor mean = features.tensor().mean({2, 3}, /*keepdim=*/true).contiguous();
      torch::Tensor g = torch::conv2d(mean, c.weight, c.bias, one, none, one);
      if (l.relu) g.relu_();
      torch::Tensor term = torch::conv2d(g, fusion_global, fusion.bias, one, none, one);
      p.image_bias.copy_(term.view({p.n, -1}));
    };
    return s;
  }

  // The ASPP fusion (1x1 over the concatenated branches) as one 1x1 convolution per spatial
  // branch accumulated by sum post-ops: the first per image with that image's bias, the last
  // with the ReLU.
  std::vector<Step> fusion(Plan& p, const std::vector<Buffer>& branches, const Buffer& dst,
                           bool relu) {
    std::vector<Step> steps;
    for (size_t b = 0; b < branches.size(); ++b) {
      ConvWeights& c = fusion_parts[b];
      const bool first = b == 0, last = b + 1 == branches.size();
      const int64_t batch = first ? 1 : p.n;
      const memory::desc src = nhwc(batch, branches[b].c, dst.h, dst.w);
      const memory::desc out = nhwc(batch, dst.c, dst.h, dst.w);
      const auto pd = conv_desc(c, src, out, first, relu_ops(relu && last, !first));
      if (pd.src_desc() != src || pd.dst_desc() != out) {
        throw Error(ErrorCode::kInternal, "oneDNN plan: the ASPP fusion refused NHWC");
      }
      Step s;
      s.primitive = dnnl::convolution_forward(pd);
      const memory weights = c.packed_for(pd.weights_desc(), engine, stream);
      for (int64_t i = 0; i < p.n / batch; ++i) {
        Args args = {{DNNL_ARG_SRC,
                      memory(src, engine, branches[b].floats() + i * branches[b].image_elements())},
                     {DNNL_ARG_DST, memory(out, engine, dst.floats() + i * dst.image_elements())},
                     {DNNL_ARG_WEIGHTS, weights}};
        if (first) {
          args[DNNL_ARG_BIAS] =
              memory(pd.bias_desc(), engine, p.image_bias.data_ptr<float>() + i * dst.c);
        }
        s.runs.push_back(std::move(args));
      }
      p.impls.push_back(pd.impl_info_str());
      steps.push_back(std::move(s));
    }
    return steps;
  }

  // ---- the plan of one shape ------------------------------------------------------------------

  std::unique_ptr<Plan> build(int64_t n, int64_t h, int64_t w) {
    auto plan = std::make_unique<Plan>();
    Plan& p = *plan;
    p.n = n;
    p.h = h;
    p.w = w;
    const int64_t arena = n * largest_activation(h, w);
    p.arenas[0] = torch::empty({arena}, torch::kFloat32);
    p.arenas[1] = torch::empty({arena}, torch::kFloat32);
    if (int8) p.scratch = torch::empty({arena}, torch::kByte);
    p.input = memory(memory::desc({n, 3, h, w}, Type::f32, Tag::nchw), engine, DNNL_MEMORY_NONE);
    p.output = memory(memory::desc({n, 1, h, w}, Type::f32, Tag::nchw), engine, DNNL_MEMORY_NONE);

    const int64_t m = model::input_multiple();
    Buffer features = own_buffer(p, model::feature_channels(), h / m, w / m);
    int64_t feature_offset = 0;
    std::vector<Buffer> branches;
    Buffer t{n, 3, h, w, nullptr, 0};  // the chain's current activation (the input: arena 0)
    for (size_t i = 0; i < kLayers.size(); ++i) {
      const Layer& l = kLayers[i];
      std::vector<Step>& steps = p.steps[i];
      ConvWeights& c = convs[i];
      if (i == 0) {
        // The input in the layout the first convolution likes, reordered from NCHW once.
        Buffer out = chain_buffer(p, t, l.out, h, w);
        const auto pd = conv_desc(c, memory::desc({n, 3, h, w}, Type::f32, Tag::any),
                                  nhwc(n, l.out, h, w), true, relu_ops(l.relu));
        const memory src(pd.src_desc(), engine, p.arenas[0].data_ptr<float>());
        p.input_reorder.primitive = dnnl::reorder(p.input, src);
        p.input_reorder.runs.push_back({{DNNL_ARG_FROM, p.input}, {DNNL_ARG_TO, src}});
        p.inputs[i] = [src] {
          return torch::from_blob(src.get_data_handle(),
                                  {static_cast<int64_t>(src.get_desc().get_size() / 4)},
                                  torch::kFloat32);
        };
        steps.push_back(conv_step(p, c, pd, src, out.mem(engine)));
        t = out;
      } else if (l.input == Input::kFeatures) {
        Buffer out = own_buffer(p, l.out, features.h, features.w);
        p.inputs[i] = [features] { return features.tensor(); };
        append(steps, conv(p, c, features, out, l.relu));
        branches.push_back(out);
        continue;
      } else if (l.input == Input::kFeatureMean) {
        p.image_bias = torch::empty({n, kLayers[model::layer_index(Part::kAspp, "conv2")].out});
        p.inputs[i] = [features] { return features.tensor(); };
        steps.push_back(global_branch(p, c, l, features, fusion_parts[0]));
        continue;
      } else if (l.input == Input::kAsppBranches) {
        Buffer out = chain_buffer(p, Buffer{}, l.out, features.h, features.w);
        p.inputs[i] = [branches] {
          std::vector<torch::Tensor> views;
          for (const Buffer& b : branches) views.push_back(b.tensor());
          return torch::cat(views, /*dim=*/1);
        };
        steps = fusion(p, branches, out, l.relu);
        t = out;
      } else if (i + 1 == kLayers.size()) {
        // The last convolution writes NCHW straight into the output when oneDNN likes that.
        const Buffer src = t;
        p.inputs[i] = [src] { return src.tensor(); };
        const auto pd =
            conv_desc(c, nhwc(n, t.c, h, w), memory::desc({n, l.out, h, w}, Type::f32, Tag::any),
                      true, relu_ops(l.relu));
        if (pd.dst_desc() == p.output.get_desc()) {
          steps.push_back(conv_step(p, c, pd, t.mem(engine), p.output));
        } else {
          Buffer out = chain_buffer(p, t, l.out, h, w);
          const memory dst(pd.dst_desc(), engine, out.data);
          steps.push_back(conv_step(p, c, pd, t.mem(engine), dst));
          Step to_nchw;
          to_nchw.primitive = dnnl::reorder(dst, p.output);
          to_nchw.runs.push_back({{DNNL_ARG_FROM, dst}, {DNNL_ARG_TO, p.output}});
          p.output_steps.push_back(std::move(to_nchw));
        }
      } else {
        const Buffer src = t;
        p.inputs[i] = [src] { return src.tensor(); };
        if (l.input == Input::kUpsampled) {
          Buffer up = chain_buffer(p, t, t.c, 2 * t.h, 2 * t.w);
          steps.push_back(upsample(t, up));
          t = up;
        }
        Buffer out = chain_buffer(p, t, l.out, t.h, t.w);
        if (int8 && u8_output(i)) out.type = Type::u8;
        append(steps, conv(p, c, t, out, l.relu, int8 ? convs[i + 1].input_scale : 1.f));
        t = out;
      }
      if (l.pool != Pool::kNone || l.feature) {
        const bool last_encoder = i + 1 == kLayers.size() || kLayers[i + 1].part != Part::kEncoder;
        const int64_t ph = l.pool == Pool::kStride2 ? t.h / 2 : t.h;
        const int64_t pw = l.pool == Pool::kStride2 ? t.w / 2 : t.w;
        if (l.pool == Pool::kNone || ph != features.h || pw != features.w) {
          if (l.feature) {
            throw Error(ErrorCode::kInternal, "oneDNN plan: a feature row is not pooled to 1/8");
          }
        }
        std::vector<std::pair<Buffer, int64_t>> outs;
        Buffer pooled = features;
        if (!(l.feature && last_encoder)) {
          pooled = chain_buffer(p, t, t.c, ph, pw);
          outs.emplace_back(pooled, 0);
        }
        if (l.feature) {
          outs.emplace_back(features, feature_offset);
          feature_offset += t.c;
        }
        steps.push_back(pool(l, t, outs));
        t = pooled;
      }
    }
    return plan;
  }

  void run(Step& s) {
    if (s.kernel) {
      stream.wait();
      s.kernel();
      return;
    }
    for (Args& args : s.runs) s.primitive.execute(stream, args);
  }

  std::string describe(const Plan& p) const {
    std::map<std::string, int> kernels;
    for (const std::string& impl : p.impls) ++kernels[impl];
    std::string list;
    for (const auto& [impl, count] : kernels) {
      list += (list.empty() ? "" : ", ") + std::to_string(count) + "x " + impl;
    }
    std::string precision = "float32";
    if (int8) {
      std::string kept;
      for (size_t i = 0; i < kLayers.size(); ++i) {
        if (!int8_layer(i)) kept += (kept.empty() ? "" : ", ") + model::module_path(kLayers[i]);
      }
      precision = "int8 (u8 activations, s8 weights of " +
                  std::to_string(static_cast<int>(levels.weight)) +
                  " levels per output channel, int32 sums; u8 handed on between int8 layers; " +
                  "float32: " + kept + ")";
    }
    return "oneDNN " + std::to_string(dnnl_version()->major) + "." +
           std::to_string(dnnl_version()->minor) + "." + std::to_string(dnnl_version()->patch) +
           " primitives in " + precision + " with " + std::to_string(at::get_num_threads()) +
           " CPU thread(s); NHWC activations kept from layer to layer (the layout the "
           "convolutions choose); convolutions " +
           list +
           " with bias and ReLU fused; pooling written straight into the 1280-channel feature "
           "buffer; ASPP fusion split by branch (sum post-ops, the global branch as a per-image "
           "bias); TF1 x2 upsampling kernel";
  }
};

OnednnNet::OnednnNet(const model::MSINet& net, const Int8Calibration* int8)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  torch::NoGradGuard no_grad;
  m.int8 = int8 != nullptr;
  m.levels = int8_levels();
  for (size_t i = 0; i < kLayers.size(); ++i) {
    const Layer& l = kLayers[i];
    const torch::nn::Conv2d& c = net->conv(i);
    m.convs[i] = copy_conv(c->weight, c->bias, l.dilation);
    if (m.int8 && int8_layer(i)) {
      const double range = int8->input_range[i];
      if (!(range > 0)) {
        const std::string source = int8->source.empty() ? "the int8 calibration" : int8->source;
        throw Error(ErrorCode::kInput,
                    source + " has no input range for layer " + model::module_path(l) +
                        ": measure it again with `msinet bench --calibrate-int8 DIR`");
      }
      quantise_conv(m.convs[i], range, m.levels);
    }
    if (l.input != Input::kAsppBranches) continue;
    const torch::Tensor w = c->weight.detach();
    bool first = true;
    for (const auto& [column, count] : fusion_columns(Input::kFeatures)) {
      m.fusion_parts.push_back(
          copy_conv(w.narrow(1, column, count), first ? c->bias : torch::Tensor(), 1));
      first = false;
    }
    std::vector<torch::Tensor> global;
    for (const auto& [column, count] : fusion_columns(Input::kFeatureMean)) {
      global.push_back(w.narrow(1, column, count));
    }
    m.fusion_global = torch::cat(global, /*dim=*/1).to(torch::kFloat32).contiguous();
  }
}

OnednnNet::~OnednnNet() = default;

torch::Tensor OnednnNet::forward_raw(const torch::Tensor& x, LayerObserver* observer) {
  model::check_rgb_input(x);
  if (!x.device().is_cpu()) {
    throw Error(ErrorCode::kUsage, "the oneDNN plan runs on the CPU; move the input there first");
  }
  Impl& m = *impl_;
  c10::InferenceMode guard;
  torch::Tensor input = x.to(torch::kFloat32).contiguous();
  const std::vector<int64_t> shape = input.sizes().vec();
  auto found = m.plans.find(shape);
  if (found == m.plans.end()) {
    found = m.plans.emplace(shape, m.build(shape[0], shape[2], shape[3])).first;
    m.last_explain = m.describe(*found->second);
  }
  Plan& p = *found->second;
  torch::Tensor output = torch::empty({p.n, 1, p.h, p.w}, torch::kFloat32);
  p.input.set_data_handle(input.data_ptr<float>());
  p.output.set_data_handle(output.data_ptr<float>());
  m.run(p.input_reorder);
  for (size_t i = 0; i < kLayers.size(); ++i) {
    if (observer) {
      m.stream.wait();
      observer->before(i, p.inputs[i]());
    }
    for (Step& s : p.steps[i]) m.run(s);
    if (observer) {
      m.stream.wait();
      observer->after(i);
    }
  }
  for (Step& s : p.output_steps) m.run(s);
  m.stream.wait();
  return output;
}

std::string OnednnNet::explain() const {
  if (impl_->last_explain.empty()) {
    return "oneDNN primitives in float32, NHWC activations; kernels are chosen on the first "
           "forward pass";
  }
  return impl_->last_explain;
}

}  // namespace msinet::runtime
