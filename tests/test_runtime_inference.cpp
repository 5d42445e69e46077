// The fast inference path: NHWC kernels against hand-computed values and the reference ops,
// InferenceNet against MSINet::forward in every configuration, bf16 against fp32.

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "msinet/model/layers.h"
#include "msinet/model/msinet.h"
#include "msinet/model/ops.h"
#include "msinet/runtime/inference.h"
#include "msinet/runtime/memory.h"
#include "msinet/runtime/nhwc_ops.h"
#include "msinet/util/error.h"

namespace msinet::model {
using namespace msinet::runtime;  // NOLINT(google-build-using-namespace)
namespace {

class InferenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(0);
    torch::set_num_threads(2);
  }
};

torch::Tensor nhwc(const torch::Tensor& x) {
  return x.contiguous(torch::MemoryFormat::ChannelsLast);
}

// Random biases too, so that every bias reaches the output.
MSINet random_net() {
  MSINet net;
  torch::NoGradGuard no_grad;
  for (auto& item : net->named_parameters()) {
    const std::string& k = item.key();
    if (k.size() > 5 && k.substr(k.size() - 5) == ".bias") item.value().uniform_(-0.1, 0.1);
  }
  return net;
}

// A photo-like batch: smooth gradients plus a bright disc, values 0..255.
torch::Tensor photo_like(int64_t n, int64_t h, int64_t w) {
  torch::Tensor y = torch::linspace(0, 1, h).view({1, 1, h, 1});
  torch::Tensor x = torch::linspace(0, 1, w).view({1, 1, 1, w});
  std::vector<torch::Tensor> images;
  for (int64_t i = 0; i < n; ++i) {
    const double cy =
        0.3 + 0.4 * static_cast<double>(i) / static_cast<double>(std::max<int64_t>(n, 1));
    torch::Tensor disc = ((y - cy).pow(2) + (x - 0.6).pow(2) < 0.04).to(torch::kFloat32);
    torch::Tensor r = 255 * (0.7 * x + 0.3 * disc);
    torch::Tensor g = 255 * (0.5 * y + 0.5 * disc);
    torch::Tensor b = 255 * (0.2 + 0.6 * x * y + 0 * disc);
    images.push_back(torch::cat({r, g, b}, 1)[0]);
  }
  return (torch::stack(images) + 8 * torch::rand({n, 3, h, w})).clamp(0, 255);
}

double correlation(const torch::Tensor& a, const torch::Tensor& b) {
  torch::Tensor x = a.flatten().to(torch::kFloat64), y = b.flatten().to(torch::kFloat64);
  x = x - x.mean();
  y = y - y.mean();
  return ((x * y).sum() / (x.norm() * y.norm())).item<double>();
}

TEST_F(InferenceTest, UpsampleMatchesHandComputedValues) {
  // Channel 0: [[1, 3], [5, 7]]; channel 1 = 10 x channel 0. out[2k] = in[k],
  // out[2k+1] = (in[k] + in[k+1]) / 2, the last row and column repeat.
  torch::Tensor in = torch::tensor({1.f, 3.f, 5.f, 7.f}).view({1, 1, 2, 2});
  in = torch::cat({in, 10 * in}, 1);
  const torch::Tensor expected = torch::tensor({1.f, 2.f, 3.f, 3.f,  //
                                                3.f, 4.f, 5.f, 5.f,  //
                                                5.f, 6.f, 7.f, 7.f,  //
                                                5.f, 6.f, 7.f, 7.f})
                                     .view({1, 1, 4, 4});
  torch::Tensor out = upsample2x_nhwc(nhwc(in));
  EXPECT_TRUE(out.is_contiguous(torch::MemoryFormat::ChannelsLast));
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 2, 4, 4}));
  EXPECT_TRUE(torch::equal(out.narrow(1, 0, 1), expected)) << out;
  EXPECT_TRUE(torch::equal(out.narrow(1, 1, 1), 10 * expected)) << out;
}

TEST_F(InferenceTest, UpsampleEqualsReferenceOpBitForBit) {
  for (auto [h, w] : {std::pair<int64_t, int64_t>{1, 1}, {1, 5}, {3, 1}, {5, 7}, {6, 8}}) {
    torch::Tensor x = torch::randn({2, 19, h, w}) * 100;
    EXPECT_TRUE(torch::equal(upsample2x_nhwc(nhwc(x)), upsample2x_tf_legacy(x))) << h << "x" << w;
  }
  torch::Tensor x = torch::randn({1, 16, 6, 10});
  torch::Tensor b = upsample2x_nhwc(nhwc(x.to(torch::kBFloat16))).to(torch::kFloat32);
  EXPECT_LT((b - upsample2x_tf_legacy(x)).abs().max().item<float>(), 0.05f);
}

