// The assembled network: size, shapes, input checks, and an independent forward pass.

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "msinet/checkpoint/tf_names.h"
#include "msinet/model/msinet.h"
#include "msinet/util/error.h"

namespace msinet::model {
using namespace msinet::checkpoint;  // NOLINT(google-build-using-namespace)
namespace {

namespace F = torch::nn::functional;

class ModelNetTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

// Random biases too, so that every bias reaches the output.
MSINet random_net() {
  MSINet net;
  torch::NoGradGuard no_grad;
  for (auto& item : net->named_parameters()) {
    if (item.key().size() > 5 && item.key().substr(item.key().size() - 5) == ".bias") {
      item.value().uniform_(-0.1, 0.1);
    }
  }
  return net;
}

TEST_F(ModelNetTest, ParameterCountMatchesPublishedModel) {
  MSINet net;
  EXPECT_EQ(count_parameters(net), 24934209);
  // The same from the layer table of the paper: k*k*in*out + out per convolution.
  struct L {
    int64_t k, in, out;
  };
  const std::vector<L> layers = {{3, 3, 64},     {3, 64, 64},    {3, 64, 128},   {3, 128, 128},
                                 {3, 128, 256},  {3, 256, 256},  {3, 256, 256},  {3, 256, 512},
                                 {3, 512, 512},  {3, 512, 512},  {3, 512, 512},  {3, 512, 512},
                                 {3, 512, 512},  {1, 1280, 256}, {3, 1280, 256}, {3, 1280, 256},
                                 {3, 1280, 256}, {1, 1280, 256}, {1, 1280, 256}, {3, 256, 128},
                                 {3, 128, 64},   {3, 64, 32},    {3, 32, 1}};
  int64_t total = 0;
  for (const L& l : layers) total += l.k * l.k * l.in * l.out + l.out;
  EXPECT_EQ(total, 24934209);
  EXPECT_EQ(net->parameters().size(), 46u);
}

TEST_F(ModelNetTest, OutputShapeEqualsInputShapeForEveryDatasetSize) {
  // ref: saliency/config.py DIMS (image_size_<dataset>)
  const std::map<std::string, std::pair<int64_t, int64_t>> sizes = {
      {"salicon", {240, 320}},  {"mit1003", {360, 360}}, {"cat2000", {216, 384}},
      {"dutomron", {360, 360}}, {"pascals", {360, 360}}, {"osie", {240, 320}},
      {"fiwi", {216, 384}}};
  MSINet net;
  net->eval();
  torch::NoGradGuard no_grad;
  std::map<std::pair<int64_t, int64_t>, bool> done;
  for (const auto& [dataset, hw] : sizes) {
    if (done[hw]) continue;  // identical sizes give identical shapes
    done[hw] = true;
    torch::Tensor out = net->forward(torch::rand({1, 3, hw.first, hw.second}) * 255);
    EXPECT_EQ(out.sizes(), torch::IntArrayRef({1, 1, hw.first, hw.second})) << dataset;
    EXPECT_FLOAT_EQ(out.min().item<float>(), 0.0f) << dataset;
    EXPECT_LE(out.max().item<float>(), 1.0f) << dataset;
    EXPECT_GT(out.max().item<float>(), 0.999f) << dataset;
  }
  EXPECT_EQ(done.size(), 3u);
}

TEST_F(ModelNetTest, SmallMultiplesOfEightKeepTheirShape) {
  MSINet net;
  torch::NoGradGuard no_grad;
  for (const auto& hw : std::vector<std::pair<int64_t, int64_t>>{{8, 8}, {16, 40}, {48, 64}}) {
    torch::Tensor out = net->forward(torch::rand({2, 3, hw.first, hw.second}) * 255);
    EXPECT_EQ(out.sizes(), torch::IntArrayRef({2, 1, hw.first, hw.second}));
  }
}

void expect_usage_error(MSINet& net, const torch::Tensor& input, const std::string& fragment1,
                        const std::string& fragment2) {
  try {
    net->forward(input);
    FAIL() << "no error for input " << input.sizes();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUsage);
    EXPECT_NE(std::string(e.what()).find(fragment1), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment2), std::string::npos) << e.what();
  }
}

TEST_F(ModelNetTest, RejectsSizesThatAreNotMultiplesOfEight) {
  MSINet net;
  expect_usage_error(net, torch::zeros({1, 3, 250, 320}), "250x320", "multiples of 8");
  expect_usage_error(net, torch::zeros({1, 3, 48, 60}), "48x60", "multiples of 8");
  expect_usage_error(net, torch::zeros({1, 4, 48, 64}), "[1, 4, 48, 64]", "[N, 3, H, W]");
  expect_usage_error(net, torch::zeros({3, 48, 64}), "[3, 48, 64]", "[N, 3, H, W]");
}

