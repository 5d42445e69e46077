// Resize kernels, aspect sizes, padding, restoration and quantisation of the image pipeline.
// Expected values are worked out by hand in the comments, or come from the formulas of
// reference-semantics.md section 2 re-implemented here directly (non-separable, double sums).

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "msinet/data/image.h"
#include "msinet/util/error.h"

namespace msinet::data {
namespace {

cv::Mat row_of(const std::vector<float>& v) {
  cv::Mat m(1, static_cast<int>(v.size()), CV_32FC1);
  for (size_t i = 0; i < v.size(); ++i) m.at<float>(0, static_cast<int>(i)) = v[i];
  return m;
}

cv::Mat col_of(const std::vector<float>& v) { return row_of(v).t(); }

cv::Mat random_image(int h, int w, int cn, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(0.0f, 255.0f);
  cv::Mat m(h, w, CV_MAKETYPE(CV_32F, cn));
  for (int y = 0; y < h; ++y) {
    float* p = m.ptr<float>(y);
    for (int j = 0; j < w * cn; ++j) p[j] = dist(gen);
  }
  return m;
}

float scale_of(int in, int out) {
  return out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1)
                 : static_cast<float>(in) / static_cast<float>(out);
}

int clampi(int64_t i, int n) {
  return static_cast<int>(std::min<int64_t>(n - 1, std::max<int64_t>(0, i)));
}

// The area formula of the reference text, summed in double over every (i, j) cell.
cv::Mat area_reference(const cv::Mat& src, int oh, int ow) {
  const int cn = src.channels();
  const float sy = scale_of(src.rows, oh);
  const float sx = scale_of(src.cols, ow);
  auto weight = [](int64_t i, float a, float b, float s) -> double {
    const float fi = static_cast<float>(i);
    return fi < a ? (fi + 1 > b ? s : fi + 1 - a) : (fi + 1 > b ? b - fi : 1.0f);
  };
  cv::Mat out(oh, ow, CV_MAKETYPE(CV_32F, cn));
  for (int y = 0; y < oh; ++y) {
    const float y0 = static_cast<float>(y) * sy;
    const float y1 = static_cast<float>(y + 1) * sy;
    for (int x = 0; x < ow; ++x) {
      const float x0 = static_cast<float>(x) * sx;
      const float x1 = static_cast<float>(x + 1) * sx;
      for (int c = 0; c < cn; ++c) {
        double sum = 0;
        for (int64_t i = static_cast<int64_t>(std::floor(y0)); i < std::ceil(y1); ++i) {
          for (int64_t j = static_cast<int64_t>(std::floor(x0)); j < std::ceil(x1); ++j) {
            const float v = src.ptr<float>(clampi(i, src.rows))[clampi(j, src.cols) * cn + c];
            sum += v * weight(i, y0, y1, sy) * weight(j, x0, x1, sx);
          }
        }
        out.ptr<float>(y)[x * cn + c] = static_cast<float>(sum / (static_cast<double>(sy) * sx));
      }
    }
  }
  return out;
}

// Keys' cubic with A = -0.75 at table position k / 1024, evaluated directly in double.
double keys_w0(double t) {
  const double a = -0.75;
  return ((a + 2) * t - (a + 3)) * t * t + 1;
}
double keys_w1(double t) {
  const double a = -0.75;
  const double x = t + 1;
  return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
}

// The bicubic formula of the reference text, 4x4 taps summed in double.
cv::Mat bicubic_reference(const cv::Mat& src, int oh, int ow) {
  const int cn = src.channels();
  struct Taps {
    int idx[4];
    double w[4];
  };
  auto taps = [](int o, float s, int n) {
    const float f = static_cast<float>(o) * s;
    const auto i0 = static_cast<int64_t>(std::floor(f));
    const long k = lrintf((f - static_cast<float>(i0)) * 1024.0f);
    const double t = k / 1024.0;
    Taps r{{clampi(i0 - 1, n), clampi(i0, n), clampi(i0 + 1, n), clampi(i0 + 2, n)},
           {keys_w1(t), keys_w0(t), keys_w0(1 - t), keys_w1(1 - t)}};
    return r;
  };
  const float sy = scale_of(src.rows, oh);
  const float sx = scale_of(src.cols, ow);
  cv::Mat out(oh, ow, CV_MAKETYPE(CV_32F, cn));
  for (int y = 0; y < oh; ++y) {
    const Taps ty = taps(y, sy, src.rows);
    for (int x = 0; x < ow; ++x) {
      const Taps tx = taps(x, sx, src.cols);
      for (int c = 0; c < cn; ++c) {
        double sum = 0;
        for (int a = 0; a < 4; ++a) {
          for (int b = 0; b < 4; ++b) {
            sum += src.ptr<float>(ty.idx[a])[tx.idx[b] * cn + c] * ty.w[a] * tx.w[b];
          }
        }
        out.ptr<float>(y)[x * cn + c] = static_cast<float>(sum);
      }
    }
  }
  return out;
}

double max_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  EXPECT_EQ(a.size(), b.size());
  EXPECT_EQ(a.type(), b.type());
  return cv::norm(a, b, cv::NORM_INF);
}