TEST_F(InferenceTest, PoolsWriteEverySliceLikeTheReferenceOps) {
  torch::Tensor x = torch::randn({2, 5, 6, 8});
  // 2x2/2 VALID, into a plain output and into channels [3, 8) of a wider buffer.
  torch::Tensor plain = empty_nhwc(2, 5, 3, 4, torch::kFloat32);
  torch::Tensor wide = torch::zeros({2, 9, 3, 4}).contiguous(torch::MemoryFormat::ChannelsLast);
  max_pool2x2_nhwc(nhwc(x), {{plain, 0}, {wide, 3}});
  const torch::Tensor expected = torch::max_pool2d(x, 2, 2);
  EXPECT_TRUE(torch::equal(plain, expected));
  EXPECT_TRUE(torch::equal(wide.narrow(1, 3, 5), expected));
  EXPECT_TRUE(torch::equal(wide.narrow(1, 0, 3), torch::zeros({2, 3, 3, 4})));
  EXPECT_TRUE(torch::equal(wide.narrow(1, 8, 1), torch::zeros({2, 1, 3, 4})));
  // 2x2/1 SAME.
  torch::Tensor same = empty_nhwc(2, 5, 6, 8, torch::kFloat32);
  max_pool_same_s1_nhwc(nhwc(x), {{same, 0}});
  EXPECT_TRUE(torch::equal(same, max_pool_same_stride1(x)));
  // By hand: [[1, 4], [3, 2]] -> [[4, 4], [3, 2]] (padding never wins, even below zero).
  torch::Tensor small = -torch::tensor({1.f, 4.f, 3.f, 2.f}).view({1, 1, 2, 2});
  torch::Tensor small_out = empty_nhwc(1, 1, 2, 2, torch::kFloat32);
  max_pool_same_s1_nhwc(nhwc(small), {{small_out, 0}});
  EXPECT_TRUE(torch::equal(small_out, -torch::tensor({1.f, 2.f, 2.f, 2.f}).view({1, 1, 2, 2})))
      << small_out;
}

TEST_F(InferenceTest, KernelsRejectTensorsThatAreNotChannelsLast) {
  torch::Tensor x = torch::randn({1, 4, 4, 4});
  try {
    upsample2x_nhwc(x);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("channels-last"), std::string::npos) << e.what();
  }
  torch::Tensor narrow = empty_nhwc(1, 3, 2, 2, torch::kFloat32);
  EXPECT_THROW(max_pool2x2_nhwc(nhwc(x), {{narrow, 0}}), Error);
}

struct Expected {
  torch::Tensor raw, maps;
};

Expected reference_maps(MSINet net, const torch::Tensor& rgb) {
  torch::NoGradGuard no_grad;
  return {net->forward_raw(rgb), net->forward(rgb)};
}

