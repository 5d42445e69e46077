// Overlays by their pixels: opacity that follows the saliency, the colour maps (against OpenCV's
// own tables, looked up here), the side-by-side strip and the colour bar.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "msinet/data/overlay.h"
#include "msinet/util/error.h"
#include "test_support.h"

namespace msinet::data {
namespace {

const std::vector<std::pair<Colormap, int>> kOpenCvMaps = {
    {Colormap::kInferno, cv::COLORMAP_INFERNO},
    {Colormap::kJet, cv::COLORMAP_JET},
    {Colormap::kViridis, cv::COLORMAP_VIRIDIS},
    {Colormap::kTurbo, cv::COLORMAP_TURBO}};

// OpenCV's colour of `level` under `cv_map`, turned from its BGR into RGB here.
cv::Vec3b opencv_rgb(int level, int cv_map) {
  const cv::Mat one(1, 1, CV_8UC1, cv::Scalar(level));
  cv::Mat bgr;
  cv::applyColorMap(one, bgr, cv_map);
  const cv::Vec3b c = bgr.at<cv::Vec3b>(0, 0);
  return {c[2], c[1], c[0]};
}

cv::Mat random_photo(int h, int w) {
  cv::Mat img(h, w, CV_8UC3);
  cv::RNG rng(7);
  rng.fill(img, cv::RNG::UNIFORM, 0, 256);
  return img;
}

cv::Mat constant_map(int h, int w, float v) { return cv::Mat(h, w, CV_32FC1, cv::Scalar(v)); }

OverlayOptions style(Colormap c, double alpha, bool colorbar = false) {
  OverlayOptions o;
  o.colormap = c;
  o.alpha = alpha;
  o.colorbar = colorbar;
  return o;
}

TEST(Overlay, AZeroMapLeavesThePhotoUnchanged) {
  const cv::Mat photo = random_photo(7, 9);
  cv::Mat photo_float;  // the same values as float, as decoded images are
  photo.convertTo(photo_float, CV_32F);
  for (Colormap c : {Colormap::kInferno, Colormap::kJet, Colormap::kViridis, Colormap::kTurbo,
                     Colormap::kGray}) {
    for (double alpha : {0.6, 1.0}) {
      for (const cv::Mat* in : {&photo, static_cast<const cv::Mat*>(&photo_float)}) {
        const cv::Mat o = make_overlay(*in, constant_map(7, 9, 0.0f), style(c, alpha));
        ASSERT_EQ(o.type(), CV_8UC3);
        ASSERT_EQ(o.size(), photo.size());
        EXPECT_EQ(cv::norm(o, photo, cv::NORM_INF), 0.0) << static_cast<int>(c) << " " << alpha;
      }
    }
  }
}

TEST(Overlay, AFullMapAtAlphaOneIsTheColourMapsColour) {
  const cv::Mat photo = random_photo(3, 4);
  for (const auto& [c, cv_map] : kOpenCvMaps) {
    const cv::Vec3b want = opencv_rgb(255, cv_map);
    const cv::Mat o = make_overlay(photo, constant_map(3, 4, 255.0f), style(c, 1.0));
    for (int y = 0; y < 3; ++y) {
      for (int x = 0; x < 4; ++x) EXPECT_EQ(o.at<cv::Vec3b>(y, x), want) << cv_map;
    }
  }
  // By hand: gray at 255 is white; inferno's top is pale yellow (red high, blue lower) in RGB.
  const cv::Mat white = make_overlay(photo, constant_map(3, 4, 255.0f), style(Colormap::kGray, 1));
  EXPECT_EQ(white.at<cv::Vec3b>(1, 1), cv::Vec3b(255, 255, 255));
  const cv::Vec3b top =
      make_overlay(photo, constant_map(3, 4, 255.0f), style(Colormap::kInferno, 1))
          .at<cv::Vec3b>(0, 0);
  EXPECT_GT(top[0], 240);
  EXPECT_LT(top[2], top[0] - 50);
}

TEST(Overlay, GrayByHand) {
  // Black photo, map 100, alpha 1: 0 * (1 - s) + 100 * s with s = 100/255 -> 39.2 -> 39.
  const cv::Mat black(2, 2, CV_8UC3, cv::Scalar(0, 0, 0));
  const cv::Mat o = make_overlay(black, constant_map(2, 2, 100.0f), style(Colormap::kGray, 1.0));
  EXPECT_EQ(o.at<cv::Vec3b>(0, 0), cv::Vec3b(39, 39, 39));
  // White photo, map 255, alpha 0.5: 255 * 0.5 + 255 * 0.5 = 255.
  const cv::Mat white(2, 2, CV_8UC3, cv::Scalar(255, 255, 255));
  EXPECT_EQ(make_overlay(white, constant_map(2, 2, 255.0f), style(Colormap::kGray, 0.5))
                .at<cv::Vec3b>(1, 0),
            cv::Vec3b(255, 255, 255));
  // Photo 200, map 255, alpha 0.25: 200 * 0.75 + 255 * 0.25 = 213.75 -> 214.
  const cv::Mat grey(2, 2, CV_8UC3, cv::Scalar(200, 200, 200));
  EXPECT_EQ(make_overlay(grey, constant_map(2, 2, 255.0f), style(Colormap::kGray, 0.25))
                .at<cv::Vec3b>(1, 1),
            cv::Vec3b(214, 214, 214));
}

TEST(Overlay, AHalfMapBlendsHalfTheOpacity) {
  const cv::Mat photo = random_photo(5, 6);
  for (const auto& [c, cv_map] : kOpenCvMaps) {
    for (double a : {0.3, 0.6, 1.0}) {
      // 127.5 rounds to level 128, whose colour is blended at a * 128/255, about a / 2.
      const cv::Mat o = make_overlay(photo, constant_map(5, 6, 127.5f), style(c, a));
      const cv::Vec3b colour = opencv_rgb(128, cv_map);
      for (int y = 0; y < 5; ++y) {
        for (int x = 0; x < 6; ++x) {
          const cv::Vec3b p = photo.at<cv::Vec3b>(y, x), got = o.at<cv::Vec3b>(y, x);
          for (int k = 0; k < 3; ++k) {
            const double want = p[k] * (1 - a / 2) + colour[k] * (a / 2);
            EXPECT_NEAR(got[k], want, 1.0) << cv_map << " a=" << a << " at " << y << "," << x;
          }
        }
      }
    }
  }
}

TEST(Overlay, OpacityFollowsEachPixelsSaliency) {
  // A ramp map: every level once; each pixel is photo * (1 - a s) + colour(q) * a s, s = q/255.
  const cv::Mat photo = random_photo(16, 16);
  cv::Mat map(16, 16, CV_32FC1);
  for (int i = 0; i < 256; ++i) map.at<float>(i / 16, i % 16) = static_cast<float>(i);
  const double a = 0.6;
  const cv::Mat o = make_overlay(photo, map, style(Colormap::kJet, a));
  for (int i = 0; i < 256; ++i) {
    const cv::Vec3b p = photo.at<cv::Vec3b>(i / 16, i % 16), got = o.at<cv::Vec3b>(i / 16, i % 16);
    const cv::Vec3b colour = opencv_rgb(i, cv::COLORMAP_JET);
    const double s = a * i / 255.0;
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(got[k], p[k] * (1 - s) + colour[k] * s, 0.5) << i;
  }
}

TEST(Overlay, SideBySideIsPhotoThenMapThenOverlay) {
  const int h = 20, w = 30;
  const cv::Mat photo = random_photo(h, w);
  cv::Mat map(h, w, CV_32FC1);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) map.at<float>(y, x) = static_cast<float>((x * 255) / (w - 1));
  }
  const OverlayOptions o = style(Colormap::kViridis, 0.6);
  const cv::Mat side = make_side_by_side(photo, map, o);
  ASSERT_EQ(side.size(), cv::Size(3 * w, h));
  EXPECT_EQ(cv::norm(side.colRange(0, w), photo, cv::NORM_INF), 0.0);
  for (int x = 0; x < w; ++x) {
    EXPECT_EQ(side.at<cv::Vec3b>(4, w + x), opencv_rgb((x * 255) / (w - 1), cv::COLORMAP_VIRIDIS));
  }
  EXPECT_EQ(cv::norm(side.colRange(2 * w, 3 * w), make_overlay(photo, map, o), cv::NORM_INF), 0.0);
  // With the bar: the same three panels, then the bar.
  const cv::Mat barred = make_side_by_side(photo, map, style(Colormap::kViridis, 0.6, true));
  ASSERT_EQ(barred.rows, h);
  EXPECT_EQ(barred.cols, 3 * w + colour_bar_width(h));
  EXPECT_GT(colour_bar_width(h), 8);
  EXPECT_EQ(cv::norm(barred.colRange(0, 3 * w), side, cv::NORM_INF), 0.0);
}