template <typename F>
void expect_error(F&& f, ErrorCode code, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no error thrown; expected one containing '" << part << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------- resize_area_tf

TEST(ResizeArea, FourToTwo) {
  // s = (4-1)/(2-1) = 3. out0 covers [0,3): cells 0,1,2 weight 1 -> (1+2+3)/3 = 2.
  // out1 covers [3,6): cells 3,4,5 all clamped to 3 -> 3*4/3 = 4.
  const cv::Mat out = resize_area_tf(row_of({1, 2, 3, 4}), 1, 2);
  ASSERT_EQ(out.size(), cv::Size(2, 1));
  EXPECT_FLOAT_EQ(out.at<float>(0, 0), 2.0f);
  EXPECT_FLOAT_EQ(out.at<float>(0, 1), 4.0f);
}

TEST(ResizeArea, FiveToThree) {
  // s = 4/2 = 2: [0,2) -> (1+2)/2, [2,4) -> (3+4)/2, [4,6) -> cells 4, 5->4: (5+5)/2.
  const cv::Mat out = resize_area_tf(row_of({1, 2, 3, 4, 5}), 1, 3);
  EXPECT_FLOAT_EQ(out.at<float>(0, 0), 1.5f);
  EXPECT_FLOAT_EQ(out.at<float>(0, 1), 3.5f);
  EXPECT_FLOAT_EQ(out.at<float>(0, 2), 5.0f);
}

TEST(ResizeArea, ThreeToTwoAlongRows) {
  // s = 2/1 = 2: [0,2) -> (10+20)/2 = 15; [2,4) -> cells 2, 3->2: 40.
  const cv::Mat out = resize_area_tf(col_of({10, 20, 40}), 2, 1);
  ASSERT_EQ(out.size(), cv::Size(1, 2));
  EXPECT_FLOAT_EQ(out.at<float>(0, 0), 15.0f);
  EXPECT_FLOAT_EQ(out.at<float>(1, 0), 40.0f);
}

TEST(ResizeArea, FractionalWeights) {
  // 5 -> 4: s = 4/3. out0 = [0, 4/3): cell 0 weight 1, cell 1 weight 1/3.
  // out1 = [4/3, 8/3): cell 1 weight 2/3, cell 2 weight 2/3. out3 = [4, 16/3): cell 4 weight 1,
  // cell 5 (clamped to 4) weight 1/3. Each sum is divided by s.
  const cv::Mat out = resize_area_tf(row_of({3, 6, 9, 12, 15}), 1, 4);
  EXPECT_NEAR(out.at<float>(0, 0), (3 + 6 / 3.0) * 0.75, 1e-5);
  EXPECT_NEAR(out.at<float>(0, 1), (6 * 2 / 3.0 + 9 * 2 / 3.0) * 0.75, 1e-5);
  EXPECT_NEAR(out.at<float>(0, 2), (9 / 3.0 + 12) * 0.75, 1e-5);
  EXPECT_NEAR(out.at<float>(0, 3), (15 + 15 / 3.0) * 0.75, 1e-5);
}

TEST(ResizeArea, ThreeChannels2D) {
  // v(y, x, c) = 4y + x + 100c on 4x4 -> 2x2 with s = 3 both ways.
  // (0,0): mean of 4y+x over y,x in 0..2 = 5. (0,1): column 3, rows 0..2 = 4*1+3 = 7.
  // (1,0): row 3, columns 0..2 = 12+1 = 13. (1,1): cell (3,3) nine times = 15.
  cv::Mat src(4, 4, CV_32FC3);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x)
      for (int c = 0; c < 3; ++c) src.ptr<float>(y)[x * 3 + c] = 4.0f * y + x + 100.0f * c;
  const cv::Mat out = resize_area_tf(src, 2, 2);
  ASSERT_EQ(out.type(), CV_32FC3);
  const float expect[2][2] = {{5, 7}, {13, 15}};
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x)
      for (int c = 0; c < 3; ++c)
        EXPECT_NEAR(out.ptr<float>(y)[x * 3 + c], expect[y][x] + 100.0f * c, 1e-4)
            << y << "," << x << "," << c;
}