void expect_same_maps(const MSINet& net, const InferenceOptions& options, const torch::Tensor& rgb,
                      const Expected& expected) {
  InferenceNet fast(net, torch::Device(torch::kCPU), options);
  const torch::Tensor raw = fast.forward_raw(rgb);
  ASSERT_EQ(raw.sizes(), expected.raw.sizes());
  const double scale = expected.raw.abs().max().item<double>();
  ASSERT_GT(scale, 0.0);
  EXPECT_LT((raw - expected.raw).abs().max().item<double>(), 1e-5 * scale) << fast.describe();
  const torch::Tensor out = fast.forward(rgb);
  EXPECT_EQ(out.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(out.is_contiguous());
  EXPECT_LT((out - expected.maps).abs().max().item<double>(), 1e-5) << fast.describe();
  // Second call: packed weights and buffers are reused.
  EXPECT_LT((fast.forward(rgb) - expected.maps).abs().max().item<double>(), 1e-5)
      << fast.describe();
}

TEST_F(InferenceTest, EveryConfigurationEqualsTheModelInFloat32) {
  MSINet net = random_net();
  net->eval();
  // 48x64: 6x8 features, so the dilated ASPP taps reach inside the map.
  const torch::Tensor rgb = photo_like(2, 48, 64);
  const Expected expected = reference_maps(net, rgb);
  // The raw map must vary, or the normalised comparison proves little.
  EXPECT_GT((expected.raw.amax({1, 2, 3}) - expected.raw.amin({1, 2, 3})).min().item<double>(),
            1e-3);
  for (bool channels_last : {true, false}) {
    for (bool prepack : {true, false}) {
      for (bool kernels : {true, false}) {
        InferenceOptions o;
        o.plan = "";  // exactly these switches
        o.channels_last = channels_last;
        o.prepack = prepack;
        o.nhwc_kernels = kernels;
        SCOPED_TRACE(std::to_string(channels_last) + std::to_string(prepack) +
                     std::to_string(kernels));
        expect_same_maps(net, o, rgb, expected);
      }
    }
  }
}

TEST_F(InferenceTest, ShapeChangesAndTinyInputs) {
  MSINet net = random_net();
  InferenceNet fast(net, torch::Device(torch::kCPU));
  torch::NoGradGuard no_grad;
  for (auto [n, h, w] :
       {std::tuple<int64_t, int64_t, int64_t>{1, 8, 8}, {3, 16, 24}, {1, 24, 16}, {1, 8, 8}}) {
    const torch::Tensor rgb = torch::rand({n, 3, h, w}) * 255;
    const torch::Tensor expected = net->forward_raw(rgb);
    const double scale = expected.abs().max().item<double>();
    EXPECT_LT((fast.forward_raw(rgb) - expected).abs().max().item<double>(), 1e-5 * scale)
        << n << "x" << h << "x" << w;
  }
  try {
    fast.forward(torch::rand({1, 3, 20, 24}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("20x24"), std::string::npos) << e.what();
  }
}

TEST_F(InferenceTest, Bfloat16MapIsCloseToFloat32) {
  const std::string why =
      precision_unsupported_reason(Precision::kBFloat16, torch::Device(torch::kCPU));
  if (!why.empty()) GTEST_SKIP() << "the bf16 network is NOT checked here: " << why;
  MSINet net = random_net();
  const torch::Tensor rgb = photo_like(2, 64, 96);
  InferenceNet fp32(net, torch::Device(torch::kCPU));
  InferenceOptions o;
  o.precision = Precision::kBFloat16;
  InferenceNet bf16(net, torch::Device(torch::kCPU), o);
  EXPECT_NE(bf16.describe().find("bf16"), std::string::npos);
  const torch::Tensor a = fp32.forward(rgb), b = bf16.forward(rgb);
  EXPECT_EQ(b.scalar_type(), torch::kFloat32);
  for (int64_t i = 0; i < 2; ++i) {
    const double cc = correlation(a[i], b[i]);
    EXPECT_GT(cc, 0.99) << "image " << i;
    EXPECT_LT(cc, 1.0 - 1e-9) << "bf16 should differ from fp32 somewhere";
  }
  EXPECT_GE(b.min().item<float>(), 0.0f);
  EXPECT_LE(b.max().item<float>(), 1.0f);
}

TEST_F(InferenceTest, PrecisionNamesAndMessages) {
  EXPECT_EQ(parse_precision("fp32"), Precision::kFloat32);
  EXPECT_EQ(parse_precision("bf16"), Precision::kBFloat16);
  EXPECT_EQ(parse_precision("fp16"), Precision::kFloat16);
  EXPECT_EQ(precision_name(Precision::kBFloat16), "bf16");
  try {
    parse_precision("fp8");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("'fp8'"), std::string::npos) << e.what();
  }
  const torch::Device cpu(torch::kCPU);
  EXPECT_EQ(precision_unsupported_reason(Precision::kFloat32, cpu), "");
  const std::string fp16 = precision_unsupported_reason(Precision::kFloat16, cpu);
  EXPECT_NE(fp16.find("CUDA"), std::string::npos) << fp16;
  MSINet net;
  InferenceOptions o;
  o.precision = Precision::kFloat16;
  EXPECT_THROW(InferenceNet(net, cpu, o), Error);
  if (!cpu_has_bf16()) {
    const std::string bf16 = precision_unsupported_reason(Precision::kBFloat16, cpu);
    EXPECT_NE(bf16.find("AVX512_BF16"), std::string::npos) << bf16;
  }
}

TEST_F(InferenceTest, FreedLargeBlocksAreReusedBySize) {
  reuse_freed_memory();
  reuse_freed_memory();  // once only
  const void* first = nullptr;
  {
    torch::Tensor a = torch::empty({3 << 20}, torch::kFloat32);  // 12 MiB
    first = a.data_ptr();
  }
  torch::Tensor b = torch::full({3 << 20}, 2.5f);
  EXPECT_EQ(b.data_ptr(), first);
  EXPECT_EQ(b.sum().item<double>(), 2.5 * (3 << 20));
  torch::Tensor c = torch::empty({3 << 20}, torch::kFloat32);  // the block is taken: a new one
  EXPECT_NE(c.data_ptr(), first);
  torch::Tensor small = torch::arange(10);
  EXPECT_EQ(small.sum().item<int64_t>(), 45);
  // The network still computes the same maps through the allocator.
  MSINet net = random_net();
  const torch::Tensor rgb = photo_like(1, 32, 48);
  const Expected expected = reference_maps(net, rgb);
  InferenceNet fast(net, torch::Device(torch::kCPU));
  for (int i = 0; i < 2; ++i) {
    EXPECT_LT((fast.forward(rgb) - expected.maps).abs().max().item<double>(), 1e-5);
  }
}

TEST_F(InferenceTest, FlopCountMatchesThePublishedFigure) {
  // 91.1 GFLOP at 240x320 (issue figure); by hand, conv1_1 alone is 2*9*3*64*240*320.
  EXPECT_NEAR(forward_flops(240, 320) / 1e9, 91.1, 0.05);
  const double conv1_1 = 2.0 * 9 * 3 * 64 * 240 * 320;
  EXPECT_GT(forward_flops(240, 320), 300 * conv1_1);
  // Every layer but the 1x1 global branch scales with the pixel count.
  const double global = 2.0 * 1280 * 256;
  EXPECT_NEAR(forward_flops(480, 640) - global, 4 * (forward_flops(240, 320) - global), 1e3);
}

}  // namespace
}  // namespace msinet::model