// Columns whose top row has `high` and bottom row `low`: the bar's strip.
int strip_columns(const cv::Mat& bar, const cv::Vec3b& high, const cv::Vec3b& low) {
  int n = 0;
  for (int x = 0; x < bar.cols; ++x) {
    n += bar.at<cv::Vec3b>(0, x) == high && bar.at<cv::Vec3b>(bar.rows - 1, x) == low ? 1 : 0;
  }
  return n;
}

TEST(ColourBar, TopIsTheHighColourAndBottomTheLow) {
  for (const auto& [c, cv_map] : kOpenCvMaps) {
    const cv::Mat bar = colour_bar(120, c);
    ASSERT_EQ(bar.rows, 120);
    ASSERT_EQ(bar.cols, colour_bar_width(120));
    EXPECT_GE(strip_columns(bar, opencv_rgb(255, cv_map), opencv_rgb(0, cv_map)), 8) << cv_map;
  }
  const cv::Mat grey = colour_bar(120, Colormap::kGray);
  EXPECT_GE(strip_columns(grey, {255, 255, 255}, {0, 0, 0}), 8);
  // The labels: dark text on the white ground right of the strip, near the top and the bottom.
  const cv::Mat jet = colour_bar(120, Colormap::kJet);
  int strip_end = 0;
  for (int x = 0; x < jet.cols; ++x) {
    if (jet.at<cv::Vec3b>(0, x) == opencv_rgb(255, cv::COLORMAP_JET)) strip_end = x + 1;
  }
  auto dark_pixels = [&](int y0, int y1) {
    int n = 0;
    for (int y = y0; y < y1; ++y) {
      for (int x = strip_end + 1; x < jet.cols; ++x) {
        const cv::Vec3b p = jet.at<cv::Vec3b>(y, x);
        n += p[0] + p[1] + p[2] < 3 * 128 ? 1 : 0;
      }
    }
    return n;
  };
  EXPECT_GT(dark_pixels(0, 30), 3) << "the label 1";
  EXPECT_GT(dark_pixels(90, 120), 3) << "the label 0";
  EXPECT_EQ(dark_pixels(45, 75), 0) << "nothing between the labels";
}