TEST(ResizeArea, SingleOutputIsTheMean) {
  // out == 1: s = in / out, so the one cell averages everything: mean of 0..14 = 7.
  cv::Mat src(3, 5, CV_32FC1);
  for (int i = 0; i < 15; ++i) src.at<float>(i / 5, i % 5) = static_cast<float>(i);
  const cv::Mat out = resize_area_tf(src, 1, 1);
  EXPECT_NEAR(out.at<float>(0, 0), 7.0f, 1e-5);
}

TEST(ResizeArea, SameSizeIsIdentity) {
  const cv::Mat src = random_image(7, 9, 3, 1);
  EXPECT_EQ(max_abs_diff(resize_area_tf(src, 7, 9), src), 0.0);
}

TEST(ResizeArea, MatchesReferenceFormula) {
  for (const auto& [h, w, oh, ow, cn] : std::vector<std::array<int, 5>>{
           {48, 64, 24, 32, 3}, {37, 53, 20, 31, 1}, {100, 17, 33, 5, 4}, {9, 9, 1, 4, 3}}) {
    const cv::Mat src = random_image(h, w, cn, static_cast<unsigned>(h * 131 + w));
    EXPECT_LT(max_abs_diff(resize_area_tf(src, oh, ow), area_reference(src, oh, ow)), 2e-3)
        << h << "x" << w << " -> " << oh << "x" << ow;
  }
}

TEST(ResizeArea, AcceptsUint8) {
  cv::Mat u8(2, 3, CV_8UC1);
  u8.setTo(cv::Scalar(40));
  const cv::Mat out = resize_area_tf(u8, 1, 2);
  EXPECT_EQ(out.type(), CV_32FC1);
  EXPECT_NEAR(out.at<float>(0, 0), 40.0f, 1e-4);
}

TEST(ResizeArea, RejectsBadArguments) {
  expect_error([] { resize_area_tf(cv::Mat(), 2, 2); }, ErrorCode::kInternal, "empty");
  expect_error([] { resize_area_tf(row_of({1, 2}), 0, 2); }, ErrorCode::kInternal, "0x2");
  expect_error([] { resize_area_tf(row_of({1, 2}), 3, 2); }, ErrorCode::kInternal, "single row");
}

TEST(ResizeArea, IsFastEnough) {
  const cv::Mat src = random_image(480, 640, 3, 7);
  resize_area_tf(src, 240, 320);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) resize_area_tf(src, 240, 320);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / 5;
  RecordProperty("resize_area_640x480_ms", std::to_string(ms));
  EXPECT_LT(ms, 100.0) << "640x480 -> 320x240 took " << ms << " ms";
}

