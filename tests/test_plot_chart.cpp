// The shared chart drawing: data-to-pixel mapping, rounded ticks, the axis title, the legend's
// layout and the PNG write.

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "msinet/plot/chart.h"
#include "msinet/util/error.h"
#include "test_support.h"

namespace mp = msinet::plot;

namespace {

TEST(Frame, MapsTheRangesOntoTheAreaWithYUpwards) {
  const mp::Frame f{{10, 20, 100, 50}, 0.0, 4.0, -1.0, 1.0};
  EXPECT_EQ(f.x(0.0), 10);
  EXPECT_EQ(f.x(4.0), 110);
  EXPECT_EQ(f.x(1.0), 35);
  EXPECT_EQ(f.y(1.0), 20);
  EXPECT_EQ(f.y(-1.0), 70);
  EXPECT_EQ(f.y(0.0), 45);
  const mp::Frame single{{10, 20, 100, 50}, 0.0, 0.0, 0.0, 1.0};
  EXPECT_EQ(single.x(0.0), 60);  // an empty x range: the middle
}

void expect_ticks(double lo, double hi, int target, double step,
                  const std::vector<std::string>& labels) {
  const mp::Ticks t = mp::nice_ticks(lo, hi, target);
  EXPECT_DOUBLE_EQ(t.step, step) << lo << ".." << hi;
  EXPECT_EQ(t.labels, labels) << lo << ".." << hi;
  ASSERT_EQ(t.values.size(), labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    EXPECT_NEAR(t.values[i], std::stod(labels[i]), 1e-9 * step) << labels[i];
  }
}

// Expected steps and labels worked out by hand: the smallest 1, 2, 2.5, 5 x 10^k at least
// (hi - lo) / target, and its multiples inside the range.
TEST(NiceTicks, RoundStepsAndTheFewestDecimals) {
  expect_ticks(0.1234, 0.9876, 5, 0.2, {"0.2", "0.4", "0.6", "0.8"});  // raw step 0.173
  expect_ticks(0.0, 1.0, 5, 0.2, {"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"});
  expect_ticks(-0.05, 1.05, 5, 0.25, {"0.00", "0.25", "0.50", "0.75", "1.00"});  // raw 0.22
  expect_ticks(0.0, 15.0, 5, 5.0, {"0", "5", "10", "15"});                       // raw 3
  expect_ticks(0.0, 10.0, 4, 2.5, {"0.0", "2.5", "5.0", "7.5", "10.0"});
  expect_ticks(2.31, 2.37, 5, 0.02, {"2.32", "2.34", "2.36"});  // raw 0.012
  expect_ticks(-3.0, 7.0, 5, 2.0, {"-2", "0", "2", "4", "6"});
  expect_ticks(1234.0, 98765.0, 5, 20000.0, {"20000", "40000", "60000", "80000"});
  expect_ticks(0.0, 3.0, 3, 1.0, {"0", "1", "2", "3"});
  // An empty range: its one value.
  const mp::Ticks one = mp::nice_ticks(0.5, 0.5, 5);
  EXPECT_EQ(one.values, std::vector<double>{0.5});
  EXPECT_EQ(one.labels, std::vector<std::string>{"0.5"});
}

bool has_dark(const cv::Mat& img, cv::Rect r) {
  for (int y = r.y; y < r.y + r.height; ++y) {
    for (int x = r.x; x < r.x + r.width; ++x) {
      const cv::Vec3b p = img.at<cv::Vec3b>(y, x);
      if (p[0] + p[1] + p[2] < 3 * 128) return true;
    }
  }
  return false;
}

TEST(YGrid, LinesAtTheTicksLabelledLeftOfTheFrame) {
  cv::Mat img = mp::blank_canvas({300, 200});
  const mp::Frame f{{80, 10, 200, 100}, 0.0, 1.0, 0.0, 1.0};  // y ticks 0, 0.2, ..., 1
  mp::draw_y_grid(img, f, /*divisions=*/5);
  EXPECT_EQ(img.at<cv::Vec3b>(f.y(0.4), 150), cv::Vec3b(220, 220, 220));
  EXPECT_EQ(img.at<cv::Vec3b>(f.y(0.5), 150), cv::Vec3b(255, 255, 255));
  EXPECT_TRUE(has_dark(img, {40, f.y(0.4) - 8, 40, 14})) << "the label 0.4";
  EXPECT_FALSE(has_dark(img, {0, 0, 30, 200})) << "labels end at the frame";
}

TEST(YLabel, WrittenUpwardsInTheLeftMargin) {
  cv::Mat img = mp::blank_canvas({300, 200});
  const mp::Frame f{{80, 10, 200, 160}, 0.0, 1.0, 0.0, 1.0};
  mp::draw_y_label(img, f, "KLD loss", /*x=*/4);
  EXPECT_TRUE(has_dark(img, {4, 10, 20, 160}));
  EXPECT_FALSE(has_dark(img, {30, 0, 270, 200})) << "only in the margin";
  // Upwards: taller than wide.
  int top = 200, bottom = 0;
  for (int y = 0; y < 200; ++y) {
    if (has_dark(img, {0, y, 30, 1})) top = std::min(top, y), bottom = std::max(bottom, y);
  }
  EXPECT_GT(bottom - top, 40);
}

TEST(Legend, StrokesSideBySideOrStacked) {
  cv::Mat img = mp::blank_canvas({200, 100});
  mp::draw_legend(img, {{"a", mp::kBlue}, {"b", mp::kOrange}}, {10, 20}, /*step_x=*/80);
  EXPECT_EQ(img.at<cv::Vec3b>(20, 20), cv::Vec3b(180, 119, 31));
  EXPECT_EQ(img.at<cv::Vec3b>(20, 100), cv::Vec3b(14, 127, 255));
  cv::Mat stacked = mp::blank_canvas({200, 100});
  mp::draw_legend(stacked, {{"a", mp::kBlue}, {"b", mp::kOrange}}, {10, 20}, /*step_x=*/0);
  EXPECT_EQ(stacked.at<cv::Vec3b>(40, 20), cv::Vec3b(14, 127, 255));
  EXPECT_EQ(mp::series_colour(5), mp::kBlue);
}

TEST(WritePng, WritesThePixelsAndNamesTheChartOnFailure) {
  msinet::testing::TempDir dir("plot-png");
  cv::Mat img = mp::blank_canvas({30, 20});
  img.at<cv::Vec3b>(3, 4) = cv::Vec3b(1, 2, 3);
  mp::write_png(dir.path() / "x.png", img, "test chart");
  const cv::Mat back = cv::imread((dir.path() / "x.png").string());
  ASSERT_EQ(back.size(), img.size());
  EXPECT_EQ(cv::norm(back, img, cv::NORM_INF), 0.0);
  // A file where the folder should be.
  const msinet::Error e = msinet::testing::thrown_error(
      [&] { mp::write_png(dir.path() / "x.png" / "y.png", img, "test chart"); });
  EXPECT_EQ(e.code(), msinet::ErrorCode::kIo);
  EXPECT_NE(std::string(e.what()).find("x.png"), std::string::npos) << e.what();
}

}  // namespace