TEST(ColourBar, SitsRightOfTheOverlay) {
  const cv::Mat photo = random_photo(40, 50);
  cv::Mat map(40, 50, CV_32FC1);
  cv::RNG(3).fill(map, cv::RNG::UNIFORM, 0, 255);
  const cv::Mat plain = make_overlay(photo, map, style(Colormap::kTurbo, 0.6));
  const cv::Mat barred = make_overlay(photo, map, style(Colormap::kTurbo, 0.6, true));
  ASSERT_EQ(barred.size(), cv::Size(50 + colour_bar_width(40), 40));
  EXPECT_EQ(cv::norm(barred.colRange(0, 50), plain, cv::NORM_INF), 0.0);
  EXPECT_EQ(
      cv::norm(barred.colRange(50, barred.cols), colour_bar(40, Colormap::kTurbo), cv::NORM_INF),
      0.0);
}

TEST(Overlay, RefusesBadOptionsAndSizes) {
  const cv::Mat photo = random_photo(3, 3);
  for (double bad : {0.0, -0.5, 1.5, std::nan("")}) {
    const Error e = testing::thrown_error(
        [&] { make_overlay(photo, constant_map(3, 3, 10), style(Colormap::kJet, bad)); });
    EXPECT_EQ(e.code(), ErrorCode::kUsage) << bad;
    EXPECT_NE(std::string(e.what()).find("(0, 1]"), std::string::npos) << e.what();
  }
  const Error c = testing::thrown_error([] { parse_colormap("hot"); });
  EXPECT_EQ(c.code(), ErrorCode::kUsage);
  EXPECT_NE(std::string(c.what()).find("'hot'"), std::string::npos) << c.what();
  EXPECT_EQ(parse_colormap("turbo"), Colormap::kTurbo);
  EXPECT_EQ(parse_colormap("gray"), Colormap::kGray);
  const Error s =
      testing::thrown_error([&] { make_overlay(photo, constant_map(4, 3, 0), OverlayOptions{}); });
  EXPECT_EQ(s.code(), ErrorCode::kInternal);
  EXPECT_NE(std::string(s.what()).find("differ"), std::string::npos) << s.what();
}

TEST(Overlay, WritesAJpegOfItsSize) {
  testing::TempDir dir("overlay-write");
  const cv::Mat o = make_side_by_side(random_photo(10, 12), constant_map(10, 12, 200),
                                      style(Colormap::kInferno, 0.6, true));
  write_overlay(dir.path() / "x_side.jpeg", o);
  const cv::Mat back = cv::imread((dir.path() / "x_side.jpeg").string());
  EXPECT_EQ(back.size(), o.size());
}

}  // namespace
}  // namespace msinet::data