// ---------------------------------------------------------------- resize_bicubic_tf

TEST(ResizeBicubic, TableWeights) {
  // Keys' cubic, A = -0.75: t = 0 gives taps (w1(0), w0(0), w0(1), w1(1)) = (0, 1, 0, 0).
  EXPECT_DOUBLE_EQ(keys_w0(0), 1.0);
  EXPECT_DOUBLE_EQ(keys_w1(0), 0.0);
  EXPECT_DOUBLE_EQ(keys_w0(1), 0.0);
  EXPECT_DOUBLE_EQ(keys_w1(1), 0.0);
  // t = 0.5: w0 = (1.25*0.5 - 2.25)*0.25 + 1 = 0.59375; w1 = ((-1.125+3.75)*1.5 - 6)*1.5 + 3
  // = -0.09375.
  EXPECT_DOUBLE_EQ(keys_w0(0.5), 0.59375);
  EXPECT_DOUBLE_EQ(keys_w1(0.5), -0.09375);
}

TEST(ResizeBicubic, TwoToThree) {
  // s = 1/2. out0: t = 0 -> v0. out1: src 0.5, taps at (0,0,1,1) with (-0.09375, 0.59375,
  // 0.59375, -0.09375) -> (v0 + v1)/2. out2: src 1 -> v1.
  const cv::Mat out = resize_bicubic_tf(row_of({10, 30}), 1, 3);
  ASSERT_EQ(out.size(), cv::Size(3, 1));
  EXPECT_FLOAT_EQ(out.at<float>(0, 0), 10.0f);
  EXPECT_FLOAT_EQ(out.at<float>(0, 1), 20.0f);
  EXPECT_FLOAT_EQ(out.at<float>(0, 2), 30.0f);
}

TEST(ResizeBicubic, ThreeToFive) {
  // s = 2/4 = 0.5, input (0, 10, 40).
  // out1: i0 = 0, taps (0,0,1,2): 10*0.59375 + 40*(-0.09375) = 2.1875.
  // out3: i0 = 1, taps (0,1,2,2): 10*0.59375 + 40*0.59375 - 40*0.09375 = 25.9375.
  const cv::Mat out = resize_bicubic_tf(row_of({0, 10, 40}), 1, 5);
  EXPECT_FLOAT_EQ(out.at<float>(0, 0), 0.0f);
  EXPECT_FLOAT_EQ(out.at<float>(0, 1), 2.1875f);
  EXPECT_FLOAT_EQ(out.at<float>(0, 2), 10.0f);
  EXPECT_FLOAT_EQ(out.at<float>(0, 3), 25.9375f);
  EXPECT_FLOAT_EQ(out.at<float>(0, 4), 40.0f);
}

TEST(ResizeBicubic, TwoToFourUsesTheTable) {
  // s = 1/3: out1 sits at 0.33333334, table index lrintf(341.33) = 341, t = 341/1024;
  // taps (0,0,1,1). out2 sits at 0.6666667, index 683.
  const double t1 = 341 / 1024.0;
  const double t2 = 683 / 1024.0;
  const double v0 = 50, v1 = 200;
  auto at = [&](double t) {
    return v0 * (keys_w1(t) + keys_w0(t)) + v1 * (keys_w0(1 - t) + keys_w1(1 - t));
  };
  const cv::Mat out = resize_bicubic_tf(col_of({50, 200}), 4, 1);
  ASSERT_EQ(out.size(), cv::Size(1, 4));
  EXPECT_FLOAT_EQ(out.at<float>(0, 0), 50.0f);
  EXPECT_NEAR(out.at<float>(1, 0), at(t1), 1e-4);
  EXPECT_NEAR(out.at<float>(2, 0), at(t2), 1e-4);
  EXPECT_FLOAT_EQ(out.at<float>(3, 0), 200.0f);
  // Keys' cubic overshoots nothing here, but is not linear: 50 + 150/3 = 100 differs.
  EXPECT_GT(std::abs(out.at<float>(1, 0) - 100.0f), 1.0f);
}

