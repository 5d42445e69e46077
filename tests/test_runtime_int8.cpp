// Int8 inference through the oneDNN plan: one int8 convolution against the quantised arithmetic
// done by hand in float64, the whole network against float32, and the calibration's checks.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "msinet/model/layers.h"
#include "msinet/model/msinet.h"
#include "msinet/runtime/cpu_info.h"
#include "msinet/runtime/inference.h"
#include "msinet/runtime/int8_calibration.h"
#include "msinet/runtime/onednn_net.h"
#include "msinet/util/error.h"

namespace msinet::runtime {
namespace {

using model::kLayers;

class Int8Test : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(0);
    torch::set_num_threads(2);
  }
};

// A photo-like image 0..255: smooth gradients, a bright disc, noise.
torch::Tensor photo_like(int64_t h, int64_t w, double cy, double cx) {
  torch::Tensor y = torch::linspace(0, 1, h).view({1, 1, h, 1});
  torch::Tensor x = torch::linspace(0, 1, w).view({1, 1, 1, w});
  torch::Tensor disc = ((y - cy).pow(2) + (x - cx).pow(2) < 0.03).to(torch::kFloat32);
  torch::Tensor img = torch::cat(
      {255 * (0.6 * x + 0.4 * disc), 255 * (0.5 * y + 0.5 * disc), 255 * (0.2 + 0.6 * x * y)}, 1);
  return (img + 10 * torch::rand({1, 3, h, w})).clamp(0, 255);
}

torch::Tensor mean_subtracted(const torch::Tensor& rgb) {
  return rgb - torch::tensor({model::kRgbMean[0], model::kRgbMean[1], model::kRgbMean[2]})
                   .view({1, 3, 1, 1});
}

// Keeps a copy of every layer's input (NCHW, as the plan held it: u8 or float32).
class Inputs : public LayerObserver {
 public:
  std::vector<torch::Tensor> seen = std::vector<torch::Tensor>(kLayers.size());
  void before(size_t layer, const torch::Tensor& input) override {
    seen[layer] = input.contiguous().clone();
  }
  void after(size_t) override {}
};

// The weight levels the int8 arithmetic has here: 127 where the CPU has VNNI and oneDNN may use
// it, else 63 (7 bits). Run with DNNL_MAX_CPU_ISA=AVX2 to check the path without VNNI, where 127
// levels would saturate oneDNN's 16-bit pair sums and miss the exact arithmetic below.
double weight_levels() {
  const std::string& isa = cpu_info().isa;
  const bool cpu_vnni =
      isa.find("avx512_vnni") != std::string::npos || isa.find("avx_vnni") != std::string::npos;
  using dnnl::cpu_isa;
  const cpu_isa used = dnnl::get_effective_cpu_isa();
  const bool onednn_vnni = used == cpu_isa::all || used == cpu_isa::avx512_core_vnni ||
                           used == cpu_isa::avx512_core_bf16 || used == cpu_isa::avx512_core_amx ||
                           used == cpu_isa::avx2_vnni;
  return cpu_vnni && onednn_vnni ? 127.0 : 63.0;
}

// The quantised arithmetic of int8 layer `i` on its float input `x` [1, C, H, W], in float64:
// u8 input, s8 weights per output channel, exact integer sums, bias and ReLU, the result scaled
// by `out_scale` / (input scale x weight scale).
torch::Tensor quantised_conv(const model::MSINet& net, size_t i, const torch::Tensor& x,
                             double input_range, double out_scale) {
  const auto f64 = torch::kFloat64;
  const double a = 255.0 / input_range;
  const torch::Tensor w = net->conv(i)->weight.detach().to(f64);
  const torch::Tensor b = net->conv(i)->bias.detach().to(f64);
  const torch::Tensor wmax = std::get<0>(w.abs().flatten(1).max(1));
  const torch::Tensor ws = weight_levels() / wmax;  // [O]
  const torch::Tensor qx = torch::round(x.to(f64) * a).clamp(0, 255);
  const torch::Tensor qw = torch::round(w * ws.view({-1, 1, 1, 1})).clamp(-127, 127);
  const int64_t d = kLayers[i].dilation, pad = d * (kLayers[i].kernel - 1) / 2;
  torch::Tensor acc = torch::conv2d(qx, qw, {}, 1, pad, d);
  acc = acc + (b * a * ws).view({1, -1, 1, 1});
  return torch::relu(acc) * (out_scale / (a * ws)).view({1, -1, 1, 1});
}

