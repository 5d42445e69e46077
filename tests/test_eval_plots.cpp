// The evaluation's PNG plots read back by their pixels: the mean ROC curve of a perfect
// predictor through the top-left corner, histogram bars in proportion to their counts, scatter
// points where their values put them; the ROC sampling and the files written.

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <cmath>

#include "msinet/eval/evaluate.h"
#include "msinet/eval/plots.h"
#include "test_support.h"

namespace me = msinet::eval;
namespace fs = std::filesystem;

namespace {

// The layout documented in plots.h: a 550 x 380 plotting area from (70, 40).
constexpr int kAreaX = 70, kAreaY = 40, kAreaW = 550, kAreaH = 380;
const cv::Vec3b kBlue(180, 119, 31);  // the first series, BGR

bool blue_near(const cv::Mat& img, int x, int y, int radius) {
  for (int dy = -radius; dy <= radius; ++dy) {
    for (int dx = -radius; dx <= radius; ++dx) {
      const int xx = x + dx, yy = y + dy;
      if (xx < 0 || yy < 0 || xx >= img.cols || yy >= img.rows) continue;
      const cv::Vec3b p = img.at<cv::Vec3b>(yy, xx);
      // anti-aliased strokes blend with white: blue dominates, red is low
      if (p[0] > 150 && p[2] < 120 && p[0] > p[2] + 60) return true;
    }
  }
  return false;
}

TEST(RocAt, HighestTruePositiveRateAtEachFalsePositiveRateAndLinearBetween) {
  const me::RocCurve c{{0.0, 0.0, 0.5, 1.0}, {0.0, 0.5, 1.0, 1.0}, {}};
  const auto t = me::roc_at(c, {0.0, 0.25, 0.5, 0.75, 1.0});
  ASSERT_EQ(t.size(), 5u);
  EXPECT_DOUBLE_EQ(t[0], 0.5);
  EXPECT_DOUBLE_EQ(t[1], 0.75);
  EXPECT_DOUBLE_EQ(t[2], 1.0);
  EXPECT_DOUBLE_EQ(t[3], 1.0);
  EXPECT_DOUBLE_EQ(t[4], 1.0);
  EXPECT_EQ(me::roc_grid().size(), 101u);
  EXPECT_DOUBLE_EQ(me::roc_grid()[37], 0.37);
}

TEST(RocPlot, PerfectPredictorPassesThroughTheTopLeftCorner) {
  msinet::testing::TempDir dir("eval-plot-roc");
  // Fixations on the three brightest pixels: every fixation is found before any false positive.
  cv::Mat s(6, 8, CV_64FC1);
  for (int i = 0; i < s.rows * s.cols; ++i) s.at<double>(i) = i;
  cv::Mat fix = cv::Mat::zeros(6, 8, CV_64FC1);
  for (int i = 45; i < 48; ++i) fix.at<double>(i) = 1.0;
  const me::RocCurve roc = me::roc_judd(s, fix, nullptr);
  ASSERT_TRUE(roc.undefined.empty());
  me::RocSeries series{"perfect", me::roc_at(roc, me::roc_grid()), 1.0, 1};
  EXPECT_DOUBLE_EQ(series.tpr[0], 1.0);
  const fs::path png = dir.path() / "roc.png";
  me::write_roc_plot(png, {series});
  const cv::Mat img = cv::imread(png.string());
  ASSERT_EQ(img.size(), cv::Size(me::kChartWidth, me::kChartHeight));
  EXPECT_TRUE(blue_near(img, kAreaX, kAreaY, 2));                             // (0, 1)
  EXPECT_TRUE(blue_near(img, kAreaX + kAreaW / 2, kAreaY, 2));                // (0.5, 1)
  EXPECT_TRUE(blue_near(img, kAreaX + kAreaW, kAreaY, 2));                    // (1, 1)
  EXPECT_FALSE(blue_near(img, kAreaX + kAreaW / 2, kAreaY + kAreaH / 2, 4));  // (0.5, 0.5)
  EXPECT_FALSE(blue_near(img, kAreaX + kAreaW / 4, kAreaY + 3 * kAreaH / 4, 4));
}

TEST(HistogramPlot, BarHeightsAreProportionalToCounts) {
  msinet::testing::TempDir dir("eval-plot-hist");
  // 20 bins over [0, 1]: bin 0 holds 2, bin 10 holds 4, bin 19 holds 1 (the maximum).
  const std::vector<double> values{0.0, 0.01, 0.51, 0.52, 0.53, 0.54, 1.0};
  const me::Histogram h = me::histogram(values);
  EXPECT_EQ(h.lo, 0.0);
  EXPECT_EQ(h.hi, 1.0);
  ASSERT_EQ(h.counts.size(), 20u);
  EXPECT_EQ(h.counts[0], 2u);
  EXPECT_EQ(h.counts[10], 4u);
  EXPECT_EQ(h.counts[19], 1u);
  const fs::path png = dir.path() / "hist.png";
  me::write_histogram_plot(png, "nss", values, "test");
  const cv::Mat img = cv::imread(png.string());
  ASSERT_FALSE(img.empty());
  const auto bar_height = [&](int bin) {
    const int x = kAreaX + static_cast<int>(std::lround((bin + 0.5) * kAreaW / 20.0));
    int n = 0;
    for (int y = 0; y < img.rows; ++y) n += img.at<cv::Vec3b>(y, x) == kBlue ? 1 : 0;
    return n;
  };
  // Height = count / 4 of the area's 380 rows (less the frame's bottom line).
  EXPECT_NEAR(bar_height(10), kAreaH, 2);
  EXPECT_NEAR(bar_height(0), kAreaH / 2.0, 2);
  EXPECT_NEAR(bar_height(19), kAreaH / 4.0, 2);
  EXPECT_EQ(bar_height(5), 0);
}

TEST(ScatterPlot, PointsWhereTheirValuesPutThem) {
  msinet::testing::TempDir dir("eval-plot-scatter");
  // Values span [0, 1]; widened by 5% the axes show [-0.05, 1.05] over 550 x 380 pixels.
  const fs::path png = dir.path() / "scatter.png";
  me::write_scatter_plot(png, "cc", {0.0, 1.0, 0.25}, {0.0, 1.0, 0.75}, "A", "B");
  const cv::Mat img = cv::imread(png.string());
  ASSERT_FALSE(img.empty());
  const auto px = [](double v) {
    return kAreaX + static_cast<int>(std::lround((v + 0.05) / 1.1 * kAreaW));
  };
  const auto py = [](double v) {
    return kAreaY + static_cast<int>(std::lround((1.05 - v) / 1.1 * kAreaH));
  };
  EXPECT_EQ(img.at<cv::Vec3b>(py(0.75), px(0.25)), kBlue);
  EXPECT_EQ(img.at<cv::Vec3b>(py(0.0), px(0.0)), kBlue);
  EXPECT_EQ(img.at<cv::Vec3b>(py(1.0), px(1.0)), kBlue);
  EXPECT_FALSE(blue_near(img, px(0.75), py(0.25), 4));  // no point mirrored
  // The diagonal: dark pixels at (0.5, 0.5), none at (0.5, 0.3) (no grid line there either).
  const cv::Vec3b mid = img.at<cv::Vec3b>(py(0.5), px(0.5));
  EXPECT_LT(mid[0] + mid[1] + mid[2], 3 * 160);
  EXPECT_EQ(img.at<cv::Vec3b>(py(0.3), px(0.5) + 1), cv::Vec3b(255, 255, 255));
}

TEST(WritePlots, NamesTheFilesOfOneRunAndOfAComparison) {
  msinet::testing::TempDir dir("eval-plot-files");
  me::EvalResult a;
  a.predictor = "runs/a/";
  a.metrics = {"auc_judd", "nss"};
  a.images = {{"x", {}, {0.8, 1.0}, std::vector<double>(101, 0.7)},
              {"y", {}, {0.7, NAN}, std::vector<double>(101, 0.6)}};
  a.summary = {{"auc_judd", 0.75, 0.07, 2, {0.7, 0.8}}, {"nss", 1.0, NAN, 1, {1.0, 1.0}}};
  me::EvalResult b = a;
  b.predictor = "runs/b";
  const auto one = me::write_plots(dir.path() / "one", {&a}, {});
  std::vector<std::string> names;
  for (const auto& p : one) names.push_back(p.filename().string());
  EXPECT_EQ(names,
            (std::vector<std::string>{"roc_auc_judd.png", "hist_auc_judd.png", "hist_nss.png"}));
  const auto two = me::write_plots(dir.path() / "two", {&a, &b}, {"pred1", "pred2"});
  names.clear();
  for (const auto& p : two) {
    names.push_back(p.filename().string());
    EXPECT_FALSE(cv::imread(p.string()).empty()) << p;
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "roc_auc_judd.png", "hist_auc_judd_pred1.png", "hist_nss_pred1.png",
                       "hist_auc_judd_pred2.png", "hist_nss_pred2.png",
                       "scatter_auc_judd_pred1_pred2.png", "scatter_nss_pred1_pred2.png"}));
}

}  // namespace