TEST(ResizeBicubic, SingleInputBroadcasts) {
  const cv::Mat out = resize_bicubic_tf(row_of({42}), 3, 4);
  ASSERT_EQ(out.size(), cv::Size(4, 3));
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) EXPECT_FLOAT_EQ(out.at<float>(y, x), 42.0f);
}

TEST(ResizeBicubic, MatchesReferenceFormula) {
  for (const auto& [h, w, oh, ow, cn] : std::vector<std::array<int, 5>>{
           {24, 32, 48, 64, 3}, {5, 7, 13, 29, 1}, {3, 2, 360, 240, 3}, {10, 10, 10, 10, 2}}) {
    const cv::Mat src = random_image(h, w, cn, static_cast<unsigned>(h * 7 + w));
    EXPECT_LT(max_abs_diff(resize_bicubic_tf(src, oh, ow), bicubic_reference(src, oh, ow)), 2e-3)
        << h << "x" << w << " -> " << oh << "x" << ow;
  }
}

TEST(ResizeBicubic, SameSizeIsIdentity) {
  const cv::Mat src = random_image(6, 11, 3, 3);
  EXPECT_EQ(max_abs_diff(resize_bicubic_tf(src, 6, 11), src), 0.0);
}

// ---------------------------------------------------------------- aspect_size / aspect_resize

TEST(AspectSize, RoundsHalfToEven) {
  // ratio = min(5/10, 100/w) = 0.5 exactly; w * 0.5 = 2.5 -> 2, 3.5 -> 4 (std::round: 3 and 4).
  EXPECT_EQ(aspect_size(10, 5, 5, 100, false), (Size2{5, 2}));
  EXPECT_EQ(aspect_size(10, 7, 5, 100, false), (Size2{5, 4}));
  // ratio 0.25: 6 * 0.25 = 1.5 -> 2; 10 * 0.25 = 2.5 -> 2; 14 * 0.25 = 3.5 -> 4.
  EXPECT_EQ(aspect_size(4, 6, 1, 100, false), (Size2{1, 2}));
  EXPECT_EQ(aspect_size(4, 10, 1, 100, false), (Size2{1, 2}));
  EXPECT_EQ(aspect_size(4, 14, 1, 100, false), (Size2{1, 4}));
}

TEST(AspectSize, MinOrMaxRatio) {
  // 100x200 into 50x50: min ratio 0.25 -> 25x50; max ratio 0.5 -> 50x100.
  EXPECT_EQ(aspect_size(100, 200, 50, 50, false), (Size2{25, 50}));
  EXPECT_EQ(aspect_size(100, 200, 50, 50, true), (Size2{50, 100}));
  // SALICON 480x640 into 240x320: exactly half.
  EXPECT_EQ(aspect_size(480, 640, 240, 320, false), (Size2{240, 320}));
  // OSIE 600x800 into 360x360: min(0.6, 0.45) = 0.45 -> 270x360; back: max(600/360, 800/360)
  // = 2.222 -> 800x800.
  EXPECT_EQ(aspect_size(600, 800, 360, 360, false), (Size2{270, 360}));
  EXPECT_EQ(aspect_size(360, 360, 600, 800, true), (Size2{800, 800}));
  // Enlarging: 10x20 into 40x40: ratio 2 -> 20x40.
  EXPECT_EQ(aspect_size(10, 20, 40, 40, false), (Size2{20, 40}));
}

TEST(AspectSize, RejectsDegenerateSizes) {
  // 4x2 into 1x100: ratio 0.25, width 0.5 rounds to 0.
  expect_error([] { aspect_size(4, 2, 1, 100, false); }, ErrorCode::kInput, "4x2");
  expect_error([] { aspect_size(0, 2, 1, 100, false); }, ErrorCode::kInternal, "0x2");
}

