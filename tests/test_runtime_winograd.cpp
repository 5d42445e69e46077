// msinet's Winograd F(4x4, 3x3) convolution against torch::conv2d in float64 at every 3x3
// layer shape it computes in MSI-Net (240x320 input), at sizes that are not multiples of the
// tile, for a batch, dilated, and the "winograd" plan against the plain NCHW forward.

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "msinet/model/layers.h"
#include "msinet/model/msinet.h"
#include "msinet/runtime/inference.h"
#include "msinet/runtime/layer_observer.h"
#include "msinet/util/error.h"
#include "winograd_conv.h"  // src/runtime: private to the runtime

namespace msinet::runtime {
namespace {

class WinogradTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(0);
    torch::set_num_threads(2);
  }
};

// Float32 Winograd rounds the transformed tiles (entries of B^T d B up to 100 |d|) and the 36
// products, so each output's error is a small multiple of float32's 6e-8 times the sum of |w||x|
// over its taps: the bound is relative to that sum. The largest ratio measured at the shapes below
// is 3.1e-6 (printed per case); 3e-5 leaves a factor 10 for other summation orders and CPUs,
// while one wrong tap or transform entry is off by about |w||x| of a tap, 1/(9 I) of the sum
// (1.7e-3 at I = 64, 8.7e-5 at I = 1280).
constexpr double kRelative = 3e-5;

// Checks WinogradConv(x) against relu(conv2d(x, w) + b) computed in float64.
void expect_matches_conv2d(int64_t n, int64_t in, int64_t out, int64_t h, int64_t w,
                           int64_t dilation, bool relu = true, bool bias = true) {
  SCOPED_TRACE(std::to_string(n) + "x" + std::to_string(in) + "x" + std::to_string(h) + "x" +
               std::to_string(w) + " -> " + std::to_string(out) + ", dilation " +
               std::to_string(dilation));
  const torch::Tensor x = torch::randn({n, in, h, w}).contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor weight = torch::randn({out, in, 3, 3}) / std::sqrt(9.0 * in);
  const torch::Tensor b = bias ? torch::randn({out}) : torch::Tensor();
  WinogradConv conv(weight, b, dilation, relu);
  const torch::Tensor got = conv.run(x);
  ASSERT_EQ(got.sizes(), (std::vector<int64_t>{n, out, h, w}));
  EXPECT_TRUE(got.is_contiguous(torch::MemoryFormat::ChannelsLast));

  const std::vector<int64_t> stride = {1, 1}, pad = {dilation, dilation},
                             dil = {dilation, dilation};
  torch::Tensor want =
      torch::conv2d(x.to(torch::kFloat64), weight.to(torch::kFloat64),
                    bias ? b.to(torch::kFloat64) : torch::Tensor(), stride, pad, dil);
  if (relu) want = want.relu();
  // The sum of |w||x| over each output's taps (a scale, so float32 is precise enough).
  const torch::Tensor scale = torch::conv2d(x.abs(), weight.abs(), {}, stride, pad, dil);
  const torch::Tensor err = (got.to(torch::kFloat64) - want).abs();
  const double ratio = (err / (scale.to(torch::kFloat64) + 1e-3)).max().item<double>();
  std::printf("  max |error| / sum |w||x| = %.2e\n", ratio);
  EXPECT_TRUE((err <= kRelative * scale.to(torch::kFloat64) + 1e-6).all().item<bool>())
      << "max error " << err.max().item<double>() << ", ratio " << ratio;
}

// Every 3x3 convolution of kLayers with 64 or more input channels at its feature size for a
// 240x320 input (the network's default size), one test per layer.
struct LayerShape {
  size_t row;
  int64_t h, w;
};

class WinogradLayerTest : public WinogradTest, public ::testing::WithParamInterface<LayerShape> {};

TEST_P(WinogradLayerTest, MatchesConv2dInFloat64) {
  const LayerShape& s = GetParam();
  const model::Layer& l = model::kLayers[s.row];
  ASSERT_EQ(l.kernel, 3);
  expect_matches_conv2d(1, l.in, l.out, s.h, s.w, l.dilation, l.relu);
}

