// TF1-exact ops against hand-computed arrays and independent scalar loops.

#include <cmath>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "msinet/model/aspp.h"
#include "msinet/model/ops.h"

namespace msinet::model {
namespace {

class ModelOpsTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

torch::Tensor from_rows(const std::vector<std::vector<float>>& rows) {
  const int64_t h = static_cast<int64_t>(rows.size());
  const int64_t w = static_cast<int64_t>(rows[0].size());
  torch::Tensor t = torch::empty({1, 1, h, w});
  auto a = t.accessor<float, 4>();
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) a[0][0][y][x] = rows[y][x];
  return t;
}

void expect_rows(const torch::Tensor& t, const std::vector<std::vector<float>>& rows,
                 float tol = 0.0f) {
  ASSERT_EQ(t.dim(), 4);
  ASSERT_EQ(t.size(2), static_cast<int64_t>(rows.size()));
  ASSERT_EQ(t.size(3), static_cast<int64_t>(rows[0].size()));
  torch::Tensor c = t.contiguous();
  auto a = c.accessor<float, 4>();
  for (size_t y = 0; y < rows.size(); ++y)
    for (size_t x = 0; x < rows[0].size(); ++x)
      EXPECT_NEAR(a[0][0][y][x], rows[y][x], tol) << "at (" << y << ", " << x << ")";
}

// TF1 legacy resize_bilinear written as a plain loop over output pixels.
torch::Tensor legacy_resize_loop(const torch::Tensor& in, int64_t out_h, int64_t out_w) {
  const int64_t n = in.size(0), c = in.size(1), in_h = in.size(2), in_w = in.size(3);
  torch::Tensor out = torch::empty({n, c, out_h, out_w});
  auto a = in.accessor<float, 4>();
  auto o = out.accessor<float, 4>();
  const float sy = static_cast<float>(in_h) / static_cast<float>(out_h);
  const float sx = static_cast<float>(in_w) / static_cast<float>(out_w);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < out_h; ++y) {
        const float fy = static_cast<float>(y) * sy;
        const int64_t y0 = static_cast<int64_t>(std::floor(fy));
        const int64_t y1 = std::min(y0 + 1, in_h - 1);
        const float ly = fy - static_cast<float>(y0);
        for (int64_t x = 0; x < out_w; ++x) {
          const float fx = static_cast<float>(x) * sx;
          const int64_t x0 = static_cast<int64_t>(std::floor(fx));
          const int64_t x1 = std::min(x0 + 1, in_w - 1);
          const float lx = fx - static_cast<float>(x0);
          const float top = a[b][ch][y0][x0] + (a[b][ch][y0][x1] - a[b][ch][y0][x0]) * lx;
          const float bottom = a[b][ch][y1][x0] + (a[b][ch][y1][x1] - a[b][ch][y1][x0]) * lx;
          o[b][ch][y][x] = top + (bottom - top) * ly;
        }
      }
  return out;
}

TEST_F(ModelOpsTest, Upsample2xMatchesHandComputedValues) {
  // out[2k] = in[k], out[2k+1] = (in[k] + in[k+1]) / 2, last row/column repeated.
  torch::Tensor in = from_rows({{1, 2, 4}, {3, 8, 16}});
  expect_rows(upsample2x_tf_legacy(in), {{1, 1.5, 2, 3, 4, 4},
                                         {2, 3.5, 5, 7.5, 10, 10},
                                         {3, 5.5, 8, 12, 16, 16},
                                         {3, 5.5, 8, 12, 16, 16}});
}

TEST_F(ModelOpsTest, Upsample2xOfSingleRowAndColumn) {
  expect_rows(upsample2x_tf_legacy(from_rows({{2, -6}})), {{2, -2, -6, -6}, {2, -2, -6, -6}});
  expect_rows(upsample2x_tf_legacy(from_rows({{5}})), {{5, 5}, {5, 5}});
}

TEST_F(ModelOpsTest, Upsample2xMatchesLoopOnBatchesAndChannels) {
  torch::Tensor in = torch::randn({2, 3, 5, 4});
  torch::Tensor got = upsample2x_tf_legacy(in);
  ASSERT_EQ(got.sizes(), torch::IntArrayRef({2, 3, 10, 8}));
  EXPECT_TRUE(torch::allclose(got, legacy_resize_loop(in, 10, 8), /*rtol=*/0, /*atol=*/1e-6));
}

TEST_F(ModelOpsTest, GeneralResizeMatchesLoop) {
  const std::vector<std::vector<int64_t>> cases = {{3, 5, 7, 4}, {4, 4, 9, 13}, {5, 7, 2, 3},
                                                   {2, 3, 4, 6}, {4, 4, 4, 4},  {1, 3, 4, 7},
                                                   {3, 1, 5, 2}};
  for (const auto& c : cases) {
    torch::Tensor in = torch::randn({2, 2, c[0], c[1]});
    torch::Tensor got = resize_bilinear_tf_legacy(in, c[2], c[3]);
    ASSERT_EQ(got.sizes(), torch::IntArrayRef({2, 2, c[2], c[3]}));
    EXPECT_TRUE(torch::allclose(got, legacy_resize_loop(in, c[2], c[3]), 0, 1e-6))
        << c[0] << "x" << c[1] << " -> " << c[2] << "x" << c[3];
  }
}