TEST(AspectResize, AreaWhenShrinkingBicubicOtherwiseAndClips) {
  // Shrinking 1x5 (ratio 3/5 -> 1x3): the area result of FiveToThree.
  const cv::Mat small = aspect_resize(row_of({1, 2, 3, 4, 5}), 1, 3, false);
  ASSERT_EQ(small.size(), cv::Size(3, 1));
  EXPECT_FLOAT_EQ(small.at<float>(0, 1), 3.5f);
  // Enlarging 1x3 to 1x5 (ratio 5/3, h = round(1.667) = 2): bicubic overshoots below 0 next to
  // the jump (0, 0, 255) and is clipped.
  const cv::Mat big = aspect_resize(row_of({0, 0, 255}), 2, 5, false);
  ASSERT_EQ(big.size(), cv::Size(5, 2));
  const cv::Mat raw = resize_bicubic_tf(row_of({0, 0, 255}), 2, 5);
  double lo = 0, hi = 0;
  cv::minMaxLoc(raw, &lo, &hi);
  ASSERT_LT(lo, 0.0);
  cv::minMaxLoc(big, &lo, &hi);
  EXPECT_EQ(lo, 0.0);
  EXPECT_EQ(hi, 255.0);
}

// ---------------------------------------------------------------- padding and preprocessing

TEST(PadTo, OddDifferencesGoBottomRight) {
  // 1x1 -> 4x3: vertical 3 = top 1 + bottom 2; horizontal 2 = 1 + 1.
  cv::Mat px(1, 1, CV_32FC3, cv::Scalar(1, 2, 3));
  const cv::Mat out = pad_to(px, 4, 3, 126.0f);
  ASSERT_EQ(out.size(), cv::Size(3, 4));
  ASSERT_EQ(out.type(), CV_32FC3);
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 3; ++x) {
      const cv::Vec3f v = out.at<cv::Vec3f>(y, x);
      if (y == 1 && x == 1) {
        EXPECT_EQ(v, cv::Vec3f(1, 2, 3));
      } else {
        EXPECT_EQ(v, cv::Vec3f(126, 126, 126)) << y << "," << x;
      }
    }
  }
  // 2x1 -> 3x4: top 0, bottom 1; left 1, right 2.
  const cv::Mat m = pad_to(col_of({7, 8}), 3, 4, 0.0f);
  EXPECT_EQ(m.at<float>(0, 1), 7.0f);
  EXPECT_EQ(m.at<float>(1, 1), 8.0f);
  EXPECT_EQ(cv::sum(m)[0], 15.0);
  expect_error([] { pad_to(col_of({7, 8}), 1, 4, 0.0f); }, ErrorCode::kInternal, "larger");
}

TEST(Preprocess, StimulusPadsWith126AndMapWith0) {
  // 2x8 constant image into 4x4: ratio min(2, 0.5) = 0.5 -> 1x4 (area), then one pad row above
  // (floor(3/2) = 1) and two below.
  const cv::Mat rgb(2, 8, CV_32FC3, cv::Scalar(200, 100, 50));
  const cv::Mat s = preprocess_stimulus(rgb, 4, 4);
  ASSERT_EQ(s.size(), cv::Size(4, 4));
  ASSERT_EQ(s.type(), CV_32FC3);
  for (int x = 0; x < 4; ++x) {
    EXPECT_EQ(s.at<cv::Vec3f>(0, x), cv::Vec3f(126, 126, 126));
    EXPECT_NEAR(s.at<cv::Vec3f>(1, x)[0], 200.0f, 1e-3);
    EXPECT_NEAR(s.at<cv::Vec3f>(1, x)[2], 50.0f, 1e-3);
    EXPECT_EQ(s.at<cv::Vec3f>(2, x), cv::Vec3f(126, 126, 126));
    EXPECT_EQ(s.at<cv::Vec3f>(3, x), cv::Vec3f(126, 126, 126));
  }
  const cv::Mat map(2, 8, CV_32FC1, cv::Scalar(90));
  const cv::Mat m = preprocess_map(map, 4, 4);
  ASSERT_EQ(m.type(), CV_32FC1);
  EXPECT_EQ(m.at<float>(0, 0), 0.0f);
  EXPECT_NEAR(m.at<float>(1, 2), 90.0f, 1e-3);
  EXPECT_EQ(m.at<float>(3, 3), 0.0f);
  expect_error([&] { preprocess_stimulus(map, 4, 4); }, ErrorCode::kInternal, "3 channel");
  expect_error([&] { preprocess_map(rgb, 4, 4); }, ErrorCode::kInternal, "1 channel");
}