// ---- Independent forward pass written from the reference semantics --------------------------

// Weight by TF name, converted here from HWIO to OIHW.
struct TfWeights {
  std::map<std::string, torch::Tensor> by_name;
  torch::Tensor kernel(const std::string& scope) const {
    return by_name.at(scope + "/kernel").permute({3, 2, 0, 1});
  }
  torch::Tensor bias(const std::string& scope) const { return by_name.at(scope + "/bias"); }
};

TfWeights tf_weights_of(const MSINet& net) {
  TfWeights w;
  for (auto& [name, t] : export_tf_weights(net)) {
    w.by_name[name] = torch::from_blob(t.values.data(), t.shape, torch::kFloat32).clone();
  }
  return w;
}

torch::Tensor ref_conv(const TfWeights& w, const std::string& scope, const torch::Tensor& x,
                       int64_t dilation, bool relu) {
  torch::Tensor k = w.kernel(scope);
  const int64_t pad = dilation * (k.size(2) - 1) / 2;
  torch::Tensor padded = F::pad(x, F::PadFuncOptions({pad, pad, pad, pad}));
  const std::vector<int64_t> stride = {1, 1}, no_padding = {0, 0}, dilations = {dilation, dilation};
  torch::Tensor y = torch::conv2d(padded, k, w.bias(scope), stride, no_padding, dilations);
  return relu ? torch::clamp_min(y, 0) : y;
}

torch::Tensor ref_pool_valid(const torch::Tensor& x) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  return x.reshape({n, c, h / 2, 2, w / 2, 2}).amax({3, 5});
}

torch::Tensor ref_pool_same_stride1(const torch::Tensor& x) {
  const float inf = std::numeric_limits<float>::infinity();
  torch::Tensor right = torch::cat(
      {x.narrow(3, 1, x.size(3) - 1), torch::full({x.size(0), x.size(1), x.size(2), 1}, -inf)}, 3);
  torch::Tensor row_max = torch::max(x, right);
  torch::Tensor below = torch::cat({row_max.narrow(2, 1, x.size(2) - 1),
                                    torch::full({x.size(0), x.size(1), 1, x.size(3)}, -inf)},
                                   2);
  return torch::max(row_max, below);
}

// Legacy interpolation as a matrix: out = A_h * in * A_w^T.
torch::Tensor legacy_matrix(int64_t in, int64_t out) {
  torch::Tensor a = torch::zeros({out, in});
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t o = 0; o < out; ++o) {
    const float src = static_cast<float>(o) * scale;
    const int64_t lo = static_cast<int64_t>(std::floor(src));
    const int64_t hi = std::min(lo + 1, in - 1);
    const float frac = src - static_cast<float>(lo);
    a[o][lo] += 1.0f - frac;
    a[o][hi] += frac;
  }
  return a;
}

torch::Tensor ref_upsample2x(const torch::Tensor& x) {
  torch::Tensor ah = legacy_matrix(x.size(2), 2 * x.size(2));
  torch::Tensor aw = legacy_matrix(x.size(3), 2 * x.size(3));
  return torch::matmul(torch::matmul(ah, x), aw.t());
}

