// The loss curve by its pixels: grid lines at rounded ticks, their labels, and the axis title.

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "msinet/train/plot.h"
#include "test_support.h"

namespace {

bool has_dark(const cv::Mat& img, cv::Rect r) {
  for (int y = r.y; y < r.y + r.height; ++y) {
    for (int x = r.x; x < r.x + r.width; ++x) {
      const cv::Vec3b p = img.at<cv::Vec3b>(y, x);
      if (p[0] + p[1] + p[2] < 3 * 128) return true;
    }
  }
  return false;
}

TEST(LossCurve, RoundTicksAndAnAxisTitle) {
  msinet::testing::TempDir dir("loss-curve");
  const auto png = dir.path() / "loss_curve.png";
  msinet::train::write_loss_curve(png, {0.9876, 0.5, 0.1234}, {0.8, 0.45, 0.2});
  const cv::Mat img = cv::imread(png.string());
  ASSERT_EQ(img.size(), cv::Size(800, 500));
  // Losses 0.1234..0.9876 padded by 5% (0.0802..1.0308) over rows 40..440: worked out by hand,
  // the tick 0.2 is row 390 and 0.8 row 137; 0.3 (no tick) is row 348.
  const int x = 300;  // the curves cross this column at rows 187 and 229
  EXPECT_EQ(img.at<cv::Vec3b>(390, x), cv::Vec3b(220, 220, 220));
  EXPECT_EQ(img.at<cv::Vec3b>(137, x), cv::Vec3b(220, 220, 220));
  EXPECT_EQ(img.at<cv::Vec3b>(348, x), cv::Vec3b(255, 255, 255));
  EXPECT_TRUE(has_dark(img, {40, 382, 34, 14})) << "the label 0.2 left of the frame";
  // The y-axis title in the left margin, the background elsewhere there.
  EXPECT_TRUE(has_dark(img, {0, 40, 25, 400})) << "the y-axis title";
  EXPECT_FALSE(has_dark(img, {0, 0, 25, 40}));
}

}  // namespace