Int8Calibration calibration_for(const model::MSINet& net, const std::vector<torch::Tensor>& imgs) {
  return measure_int8_calibration(net, imgs);
}

// conv2_1 reads float32 (after the pooling) and hands u8 to conv2_2: its u8 output is the
// quantised arithmetic rounded, within one u8 step (float32 scales inside oneDNN).
TEST_F(Int8Test, AnInt8LayerWithU8OutputIsTheQuantisedArithmetic) {
  model::MSINet net = model::random_msinet(1);
  const torch::Tensor rgb = photo_like(48, 64, 0.4, 0.6);
  const Int8Calibration cal = calibration_for(net, {rgb});
  OnednnNet int8(net, &cal);
  Inputs seen;
  torch::NoGradGuard no_grad;
  int8.forward_raw(mean_subtracted(rgb), &seen);
  const size_t i = model::layer_index(model::Part::kEncoder, "conv2_1");
  ASSERT_EQ(seen.seen[i].scalar_type(), torch::kFloat32);
  ASSERT_EQ(seen.seen[i + 1].scalar_type(), torch::kByte) << "conv2_1 should hand on u8";
  const torch::Tensor want = torch::round(quantised_conv(net, i, seen.seen[i], cal.input_range[i],
                                                         255.0 / cal.input_range[i + 1]))
                                 .clamp(0, 255);
  const torch::Tensor got = seen.seen[i + 1].to(torch::kFloat64);
  ASSERT_EQ(got.sizes(), want.sizes());
  const torch::Tensor diff = (got - want).abs();
  EXPECT_LE(diff.max().item<double>(), 1.0);
  // Off by one only where the exact value sits at a rounding boundary: rare.
  EXPECT_LT(diff.gt(0).to(torch::kFloat64).mean().item<double>(), 0.01);
  EXPECT_GT(want.gt(0).to(torch::kFloat64).mean().item<double>(), 0.1)
      << "a dead layer tests little";
}

// conv1_2 reads the float32 output of conv1_1 and writes float32 for its pooling: the pooled
// output is the max pool of the quantised arithmetic, to float32 rounding.
TEST_F(Int8Test, AnInt8LayerWithFloatOutputIsTheQuantisedArithmetic) {
  model::MSINet net = model::random_msinet(2);
  const torch::Tensor rgb = photo_like(48, 64, 0.5, 0.3);
  const Int8Calibration cal = calibration_for(net, {rgb});
  OnednnNet int8(net, &cal);
  Inputs seen;
  torch::NoGradGuard no_grad;
  int8.forward_raw(mean_subtracted(rgb), &seen);
  const size_t i = model::layer_index(model::Part::kEncoder, "conv1_2");
  // conv1_1 runs in float32 either way: its output is conv1_2's float input.
  Inputs fp32_seen;
  OnednnNet fp32(net);
  fp32.forward_raw(mean_subtracted(rgb), &fp32_seen);
  const torch::Tensor x = fp32_seen.seen[i];
  ASSERT_TRUE(torch::allclose(seen.seen[i], x));
  const torch::Tensor want =
      torch::max_pool2d(quantised_conv(net, i, x, cal.input_range[i], 1.0), 2, 2);
  const torch::Tensor got = seen.seen[i + 1].to(torch::kFloat64);
  ASSERT_EQ(got.sizes(), want.sizes());
  const double scale = want.abs().max().item<double>();
  EXPECT_LT((got - want).abs().max().item<double>(), 1e-5 * scale);
}

double correlation(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor x = a.flatten().to(torch::kFloat64) - a.to(torch::kFloat64).mean();
  const torch::Tensor y = b.flatten().to(torch::kFloat64) - b.to(torch::kFloat64).mean();
  return ((x * y).sum() / (x.norm() * y.norm())).item<double>();
}