// ---------------------------------------------------------------- restore_map

TEST(RestoreMap, CentreCropAtSameScale) {
  // pred(y, x) = (4y + x) / 100 on 4x4; original 2x4: ratio max(2/4, 4/4) = 1 -> 4x4 bicubic,
  // which is the identity; crop top = floor((4-2)/2) = 1: rows 1 and 2, times 255.
  cv::Mat pred(4, 4, CV_32FC1);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) pred.at<float>(y, x) = (4.0f * y + x) / 100.0f;
  const cv::Mat r = restore_map(pred, 2, 4);
  ASSERT_EQ(r.size(), cv::Size(4, 2));
  ASSERT_EQ(r.type(), CV_32FC1);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x)
      EXPECT_FLOAT_EQ(r.at<float>(y, x), pred.at<float>(y + 1, x) * 255.0f);
  // Odd difference: 1x4 -> top floor(3/2) = 1; 4x1 -> left 1.
  const cv::Mat r1 = restore_map(pred, 1, 4);
  EXPECT_FLOAT_EQ(r1.at<float>(0, 0), pred.at<float>(1, 0) * 255.0f);
  const cv::Mat c1 = restore_map(pred, 4, 1);
  ASSERT_EQ(c1.size(), cv::Size(1, 4));
  EXPECT_FLOAT_EQ(c1.at<float>(3, 0), pred.at<float>(3, 1) * 255.0f);
}

TEST(RestoreMap, LargerAndSmallerOriginals) {
  const cv::Mat half(4, 4, CV_32FC1, cv::Scalar(0.5));
  // Larger and wider: 4x4 -> ratio max(1.5, 3.5) = 3.5 -> 14x14, crop to 6x14.
  const cv::Mat big = restore_map(half, 6, 14);
  ASSERT_EQ(big.size(), cv::Size(14, 6));
  EXPECT_NEAR(cv::norm(big - 127.5, cv::NORM_INF), 0.0, 1e-3);
  // Smaller: 4x4 -> 3x3 by area (ratio 0.75), no crop.
  const cv::Mat small = restore_map(half, 3, 3);
  ASSERT_EQ(small.size(), cv::Size(3, 3));
  EXPECT_NEAR(cv::norm(small - 127.5, cv::NORM_INF), 0.0, 1e-3);
  // Mixed: 4x4 -> 2x7: ratio max(0.5, 1.75) = 1.75 -> 7x7 bicubic, crop rows floor(5/2) = 2.
  EXPECT_EQ(restore_map(half, 2, 7).size(), cv::Size(7, 2));
  // Values above 1 are clipped at 255.
  const cv::Mat hot(2, 2, CV_32FC1, cv::Scalar(1.2));
  EXPECT_EQ(restore_map(hot, 2, 2).at<float>(1, 1), 255.0f);
}

// ---------------------------------------------------------------- quantize_u8

TEST(QuantizeU8, RoundsHalfToEvenAndClamps) {
  const std::vector<float> in = {0.5f,   1.5f,    2.5f,
                                 3.5f,   254.6f,  -3.0f,
                                 300.0f, 127.49f, std::numeric_limits<float>::quiet_NaN()};
  const std::vector<int> want = {0, 2, 2, 4, 255, 0, 255, 127, 0};
  const cv::Mat q = quantize_u8(row_of(in));
  ASSERT_EQ(q.type(), CV_8UC1);
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(q.at<uchar>(0, static_cast<int>(i)), want[i]) << "input " << in[i];
  }
}

}  // namespace
}  // namespace msinet::data
