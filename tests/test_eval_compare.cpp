// The evaluator's intervals and ROC curves, the paired comparison of two scored runs (pairing by
// image, counts, verdicts), and the comparison's reports.

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <cmath>

#include <nlohmann/json.hpp>

#include "msinet/eval/compare.h"
#include "msinet/eval/plots.h"
#include "msinet/eval/report.h"
#include "msinet/util/error.h"
#include "test_support.h"

namespace me = msinet::eval;

namespace {

std::vector<me::EvalItem> items(int count, const std::filesystem::path& dir) {
  std::vector<me::EvalItem> out;
  me::Rng rng(17);
  for (int i = 0; i < count; ++i) {
    me::EvalItem it;
    it.image = "im" + std::to_string(i);
    it.prediction = cv::Mat(9, 11, CV_64FC1);
    for (int p = 0; p < 99; ++p) it.prediction.at<double>(p) = rng.uniform();
    cv::Mat fix = cv::Mat::zeros(9, 11, CV_64FC1);
    for (int k = 0; k < 5; ++k) fix.at<double>(static_cast<int>(rng.below(99))) = 1.0;
    cv::Mat u8;
    fix.convertTo(u8, CV_8U, 255.0);
    it.prediction.setTo(0.9, u8);  // a better than chance predictor
    it.fixations = dir / (it.image + ".png");
    cv::imwrite(it.fixations.string(), u8);
    out.push_back(it);
  }
  return out;
}

TEST(EvalIntervals, EveryMeanGetsTheSeededBootstrapIntervalOfItsImages) {
  msinet::testing::TempDir dir("eval-intervals");
  const std::vector<me::EvalItem> in = items(12, dir.path());
  me::EvalOptions o;
  o.seed = 21;
  o.metrics = {"auc_judd", "nss"};
  o.keep_roc = true;
  const me::EvalResult r = me::evaluate(in, o);
  ASSERT_EQ(r.images.size(), 12u);
  EXPECT_EQ(r.bootstrap, me::kBootstrapResamples);
  for (size_t k = 0; k < 2; ++k) {
    std::vector<double> v;
    for (const auto& row : r.images) v.push_back(row.values[k]);
    const me::Interval want = me::bootstrap_mean_interval(
        v, me::kBootstrapResamples, me::derive_seed(21, r.metrics[k], "bootstrap"));
    EXPECT_EQ(r.summary[k].ci.lo, want.lo);
    EXPECT_EQ(r.summary[k].ci.hi, want.hi);
    EXPECT_LT(r.summary[k].ci.lo, r.summary[k].mean);
    EXPECT_GT(r.summary[k].ci.hi, r.summary[k].mean);
  }
  // Each image's ROC curve sampled at the grid: its area is the image's AUC-Judd, to the grid.
  for (const auto& row : r.images) {
    ASSERT_EQ(row.roc.size(), me::roc_grid().size());
    double area = 0;
    for (size_t i = 1; i < row.roc.size(); ++i) area += 0.01 * (row.roc[i] + row.roc[i - 1]) / 2;
    EXPECT_NEAR(area, row.values[0], 0.02) << row.image;
  }
  const std::string table = me::format_table(r);
  EXPECT_NE(table.find("95% interval: percentile bootstrap of the mean over images, 1000 "
                       "resamples, seed 21"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("95% interval\n"), std::string::npos) << table;
  const auto j = nlohmann::json::parse(me::to_json(r));
  EXPECT_EQ(j["metrics"]["nss"]["ci95"][0].get<double>(), r.summary[1].ci.lo);
  EXPECT_EQ(j["bootstrap"]["resamples"], 1000);
  o.bootstrap = 0;
  const me::EvalResult off = me::evaluate(in, o);
  EXPECT_TRUE(std::isnan(off.summary[0].ci.lo));
  EXPECT_TRUE(nlohmann::json::parse(me::to_json(off))["metrics"]["nss"]["ci95"].is_null());
  o.bootstrap = -3;
  const msinet::Error e = msinet::testing::thrown_error([&] { me::evaluate(in, o); });
  EXPECT_EQ(e.code(), msinet::ErrorCode::kUsage);
  EXPECT_NE(std::string(e.what()).find("--bootstrap must be 0"), std::string::npos) << e.what();
}

me::EvalResult run(const std::string& name, const std::vector<me::ImageScores>& images) {
  me::EvalResult r;
  r.predictor = name;
  r.metrics = {"nss", "cc", "kld", "sim"};
  r.images = images;
  for (const auto& m : r.metrics) r.summary.push_back({m, 0.0, 0.0, 0, {NAN, NAN}});
  return r;
}

me::ComparisonResult two_runs() {
  me::ComparisonResult c;
  c.runs.push_back(run("a", {{"x", {}, {1, 0.1, 0.5, 0.5}, {}},
                             {"y", {}, {2, 0.2, 0.5, 0.5}, {}},
                             {"z", {}, {3, 0.3, 0.5, 0.5}, {}}}));
  c.runs.push_back(run("b", {{"w", {}, {9, 0.9, 0.1, 0.9}, {}},  // not in a: unpaired
                             {"z", {}, {5, 0.5, NAN, 0.3}, {}},
                             {"y", {}, {2, 0.4, 0.6, 0.4}, {}},
                             {"x", {}, {2, 0.2, 0.4, 0.4}, {}}}));
  c.labels = {"pred1", "pred2"};
  c.bootstrap = 1000;
  c.seed = 3;
  c.comparisons.push_back(me::compare_runs(c.runs[0], c.runs[1], 1000, 3));
  c.comparisons.back().b = 1;
  return c;
}

TEST(Compare, PairsByImageCountsAndSaysWhichIsBetterOnlyWhenTheIntervalExcludesZero) {
  const me::ComparisonResult c = two_runs();
  const auto& m = c.comparisons[0].metrics;
  ASSERT_EQ(m.size(), 4u);
  // nss: differences 1, 0, 2; a resample of only the tie (probability 1/27 per resample) has
  // mean 0, so the 2.5% percentile is 0: not shown as better.
  EXPECT_EQ(m[0].n, 3u);
  EXPECT_DOUBLE_EQ(m[0].mean_diff, 1.0);
  EXPECT_EQ(m[0].b_better, 2u);
  EXPECT_EQ(m[0].ties, 1u);
  EXPECT_EQ(m[0].ci.lo, 0.0);
  EXPECT_EQ(m[0].verdict, 0);
  // cc: 0.1, 0.2, 0.2 all positive: B better.
  EXPECT_GT(m[1].ci.lo, 0.0);
  EXPECT_EQ(m[1].verdict, 1);
  EXPECT_EQ(m[1].b_better, 3u);
  // kld: lower is better; z has no B value: 2 pairs, -0.1 (B better) and +0.1 (A better).
  EXPECT_EQ(m[2].n, 2u);
  EXPECT_EQ(m[2].b_better, 1u);
  EXPECT_EQ(m[2].a_better, 1u);
  EXPECT_EQ(m[2].verdict, 0);
  // sim: B lower everywhere: A better.
  EXPECT_LT(m[3].ci.hi, 0.0);
  EXPECT_EQ(m[3].verdict, -1);
  EXPECT_EQ(m[3].a_better, 3u);
  EXPECT_EQ(m[3].wilcoxon.statistic, 0.0);  // no positive difference
}

TEST(Compare, ReportsNameThePredictorsAndTheVerdicts) {
  const me::ComparisonResult c = two_runs();
  const std::string table = me::format_comparison(c);
  EXPECT_NE(table.find("== pred2 (B) against pred1 (A)"), std::string::npos) << table;
  EXPECT_NE(table.find("pred2 better"), std::string::npos) << table;
  EXPECT_NE(table.find("pred1 better"), std::string::npos) << table;
  EXPECT_NE(table.find("no clear difference"), std::string::npos) << table;
  EXPECT_NE(table.find("95% interval: percentile bootstrap"), std::string::npos) << table;
  const std::string csv = me::comparison_to_csv(c);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "image,pred1.nss,pred1.cc,pred1.kld,pred1.sim,pred2.nss,pred2.cc,pred2.kld,pred2.sim");
  EXPECT_NE(csv.find("\nz,3,0.29999999999999999,0.5,0.5,5,0.5,,0.29999999999999999\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\nw,,,,,9,"), std::string::npos) << csv;
  const auto j = nlohmann::json::parse(me::comparison_to_json(c));
  EXPECT_EQ(j["predictors"].size(), 2u);
  EXPECT_EQ(j["predictors"][1]["report"]["predictor"], "b");
  const auto& cc = j["comparisons"][0]["metrics"]["cc"];
  EXPECT_EQ(cc["better"], "pred2");
  EXPECT_EQ(cc["n"], 3);
  EXPECT_EQ(cc["ci95"].size(), 2u);
  EXPECT_TRUE(j["comparisons"][0]["metrics"]["nss"]["better"].is_null());
  EXPECT_EQ(j["comparisons"][0]["metrics"]["sim"]["better"], "pred1");
  EXPECT_EQ(j["bootstrap"]["resamples"], 1000);
}

}  // namespace
