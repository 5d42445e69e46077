// The oneDNN plan against MSINet's forward (the reference) at the dataset sizes, for a batch,
// across shape changes, and what its observer sees.

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "msinet/model/layers.h"
#include "msinet/model/msinet.h"
#include "msinet/model/ops.h"
#include "msinet/runtime/onednn_net.h"
#include "msinet/util/error.h"

namespace msinet::runtime {
namespace {

class OnednnNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(0);
    torch::set_num_threads(2);
  }
};

// A photo-like batch 0..255: smooth gradients, a bright disc per image, noise.
torch::Tensor photo_like(int64_t n, int64_t h, int64_t w) {
  torch::Tensor y = torch::linspace(0, 1, h).view({1, 1, h, 1});
  torch::Tensor x = torch::linspace(0, 1, w).view({1, 1, 1, w});
  std::vector<torch::Tensor> images;
  for (int64_t i = 0; i < n; ++i) {
    const double cy = 0.3 + 0.3 * static_cast<double>(i);
    torch::Tensor disc = ((y - cy).pow(2) + (x - 0.6).pow(2) < 0.04).to(torch::kFloat32);
    images.push_back(torch::cat({255 * (0.7 * x + 0.3 * disc), 255 * (0.5 * y + 0.5 * disc),
                                 255 * (0.2 + 0.6 * x * y + 0 * disc)},
                                1)[0]);
  }
  return (torch::stack(images) + 8 * torch::rand({n, 3, h, w})).clamp(0, 255);
}

torch::Tensor mean_subtracted(const torch::Tensor& rgb) {
  return rgb - torch::tensor({model::kRgbMean[0], model::kRgbMean[1], model::kRgbMean[2]})
                   .view({1, 3, 1, 1});
}

// The plan's raw output and normalised maps against the reference forward of `net`.
void expect_matches_reference(model::MSINet& net, OnednnNet& fast, const torch::Tensor& rgb) {
  torch::NoGradGuard no_grad;
  const torch::Tensor want = net->forward_raw(rgb);
  const torch::Tensor got = fast.forward_raw(mean_subtracted(rgb));
  ASSERT_EQ(got.sizes(), want.sizes());
  ASSERT_EQ(got.scalar_type(), torch::kFloat32);
  // Raw: float rounding of 23 convolutions summed in another order; relative to the map's range.
  const double range = (want.max() - want.min()).item<double>();
  ASSERT_GT(range, 0.0);
  EXPECT_LT((got - want).abs().max().item<double>(), 1e-4 * range);
  const torch::Tensor want_maps = model::normalize_maps(want);
  const torch::Tensor got_maps = model::normalize_maps(got);
  EXPECT_LT((got_maps - want_maps).abs().max().item<double>(), 1e-4);
}

TEST_F(OnednnNetTest, MatchesReferenceAtTheDatasetSizes) {
  model::MSINet net = model::random_msinet(0);
  OnednnNet fast(net);
  for (const auto& [h, w] :
       std::vector<std::pair<int64_t, int64_t>>{{240, 320}, {360, 360}, {216, 384}}) {
    SCOPED_TRACE(std::to_string(h) + "x" + std::to_string(w));
    expect_matches_reference(net, fast, photo_like(1, h, w));
  }
  EXPECT_NE(fast.explain().find("oneDNN"), std::string::npos);
}

TEST_F(OnednnNetTest, MatchesReferenceForABatchAndAcrossShapeChanges) {
  model::MSINet net = model::random_msinet(0);
  OnednnNet fast(net);
  const torch::Tensor batch = photo_like(2, 48, 64);
  expect_matches_reference(net, fast, batch);
  expect_matches_reference(net, fast, photo_like(1, 64, 48));
  expect_matches_reference(net, fast, batch);  // the kept primitives of the first shape
  // Each image of the batch equals it run alone (the per-image ASPP term belongs to its image).
  const torch::Tensor together = fast.forward_raw(mean_subtracted(batch));
  const torch::Tensor second = fast.forward_raw(mean_subtracted(batch.narrow(0, 1, 1)));
  EXPECT_LT((together.narrow(0, 1, 1) - second).abs().max().item<double>(),
            1e-4 * (second.max() - second.min()).item<double>());
}

TEST_F(OnednnNetTest, AcceptsChannelsLastInput) {
  model::MSINet net = model::random_msinet(0);
  OnednnNet fast(net);
  const torch::Tensor rgb = photo_like(1, 32, 40);
  const torch::Tensor plain = fast.forward_raw(mean_subtracted(rgb));
  const torch::Tensor nhwc =
      fast.forward_raw(mean_subtracted(rgb).contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::equal(plain, nhwc));
}

// Records the order of the calls.
class Recorder : public LayerObserver {
 public:
  std::vector<std::string> calls;
  void before(size_t layer, const torch::Tensor& input) override {
    calls.push_back("before " + std::to_string(layer));
    EXPECT_TRUE(input.defined());
    EXPECT_GT(input.numel(), 0);
  }
  void after(size_t layer) override { calls.push_back("after " + std::to_string(layer)); }
};

TEST_F(OnednnNetTest, ObserverSeesEveryLayerOncePerPass) {
  model::MSINet net = model::random_msinet(0);
  OnednnNet fast(net);
  Recorder recorder;
  const torch::Tensor x = mean_subtracted(photo_like(1, 32, 32));
  const torch::Tensor unobserved = fast.forward_raw(x);
  const torch::Tensor observed = fast.forward_raw(x, &recorder);
  fast.forward_raw(x, &recorder);
  std::vector<std::string> pass;
  for (size_t i = 0; i < model::kLayers.size(); ++i) {
    pass.push_back("before " + std::to_string(i));
    pass.push_back("after " + std::to_string(i));
  }
  std::vector<std::string> two = pass;
  two.insert(two.end(), pass.begin(), pass.end());
  EXPECT_EQ(recorder.calls, two);
  EXPECT_TRUE(torch::equal(unobserved, observed));
}

TEST_F(OnednnNetTest, RejectsASizeThatIsNotAMultipleOfEight) {
  model::MSINet net = model::random_msinet(0);
  OnednnNet fast(net);
  try {
    fast.forward_raw(torch::zeros({1, 3, 30, 32}));
    FAIL() << "expected Error(kUsage)";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("multiples of 8"), std::string::npos);
  }
}

}  // namespace
}  // namespace msinet::runtime