TEST_F(ModelOpsTest, GeneralResizeHandValues) {
  // 1x3 -> 1x4: scale 0.75, sources 0, 0.75, 1.5, 2.25 -> 0 + 0.75*(4-0), 4 + 0.5*(10-4), 10.
  expect_rows(resize_bilinear_tf_legacy(from_rows({{0, 4, 10}}), 1, 4), {{0, 3, 7, 10}}, 1e-6f);
  // 1x1 -> 2x3 is a broadcast.
  expect_rows(resize_bilinear_tf_legacy(from_rows({{-2.5}}), 2, 3),
              {{-2.5, -2.5, -2.5}, {-2.5, -2.5, -2.5}});
}

TEST_F(ModelOpsTest, MaxPoolSameStride1PadsRightAndBottomWithMinusInfinity) {
  torch::Tensor in = from_rows({{-5, -1, -9}, {-3, -7, -2}, {-8, -4, -6}});
  // Window at (i, j) covers (i..i+1, j..j+1) within the image; zero padding would give 0 in the
  // last row and column, left/top padding would give -5 at (0, 0).
  expect_rows(max_pool_same_stride1(in), {{-1, -1, -2}, {-3, -2, -2}, {-4, -4, -6}});
}

TEST_F(ModelOpsTest, MaxPoolSameStride1KeepsSizeOnBatches) {
  torch::Tensor in = torch::randn({2, 3, 4, 5});
  torch::Tensor got = max_pool_same_stride1(in);
  ASSERT_EQ(got.sizes(), in.sizes());
  auto a = in.accessor<float, 4>();
  auto g = got.accessor<float, 4>();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 4; ++y)
        for (int64_t x = 0; x < 5; ++x) {
          float m = a[b][c][y][x];
          if (x + 1 < 5) m = std::max(m, a[b][c][y][x + 1]);
          if (y + 1 < 4) m = std::max(m, a[b][c][y + 1][x]);
          if (x + 1 < 5 && y + 1 < 4) m = std::max(m, a[b][c][y + 1][x + 1]);
          EXPECT_EQ(g[b][c][y][x], m);
        }
}

TEST_F(ModelOpsTest, NormalizeMapsPerImageAndConstantMapGivesZeros) {
  torch::Tensor m = torch::empty({2, 1, 2, 2});
  m[0] = from_rows({{1, 3}, {5, 9}})[0];
  m[1].fill_(7.0f);
  torch::Tensor got = normalize_maps(m);
  // (m - 1) / (8 + 1e-7)
  expect_rows(got.narrow(0, 0, 1), {{0, 0.25f}, {0.5f, 1}}, 1e-6f);
  EXPECT_FALSE(torch::isnan(got).any().item<bool>());
  EXPECT_TRUE(torch::equal(got[1], torch::zeros({1, 2, 2})));
}

TEST_F(ModelOpsTest, NormalizeMapsKeepsEpsilonInDenominator) {
  // min 0, max 1e-7: result 1e-7 / (1e-7 + 1e-7) = 0.5, not 1.
  torch::Tensor got = normalize_maps(from_rows({{0.0f, 1e-7f}}));
  expect_rows(got, {{0.0f, 0.5f}}, 1e-4f);
}

TEST_F(ModelOpsTest, GlobalBranchIsMeanThenConvThenBroadcast) {
  ASPP aspp(ASPPOptions().in_channels(2).out_channels(1));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : aspp->parameters()) p.zero_();
    // conv1_5: 1*mean(ch0) - 1*mean(ch1) + 0.5; conv2 keeps 2 * branch 5 only.
    aspp->convs[4]->weight.copy_(torch::tensor({1.0f, -1.0f}).view({1, 2, 1, 1}));
    aspp->convs[4]->bias.fill_(0.5f);
    aspp->convs[5]->weight.copy_(torch::tensor({0.0f, 0.0f, 0.0f, 0.0f, 2.0f}).view({1, 5, 1, 1}));
  }
  torch::Tensor x = torch::empty({1, 2, 2, 3});
  x[0][0] = from_rows({{1, 2, 3}, {4, 5, 9}})[0][0];  // mean 4
  x[0][1] = from_rows({{0, 1, 0}, {1, 0, 4}})[0][0];  // mean 1
  torch::Tensor got = aspp->forward(x);
  // relu(4 - 1 + 0.5) = 3.5, times 2 = 7 everywhere.
  expect_rows(got, {{7, 7, 7}, {7, 7, 7}}, 1e-5f);

  x[0][1] = from_rows({{9, 9, 9}, {9, 9, 9}})[0][0];  // mean 9: relu(4 - 9 + 0.5) = 0
  expect_rows(aspp->forward(x), {{0, 0, 0}, {0, 0, 0}});
}

TEST_F(ModelOpsTest, OpsAreDifferentiable) {
  torch::Tensor x = torch::randn({1, 2, 3, 4}, torch::requires_grad());
  torch::Tensor y = normalize_maps(max_pool_same_stride1(upsample2x_tf_legacy(x)) +
                                   resize_bilinear_tf_legacy(x, 6, 8));
  y.sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>());
  // Upsampling alone: d(sum out)/d(in) is the number of outputs each input feeds (with weights).
  torch::Tensor z = torch::ones({1, 1, 1, 2}, torch::requires_grad());
  upsample2x_tf_legacy(z).sum().backward();
  // Row of 4 outputs per input row, 2 rows: in[0] feeds out 0 (1) and out 1 (0.5); in[1] feeds
  // out 1 (0.5), out 2 (1), out 3 (1).
  EXPECT_TRUE(torch::allclose(z.grad(), torch::tensor({3.0f, 5.0f}).view({1, 1, 1, 2})));
}

}  // namespace
}  // namespace msinet::model