torch::Tensor ref_forward_raw(const TfWeights& w, const torch::Tensor& rgb) {
  const float mean[3] = {103.939f, 116.779f, 123.68f};
  torch::Tensor x = torch::stack(
      {rgb.select(1, 0) - mean[0], rgb.select(1, 1) - mean[1], rgb.select(1, 2) - mean[2]}, 1);
  x = ref_conv(w, "conv1/conv1_1", x, 1, true);
  x = ref_pool_valid(ref_conv(w, "conv1/conv1_2", x, 1, true));
  x = ref_conv(w, "conv2/conv2_1", x, 1, true);
  x = ref_pool_valid(ref_conv(w, "conv2/conv2_2", x, 1, true));
  x = ref_conv(w, "conv3/conv3_1", x, 1, true);
  x = ref_conv(w, "conv3/conv3_2", x, 1, true);
  torch::Tensor p3 = ref_pool_valid(ref_conv(w, "conv3/conv3_3", x, 1, true));
  x = ref_conv(w, "conv4/conv4_1", p3, 1, true);
  x = ref_conv(w, "conv4/conv4_2", x, 1, true);
  torch::Tensor p4 = ref_pool_same_stride1(ref_conv(w, "conv4/conv4_3", x, 1, true));
  x = ref_conv(w, "conv5/conv5_1", p4, 2, true);
  x = ref_conv(w, "conv5/conv5_2", x, 2, true);
  torch::Tensor p5 = ref_pool_same_stride1(ref_conv(w, "conv5/conv5_3", x, 2, true));
  torch::Tensor features = torch::cat({p3, p4, p5}, 1);

  torch::Tensor b1 = ref_conv(w, "aspp/conv1_1", features, 1, true);
  torch::Tensor b2 = ref_conv(w, "aspp/conv1_2", features, 4, true);
  torch::Tensor b3 = ref_conv(w, "aspp/conv1_3", features, 8, true);
  torch::Tensor b4 = ref_conv(w, "aspp/conv1_4", features, 12, true);
  torch::Tensor pooled = features.sum({2, 3}, true) / (features.size(2) * features.size(3));
  torch::Tensor b5 =
      torch::clamp_min(torch::conv2d(pooled, w.kernel("aspp/conv1_5"), w.bias("aspp/conv1_5")), 0);
  b5 = b5.expand_as(b1);
  x = ref_conv(w, "aspp/conv2", torch::cat({b1, b2, b3, b4, b5}, 1), 1, true);

  x = ref_conv(w, "decoder/conv1", ref_upsample2x(x), 1, true);
  x = ref_conv(w, "decoder/conv2", ref_upsample2x(x), 1, true);
  x = ref_conv(w, "decoder/conv3", ref_upsample2x(x), 1, true);
  return ref_conv(w, "decoder/conv4", x, 1, false);
}

torch::Tensor ref_normalize(const torch::Tensor& m) {
  std::vector<torch::Tensor> images;
  for (int64_t i = 0; i < m.size(0); ++i) {
    torch::Tensor shifted = m[i] - m[i].min();
    images.push_back(shifted / (1e-7f + shifted.max()));
  }
  return torch::stack(images);
}

void check_against_reference(int64_t n, int64_t h, int64_t w) {
  MSINet net = random_net();
  TfWeights weights = tf_weights_of(net);
  torch::Tensor rgb = torch::rand({n, 3, h, w}) * 255;
  torch::NoGradGuard no_grad;
  torch::Tensor expected_raw = ref_forward_raw(weights, rgb);
  torch::Tensor raw = net->forward_raw(rgb);
  ASSERT_EQ(raw.sizes(), expected_raw.sizes());
  const double scale = expected_raw.abs().max().item<double>();
  ASSERT_GT(scale, 0.0);
  EXPECT_LT((raw - expected_raw).abs().max().item<double>(), 1e-5 * scale);
  // The raw map must vary, or the normalised comparison proves nothing.
  EXPECT_GT((expected_raw.amax({1, 2, 3}) - expected_raw.amin({1, 2, 3})).min().item<double>(),
            1e-3 * scale);
  torch::Tensor out = net->forward(rgb);
  EXPECT_TRUE(torch::allclose(out, ref_normalize(expected_raw), /*rtol=*/0, /*atol=*/1e-5))
      << (out - ref_normalize(expected_raw)).abs().max().item<float>();
}

TEST_F(ModelNetTest, ForwardMatchesIndependentReferenceTiny) { check_against_reference(1, 16, 16); }

TEST_F(ModelNetTest, ForwardMatchesIndependentReferenceBatchWithDilatedTaps) {
  // 48x64 gives 6x8 features, so the dilation-4 ASPP taps reach inside the map.
  check_against_reference(2, 48, 64);
}

TEST_F(ModelNetTest, BatchImagesAreIndependent) {
  MSINet net = random_net();
  torch::NoGradGuard no_grad;
  torch::Tensor rgb = torch::rand({2, 3, 24, 32}) * 255;
  torch::Tensor both = net->forward(rgb);
  EXPECT_TRUE(torch::allclose(both[0], net->forward(rgb.narrow(0, 0, 1))[0], 0, 1e-5));
  EXPECT_TRUE(torch::allclose(both[1], net->forward(rgb.narrow(0, 1, 1))[0], 0, 1e-5));
}

TEST_F(ModelNetTest, TrainsWithAutogradAndRunsInInferenceMode) {
  MSINet net = random_net();
  net->train();
  torch::Tensor rgb = torch::rand({1, 3, 16, 24}) * 255;
  net->forward(rgb).sum().backward();
  for (const auto& item : net->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    EXPECT_TRUE(torch::isfinite(item.value().grad()).all().item<bool>()) << item.key();
  }
  EXPECT_GT(net->decoder->convs[3]->weight.grad().abs().sum().item<float>(), 0.0f);
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = net->forward(rgb);
  }
  c10::InferenceMode inference;
  EXPECT_TRUE(torch::equal(net->forward(rgb), expected));
}

}  // namespace
}  // namespace msinet::model