// Sizes: 1/1 (conv1), 1/2 (conv2), 1/4 (conv3), 1/8 (conv4, conv5, ASPP) of 240x320; the
// decoder's convolutions read their input upsampled (1/4, then 1/2).
INSTANTIATE_TEST_SUITE_P(
    At240x320, WinogradLayerTest,
    ::testing::Values(LayerShape{1, 240, 320}, LayerShape{2, 120, 160}, LayerShape{3, 120, 160},
                      LayerShape{4, 60, 80}, LayerShape{5, 60, 80}, LayerShape{6, 60, 80},
                      LayerShape{7, 30, 40}, LayerShape{8, 30, 40}, LayerShape{9, 30, 40},
                      LayerShape{10, 30, 40}, LayerShape{11, 30, 40}, LayerShape{12, 30, 40},
                      LayerShape{14, 30, 40}, LayerShape{15, 30, 40}, LayerShape{16, 30, 40},
                      LayerShape{19, 60, 80}, LayerShape{20, 120, 160}),
    [](const ::testing::TestParamInfo<LayerShape>& info) {
      const model::Layer& l = model::kLayers[info.param.row];
      return std::string(l.part == model::Part::kEncoder ? "encoder_"
                         : l.part == model::Part::kAspp  ? "aspp_"
                                                         : "decoder_") +
             l.name;
    });

TEST_F(WinogradTest, SizesThatAreNotMultiplesOfTheTile) {
  for (const auto& [h, w] :
       std::vector<std::pair<int64_t, int64_t>>{{7, 9}, {1, 1}, {2, 3}, {5, 4}, {4, 4}, {13, 6}}) {
    for (const int64_t d : {1, 2, 4, 8, 12}) expect_matches_conv2d(1, 64, 64, h, w, d);
  }
}

TEST_F(WinogradTest, ABatchChannelsThatAreNotMultiplesOfTheBlockNoBiasNoRelu) {
  expect_matches_conv2d(2, 64, 64, 17, 23, 1);
  expect_matches_conv2d(2, 96, 40, 11, 10, 2);
  expect_matches_conv2d(2, 70, 33, 9, 14, 4, /*relu=*/false);
  expect_matches_conv2d(3, 130, 1, 6, 7, 1, /*relu=*/false, /*bias=*/false);
}

TEST_F(WinogradTest, ABatchEqualsItsImagesAloneAndShapesMayChange) {
  const torch::Tensor weight = torch::randn({64, 64, 3, 3}) / 24;
  WinogradConv conv(weight, torch::randn({64}), 2, true);
  const torch::Tensor batch = torch::randn({2, 64, 20, 30});
  const torch::Tensor together = conv.run(batch);
  const torch::Tensor small = conv.run(torch::randn({1, 64, 5, 7}));
  EXPECT_EQ(small.sizes(), (std::vector<int64_t>{1, 64, 5, 7}));
  // The same tiles in other chunks and sums: equal up to float rounding of the products.
  for (int64_t i = 0; i < 2; ++i) {
    const torch::Tensor alone = conv.run(batch.narrow(0, i, 1));
    EXPECT_LT((together.narrow(0, i, 1) - alone).abs().max().item<double>(), 1e-5);
  }
  // An NCHW input is read like its channels-last copy.
  EXPECT_TRUE(
      torch::equal(conv.run(batch), conv.run(batch.contiguous(torch::MemoryFormat::ChannelsLast))));
}