// The whole network in int8 against the float32 plain loop (plan nchw), on images other than
// those it was calibrated on: the maps correlate (CC >= 0.995) and differ little.
TEST_F(Int8Test, WholeNetworkMapsCloseToFloat32) {
  model::MSINet net = model::random_msinet(3);
  std::vector<torch::Tensor> calib;
  for (int k = 0; k < 3; ++k) calib.push_back(photo_like(240, 320, 0.3 + 0.2 * k, 0.5));
  InferenceOptions o;
  o.precision = Precision::kInt8;
  o.int8_calibration = std::make_shared<Int8Calibration>(calibration_for(net, calib));
  InferenceNet int8(net, torch::kCPU, o);
  InferenceNet fp32(net, torch::kCPU, plain_options());
  EXPECT_NE(int8.explain().find("int8"), std::string::npos) << int8.explain();
  for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{240, 320}, {360, 360}}) {
    const torch::Tensor rgb = photo_like(h, w, 0.6, 0.35);
    const torch::Tensor want = fp32.forward(rgb);
    const torch::Tensor got = int8.forward(rgb);
    ASSERT_EQ(got.sizes(), want.sizes());
    const double cc = correlation(got, want);
    const double diff = (got - want).abs().max().item<double>();
    RecordProperty("cc_" + std::to_string(h), std::to_string(cc));
    EXPECT_GE(cc, 0.995) << h << "x" << w << " max abs " << diff;
    EXPECT_LT(diff, 0.1) << h << "x" << w;
  }
}

// A batch runs each image as it runs alone (the per-image ASPP bias, the u8 buffers of a batch),
// across a shape change and back.
TEST_F(Int8Test, ABatchMatchesItsImagesOneByOne) {
  model::MSINet net = model::random_msinet(7);
  const torch::Tensor a = mean_subtracted(photo_like(64, 80, 0.3, 0.3));
  const torch::Tensor b = mean_subtracted(photo_like(64, 80, 0.7, 0.6));
  const Int8Calibration cal = calibration_for(net, {a, b});
  OnednnNet int8(net, &cal);
  torch::NoGradGuard no_grad;
  const torch::Tensor both = int8.forward_raw(torch::cat({a, b}));
  const torch::Tensor first = int8.forward_raw(a), second = int8.forward_raw(b);
  const double range = (first.max() - first.min()).item<double>();
  ASSERT_GT(range, 0.0);
  // Equal where oneDNN runs a batch with the kernels of one image (AVX-512 here); elsewhere
  // its float32 layers may sum in another order, and a u8 rounding that flips moves the map by
  // a fraction of a percent (0.75% measured under DNNL_MAX_CPU_ISA=AVX2). Another image's map
  // is half the range away.
  EXPECT_LT((both[0] - first[0]).abs().max().item<double>(), 2e-2 * range);
  EXPECT_LT((both[1] - second[0]).abs().max().item<double>(), 2e-2 * range);
  EXPECT_GT((first - second).abs().max().item<double>(), 0.2 * range) << "images alike";
}

TEST_F(Int8Test, Int8WithoutACalibrationIsAUsageError) {
  model::MSINet net = model::random_msinet(4);
  InferenceOptions o;
  o.precision = Precision::kInt8;
  try {
    InferenceNet bad(net, torch::kCPU, o);
    FAIL() << "no calibration accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("--calibrate-int8"), std::string::npos) << e.what();
  }
  EXPECT_EQ(parse_precision("int8"), Precision::kInt8);
  EXPECT_EQ(precision_name(Precision::kInt8), "int8");
  EXPECT_FALSE(precision_unsupported_reason(Precision::kInt8, torch::kCPU).size());
}

TEST_F(Int8Test, ACalibrationOfOtherWeightsIsAnInputError) {
  model::MSINet measured = model::random_msinet(5);
  model::MSINet other = model::random_msinet(6);
  auto cal =
      std::make_shared<Int8Calibration>(calibration_for(measured, {photo_like(32, 48, 0.5, 0.5)}));
  cal->source = "/somewhere/int8.yaml";
  EXPECT_EQ(cal->fingerprint, weights_fingerprint(measured));
  EXPECT_NE(cal->fingerprint, weights_fingerprint(other));
  InferenceOptions o;
  o.precision = Precision::kInt8;
  o.int8_calibration = cal;
  try {
    InferenceNet bad(other, torch::kCPU, o);
    FAIL() << "a calibration of other weights accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInput);
    EXPECT_NE(std::string(e.what()).find("/somewhere/int8.yaml"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--calibrate-int8"), std::string::npos) << e.what();
  }
  InferenceNet good(measured, torch::kCPU, o);
}

}  // namespace
}  // namespace msinet::runtime
