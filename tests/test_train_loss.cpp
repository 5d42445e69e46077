#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "msinet/train/loss.h"

namespace msinet {
namespace {

// The reference formula (loss.py) evaluated in double precision by hand-written loops.
double kld_reference(const std::vector<double>& y_true, const std::vector<double>& y_pred) {
  const double eps = 1e-7;
  double st = 0, sp = 0;
  for (double v : y_true) st += v;
  for (double v : y_pred) sp += v;
  double k = 0;
  for (size_t i = 0; i < y_true.size(); ++i) {
    const double t = y_true[i] / (eps + st);
    const double p = y_pred[i] / (eps + sp);
    k += t * std::log(eps + t / (eps + p));
  }
  return k;
}

TEST(KldLoss, MatchesTheFormulaOnAHandCase) {
  // t = [0.25, 0.75], p = [0.5, 0.5]: 0.25 ln 0.5 + 0.75 ln 1.5 = 0.130812...
  auto yt = torch::tensor({1.0, 3.0}, torch::kFloat64).reshape({1, 1, 1, 2});
  auto yp = torch::tensor({0.5, 0.5}, torch::kFloat64).reshape({1, 1, 1, 2});
  const double got = train::kld_loss(yt, yp).item<double>();
  EXPECT_NEAR(got, 0.25 * std::log(0.5) + 0.75 * std::log(1.5), 1e-6);
  EXPECT_NEAR(got, kld_reference({1, 3}, {0.5, 0.5}), 1e-12);
}

TEST(KldLoss, IsPerImageThenMeanOverTheBatch) {
  auto yt = torch::tensor({1.0, 3.0, 2.0, 2.0, 0.0, 4.0}, torch::kFloat64).reshape({3, 1, 1, 2});
  auto yp = torch::tensor({0.5, 0.5, 1.0, 0.0, 0.2, 0.8}, torch::kFloat64).reshape({3, 1, 1, 2});
  const double expected = (kld_reference({1, 3}, {0.5, 0.5}) + kld_reference({2, 2}, {1.0, 0.0}) +
                           kld_reference({0, 4}, {0.2, 0.8})) /
                          3.0;
  EXPECT_NEAR(train::kld_loss(yt, yp).item<double>(), expected, 1e-12);
}

TEST(KldLoss, IdenticalDistributionsGiveZero) {
  auto y = torch::rand({2, 1, 4, 5}, torch::kFloat64);
  // Only the eps terms remain: |kld| <= about N * eps / min(p) = 20 * 1e-7 / (1/20 scale).
  EXPECT_NEAR(train::kld_loss(y * 255.0, y).item<double>(), 0.0, 1e-5);
}

}  // namespace
}  // namespace msinet
