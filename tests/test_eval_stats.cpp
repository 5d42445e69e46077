// Bootstrap intervals (reproducible by seed, NumPy's percentile rule by hand, coverage of a known
// mean in a simulation) and the Wilcoxon signed-rank test against scipy.stats.wilcoxon.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "msinet/eval/metrics.h"
#include "msinet/eval/stats.h"
#include "test_support.h"

namespace me = msinet::eval;
namespace fs = std::filesystem;

namespace {

const char* const kPython = "/usr/bin/python3";

TEST(Percentile, LinearBetweenOrderStatisticsAsNumPy) {
  // numpy.percentile([1, 2, 3, 4], [0, 2.5, 50, 97.5, 100]) = 1, 1.075, 2.5, 3.925, 4
  const std::vector<double> v{1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(me::percentile_sorted(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(me::percentile_sorted(v, 0.025), 1.075);
  EXPECT_DOUBLE_EQ(me::percentile_sorted(v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(me::percentile_sorted(v, 0.975), 3.925);
  EXPECT_DOUBLE_EQ(me::percentile_sorted(v, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(me::percentile_sorted({7.0}, 0.3), 7.0);
}

TEST(Bootstrap, SameSeedSameIntervalOtherSeedOther) {
  std::vector<double> v;
  me::Rng rng(5);
  for (int i = 0; i < 50; ++i) v.push_back(rng.uniform());
  const me::Interval a = me::bootstrap_mean_interval(v, 1000, 42);
  const me::Interval b = me::bootstrap_mean_interval(v, 1000, 42);
  const me::Interval c = me::bootstrap_mean_interval(v, 1000, 43);
  EXPECT_EQ(a.lo, b.lo);
  EXPECT_EQ(a.hi, b.hi);
  EXPECT_NE(a.lo, c.lo);
  double mean = 0;
  for (double x : v) mean += x / 50.0;
  EXPECT_LT(a.lo, mean);
  EXPECT_GT(a.hi, mean);
  // The interval is that of resample r, draw k = the (r * n + k)-th below(n) of Rng(seed).
  me::Rng draws(42);
  std::vector<double> means;
  for (int r = 0; r < 1000; ++r) {
    double t = 0;
    for (int k = 0; k < 50; ++k) t += v[draws.below(50)];
    means.push_back(t / 50.0);
  }
  std::sort(means.begin(), means.end());
  EXPECT_DOUBLE_EQ(a.lo, means[24] + (means[25] - means[24]) * 0.975);  // 0.025 * 999 = 24.975
  EXPECT_DOUBLE_EQ(a.hi, means[974] + (means[975] - means[974]) * 0.025);
}

TEST(Bootstrap, EdgeCases) {
  const me::Interval none = me::bootstrap_mean_interval({}, 1000, 1);
  EXPECT_TRUE(std::isnan(none.lo) && std::isnan(none.hi));
  const me::Interval off = me::bootstrap_mean_interval({1.0, 2.0}, 0, 1);
  EXPECT_TRUE(std::isnan(off.lo) && std::isnan(off.hi));
  const me::Interval one = me::bootstrap_mean_interval({3.5}, 100, 1);
  EXPECT_EQ(one.lo, 3.5);
  EXPECT_EQ(one.hi, 3.5);
  // Two values: the resampled means are 0 (p = 1/4), 0.5 and 1 (p = 1/4), so the 2.5% and
  // 97.5% percentiles of 1000 of them are 0 and 1.
  const me::Interval two = me::bootstrap_mean_interval({0.0, 1.0}, 1000, 9);
  EXPECT_EQ(two.lo, 0.0);
  EXPECT_EQ(two.hi, 1.0);
}

// 1000 samples of 30 draws from U(0, 1) (true mean 0.5): the percentile interval covers the
// mean within 2.5 points of 95% (the binomial standard error is 0.7 points; the percentile
// bootstrap of a mean of 30 runs about one point below nominal), and within 2 points of the
// normal-theory interval mean +- 1.96 sd / sqrt(n) on the same samples.
TEST(Bootstrap, CoversTheTrueMeanAboutNinetyFivePercentOfTheTime) {
  constexpr int kSamples = 1000, kSize = 30;
  me::Rng rng(99);
  int covered = 0, normal = 0;
  for (int s = 0; s < kSamples; ++s) {
    std::vector<double> v(kSize);
    double mean = 0.0, ss = 0.0;
    for (double& x : v) mean += (x = rng.uniform()) / kSize;
    for (double x : v) ss += (x - mean) * (x - mean);
    const me::Interval ci =
        me::bootstrap_mean_interval(v, 1000, me::derive_seed(7, std::to_string(s), "bootstrap"));
    covered += ci.lo <= 0.5 && 0.5 <= ci.hi ? 1 : 0;
    normal += std::fabs(mean - 0.5) <= 1.96 * std::sqrt(ss / (kSize - 1) / kSize) ? 1 : 0;
  }
  const double coverage = static_cast<double>(covered) / kSamples;
  EXPECT_NEAR(coverage, 0.95, 0.025) << covered << " of " << kSamples;
  EXPECT_NEAR(coverage, static_cast<double>(normal) / kSamples, 0.02) << normal << " normal";
}

TEST(Wilcoxon, HandComputedCase) {
  // |d| ranks 1..7; W- = 3 + 6 = 9, W+ = 19; mean 14, se = sqrt(7 * 8 * 15 / 24) = sqrt(35).
  const me::WilcoxonResult w = me::wilcoxon_signed_rank({1, 2, -3, 4, 5, -6, 7});
  EXPECT_EQ(w.statistic, 9.0);
  EXPECT_EQ(w.n, 7u);
  EXPECT_DOUBLE_EQ(w.z, -5.0 / std::sqrt(35.0));
  EXPECT_NEAR(w.p, std::erfc(5.0 / std::sqrt(35.0) / std::sqrt(2.0)), 1e-15);
  const me::WilcoxonResult zeros = me::wilcoxon_signed_rank({0.0, 0.0});
  EXPECT_TRUE(std::isnan(zeros.p));
  EXPECT_EQ(zeros.n, 0u);
}

TEST(Wilcoxon, MatchesScipyWithTiesZerosAndSmallSamples) {
  msinet::testing::TempDir dir("eval-wilcoxon");
  if (!fs::exists(kPython)) GTEST_SKIP() << "needs /usr/bin/python3 with scipy";
  {
    msinet::testing::Process probe({kPython, "-c", "import scipy.stats"}, dir.path());
    if (probe.wait() != 0) GTEST_SKIP() << "needs /usr/bin/python3 with scipy";
  }
  std::vector<std::vector<double>> cases = {
      {1, 2, -3, 4, 5, -6, 7},               // no ties
      {1, 1, -1, 2, 2, 0, 0, 3, -0.5, 0.5},  // ties of |d| across signs, zeros
      {0.25, -0.25},                         // n = 2, one tie group
      {3.0},                                 // n = 1
      {0, 0, 0, 2.0},                        // zeros dropped, n = 1 left
      {-1, -2, -3, -4, -5, -6, -7, -8, -9},  // all one sign
      {0, 0},                                // every difference zero: SciPy refuses
  };
  me::Rng rng(11);
  for (int c = 0; c < 4; ++c) {  // larger samples with many ties and zeros
    std::vector<double> d;
    for (int i = 0; i < 25 + 40 * c; ++i) d.push_back(std::round((rng.uniform() - 0.4) * 8) / 4);
    cases.push_back(d);
  }
  for (int c = 0; c < 2; ++c) {  // continuous differences such as AUC gains
    std::vector<double> d;
    for (int i = 0; i < 60; ++i) d.push_back(rng.uniform() * 0.1 - 0.03 * c);
    cases.push_back(d);
  }
  const fs::path in = dir.path() / "cases.json";
  std::ofstream(in) << nlohmann::json(cases).dump(-1);
  msinet::testing::Process p(
      {kPython, std::string(MSINET_SOURCE_DIR) + "/tests/tools/wilcoxon_reference.py", in.string()},
      dir.path());
  ASSERT_EQ(p.wait(), 0) << p.output();
  const nlohmann::json ref = nlohmann::json::parse(p.output());
  ASSERT_EQ(ref.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const me::WilcoxonResult w = me::wilcoxon_signed_rank(cases[i]);
    if (ref[i].is_null()) {
      EXPECT_TRUE(std::isnan(w.p)) << "case " << i;
      continue;
    }
    EXPECT_DOUBLE_EQ(w.statistic, ref[i]["statistic"].get<double>()) << "case " << i;
    EXPECT_NEAR(w.p, ref[i]["p"].get<double>(), 1e-12 + 1e-10 * ref[i]["p"].get<double>())
        << "case " << i;
    if (!ref[i]["z"].is_null()) {
      EXPECT_NEAR(w.z, ref[i]["z"].get<double>(), 1e-12) << "case " << i;
    }
  }
}

}  // namespace
