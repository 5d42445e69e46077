// The shared chart drawing: data-to-pixel mapping, the legend's layout and the PNG write.

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

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