TEST_F(WinogradTest, RejectsWhatItCannotCompute) {
  const auto expect_usage = [](const std::function<void()>& f, const std::string& part) {
    try {
      f();
      FAIL() << "expected Error(kUsage) naming " << part;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kUsage);
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  expect_usage([] { WinogradConv(torch::zeros({8, 8, 1, 1}), {}, 1, true); }, "[O, I, 3, 3]");
  expect_usage([] { WinogradConv(torch::zeros({8, 8, 3, 3}), {}, 0, true); }, "dilation 0");
  WinogradConv conv(torch::zeros({8, 8, 3, 3}), {}, 1, true);
  expect_usage([&] { conv.run(torch::zeros({1, 4, 8, 8})); }, "[N, 8, H, W]");
  expect_usage([&] { conv.run(torch::zeros({1, 8, 8, 8}, torch::kFloat64)); }, "float32");
}

InferenceOptions plan(const std::string& name) {
  InferenceOptions o;
  o.plan = name;
  return o;
}

// At the three dataset sizes (SALICON; MIT1003 and the like; CAT2000 and FIWI) and a small batch.
TEST_F(WinogradTest, PlanMatchesThePlainForward) {
  model::MSINet net = model::random_msinet(0);
  InferenceNet fast(net, torch::kCPU, plan("winograd"));
  InferenceNet plain(net, torch::kCPU, plan("nchw"));
  for (const auto& shape : std::vector<std::vector<int64_t>>{
           {1, 3, 240, 320}, {1, 3, 360, 360}, {1, 3, 216, 384}, {2, 3, 48, 64}}) {
    SCOPED_TRACE(c10::str(c10::IntArrayRef(shape)));
    const torch::Tensor rgb = 255 * torch::rand(shape);
    const torch::Tensor got = fast.forward(rgb), want = plain.forward(rgb);
    ASSERT_EQ(got.sizes(), want.sizes());
    const double diff = (got - want).abs().max().item<double>();
    std::printf("  max |winograd - nchw| on the maps = %.2e\n", diff);
    EXPECT_LT(diff, 1e-4);
  }
  EXPECT_NE(fast.describe().find("Winograd"), std::string::npos) << fast.describe();
  EXPECT_NE(fast.explain().find("Winograd"), std::string::npos) << fast.explain();
}

TEST_F(WinogradTest, PlanIsFloat32Only) {
  InferenceOptions o = plan("winograd");
  o.precision = Precision::kBFloat16;
  try {
    InferenceNet net(model::random_msinet(0), torch::kCPU, o);
    FAIL() << "expected Error(kUsage)";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("winograd"), std::string::npos) << e.what();
  }
}

// Not a check: prints the whole network's time per plan and each layer's time under
// "channels-last" (LibTorch's packed oneDNN convolutions) and "winograd", the plans taking turns
// so that a busy machine slows them alike. Run with --gtest_also_run_disabled_tests.
TEST_F(WinogradTest, DISABLED_PrintTimes) {
  const std::vector<std::string> names = {"winograd", "onednn", "channels-last", "nchw"};
  model::MSINet net = model::random_msinet(0);
  std::vector<std::unique_ptr<InferenceNet>> nets;
  for (const std::string& n : names)
    nets.push_back(std::make_unique<InferenceNet>(net, torch::kCPU, plan(n)));
  for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{240, 320}, {360, 360}}) {
    const torch::Tensor rgb = 255 * torch::rand({1, 3, h, w});
    std::vector<std::vector<double>> ms(names.size());
    std::vector<LayerClock> clocks(names.size());
    for (auto& n : nets) n->forward(rgb);  // warm-up: primitives, packing, buffers
    for (int pass = 0; pass < 5; ++pass) {
      for (size_t i = 0; i < nets.size(); ++i) {
        const auto start = std::chrono::steady_clock::now();
        nets[i]->forward_raw(rgb, names[i] == "nchw" ? nullptr : &clocks[i]);
        ms[i].push_back(
            1e3 * std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
    }
    std::printf("%ldx%ld, %d threads, ms (median of 5, min):\n", h, w, at::get_num_threads());
    for (size_t i = 0; i < names.size(); ++i) {
      std::vector<double> t = ms[i];
      std::sort(t.begin(), t.end());
      std::printf("  %-14s %8.1f %8.1f\n", names[i].c_str(), t[2], t[0]);
    }
    std::printf("  per layer (ms, mean of 5; with its pooling): channels-last winograd\n");
    for (size_t l = 0; l < model::kLayers.size(); ++l) {
      if (model::kLayers[l].kernel != 3) continue;
      std::printf("  %-8s %-8s %8.2f %8.2f\n",
                  model::kLayers[l].part == model::Part::kEncoder ? "encoder"
                  : model::kLayers[l].part == model::Part::kAspp  ? "aspp"
                                                                  : "decoder",
                  model::kLayers[l].name, 1e3 * clocks[2].seconds[l] / 5,
                  1e3 * clocks[0].seconds[l] / 5);
    }
  }
}

}  // namespace
}  // namespace msinet::runtime
