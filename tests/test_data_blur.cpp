// Map making: the Gaussian blur against scipy.ndimage, the grey-level quantisation against
// matplotlib's rule written out independently (numpy, and by hand), and the PNG writer.

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

#include "msinet/data/blur.h"
#include "msinet/util/error.h"
#include "test_support.h"
#include "tools/http_server.h"

namespace msinet::data {
namespace {

namespace fs = std::filesystem;
using msinet::testing::run_command;
using msinet::testing::TempDir;

cv::Mat read_raw(const fs::path& file, int rows, int cols, int type) {
  cv::Mat m(rows, cols, type);
  std::ifstream in(file, std::ios::binary);
  in.read(reinterpret_cast<char*>(m.data), static_cast<std::streamsize>(m.total() * m.elemSize()));
  EXPECT_TRUE(in.good()) << file;
  return m;
}

void write_raw(const fs::path& file, const cv::Mat& m) {
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(m.data),
            static_cast<std::streamsize>(m.total() * m.elemSize()));
}

std::string python(const std::string& code, const std::vector<std::string>& args = {}) {
  std::vector<std::string> argv = {"/usr/bin/python3", "-c", code};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run_command(argv);
  EXPECT_EQ(r.status, 0) << code;
  return r.out;
}

cv::Mat random_map(int rows, int cols, int type, uint32_t seed, double density = 1.0) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  cv::Mat m(rows, cols, CV_64F);
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) m.at<double>(y, x) = u(gen) < density ? u(gen) : 0.0;
  }
  cv::Mat out;
  m.convertTo(out, type);
  return out;
}

// scipy.ndimage.gaussian_filter of `map` (written and read as raw native-endian arrays).
cv::Mat scipy_gaussian(const TempDir& dir, const cv::Mat& map, double sigma, const char* mode) {
  const fs::path in = dir.path() / "in.raw";
  const fs::path out = dir.path() / "out.raw";
  write_raw(in, map);
  const char* dtype = map.depth() == CV_32F ? "float32" : "float64";
  // mode "filter": gaussian_filter itself; mode "libm": the same passes through correlate1d with
  // the kernel built from math.exp (glibc) and numpy's sum, as the original's numpy did.
  python(R"(
import sys, math, numpy as np
from scipy import ndimage
src, dst, h, w, dtype, sigma, mode = sys.argv[1:8]
m = np.fromfile(src, dtype=dtype).reshape(int(h), int(w))
sigma = float(sigma)
if mode == "filter":
    r = ndimage.gaussian_filter(m, sigma)
else:
    rad = int(4.0 * sigma + 0.5)
    phi = np.array([math.exp(-0.5 / (sigma * sigma) * float(x * x)) for x in range(-rad, rad + 1)])
    k = phi / phi.sum()
    r = ndimage.correlate1d(m, k, axis=0, mode="reflect")
    r = ndimage.correlate1d(r, k, axis=1, mode="reflect")
r.astype(dtype).tofile(dst)
)",
         {in.string(), out.string(), std::to_string(map.rows), std::to_string(map.cols), dtype,
          std::to_string(sigma), mode});
  return read_raw(out, map.rows, map.cols, map.type());
}

double max_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat a64;
  cv::Mat b64;
  a.convertTo(a64, CV_64F);
  b.convertTo(b64, CV_64F);
  return cv::norm(a64, b64, cv::NORM_INF);
}

bool bitwise_equal(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() &&
         std::memcmp(a.data, b.data, a.total() * a.elemSize()) == 0;
}

TEST(GaussianKernel, MatchesScipyRadiusAndWeights) {
  for (const double sigma : {16.0, 30.0, 1.5}) {
    const auto w = gaussian_kernel(sigma);
    const int radius = static_cast<int>(4.0 * sigma + 0.5);
    ASSERT_EQ(w.size(), static_cast<size_t>(2 * radius + 1));
    const std::string out = python(
        "import sys\nfrom scipy.ndimage import _filters as f\n"
        "s=float(sys.argv[1]); r=int(4.0*s+0.5)\n"
        "print(' '.join(repr(float(v)) for v in f._gaussian_kernel1d(s, 0, r)))",
        {std::to_string(sigma)});
    std::istringstream in(out);
    for (size_t i = 0; i < w.size(); ++i) {
      double expected = 0;
      in >> expected;
      // numpy's exp (AVX-512 where available) differs from glibc's in the last bits
      EXPECT_NEAR(w[i], expected, 1e-14 * expected) << "sigma " << sigma << " tap " << i;
      EXPECT_EQ(w[i], w[w.size() - 1 - i]);
    }
  }
  EXPECT_THROW(gaussian_kernel(0.0), Error);
}

TEST(GaussianFilter, MatchesScipyOnRandomMaps) {
  TempDir dir("blur");
  struct Case {
    int rows, cols;
    double sigma;
    double density;
  };
  // Maps smaller than the kernel radius exercise scipy's repeated reflection.
  for (const Case& c :
       {Case{37, 53, 16.0, 1.0}, Case{5, 3, 16.0, 1.0}, Case{1, 1, 16.0, 1.0},
        Case{130, 90, 30.0, 1.0}, Case{60, 80, 16.0, 0.01}, Case{2, 150, 30.0, 0.3}}) {
    const cv::Mat map =
        random_map(c.rows, c.cols, CV_64F, static_cast<uint32_t>(c.rows * c.cols), c.density);
    const cv::Mat ours = gaussian_filter(map, c.sigma);
    ASSERT_EQ(ours.type(), CV_64FC1);
    EXPECT_LE(max_abs_diff(ours, scipy_gaussian(dir, map, c.sigma, "filter")), 1e-12)
        << c.rows << "x" << c.cols << " sigma " << c.sigma;
    // With glibc's exp for the kernel (what numpy used before its AVX-512 exp), scipy's passes
    // give the very same bits: same order of additions and products.
    EXPECT_TRUE(bitwise_equal(ours, scipy_gaussian(dir, map, c.sigma, "libm")))
        << c.rows << "x" << c.cols << " sigma " << c.sigma;
  }
}

TEST(GaussianFilter, Float32MapsRoundEachPassLikeScipy) {
  TempDir dir("blur32");
  for (const auto& [rows, cols, sigma] :
       std::vector<std::tuple<int, int, double>>{{31, 45, 30.0}, {50, 70, 30.0}, {9, 4, 16.0}}) {
    cv::Mat map = random_map(rows, cols, CV_32F, static_cast<uint32_t>(rows + cols), 0.05);
    const cv::Mat ours = gaussian_filter(map, sigma);
    ASSERT_EQ(ours.type(), CV_32FC1);
    EXPECT_TRUE(bitwise_equal(ours, scipy_gaussian(dir, map, sigma, "libm")))
        << rows << "x" << cols;
    EXPECT_LE(max_abs_diff(ours, scipy_gaussian(dir, map, sigma, "filter")), 1e-7);
  }
}

TEST(GaussianFilter, OsieSizedSparseMapIsFast) {
  cv::Mat map(600, 800, CV_64F, cv::Scalar(0.0));
  std::mt19937 gen(3);
  for (int i = 0; i < 150; ++i)
    map.at<double>(static_cast<int>(gen() % 600), static_cast<int>(gen() % 800)) = 1.0;
  const auto t0 = std::chrono::steady_clock::now();
  const cv::Mat out = gaussian_filter(map, 16.0);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("blur_ms", std::to_string(ms));
  EXPECT_GT(cv::sum(out)[0], 149.0);
  EXPECT_LT(ms, 2000.0);  // about 20 ms on one core; generous for loaded machines
}

// matplotlib's grey level for bin k, written out from its lookup table: trunc(k / 255 * 255).
int lut_level(int k) { return static_cast<int>(std::trunc((k * (1.0 / 255)) * 255.0)); }

TEST(GrayLevels, QuantisationFollowsMatplotlibByHand) {
  // Values (k + 0.5) / 256 between the endpoints 0 and 1 fall in bin k.
  cv::Mat map(1, 258, CV_64F);
  map.at<double>(0, 0) = 0.0;
  map.at<double>(0, 257) = 1.0;
  for (int k = 0; k < 256; ++k) map.at<double>(0, k + 1) = (k + 0.5) / 256.0;
  const cv::Mat g = gray_levels(map);
  ASSERT_EQ(g.type(), CV_8UC1);
  EXPECT_EQ(g.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(g.at<uint8_t>(0, 257), 255);  // v = 1 -> 256 -> bin 255
  for (int k = 0; k < 256; ++k) EXPECT_EQ(g.at<uint8_t>(0, k + 1), lut_level(k)) << k;
  // The truncation makes some levels one lower than their bin.
  EXPECT_EQ(g.at<uint8_t>(0, 33 + 1), 32);
  EXPECT_EQ(g.at<uint8_t>(0, 37 + 1), 36);
  EXPECT_EQ(g.at<uint8_t>(0, 41 + 1), 40);
  EXPECT_EQ(g.at<uint8_t>(0, 34 + 1), 34);
  EXPECT_EQ(g.at<uint8_t>(0, 1 + 1), 1);
}

TEST(GrayLevels, ConstantMapIsBlackAsNormalizeFillsZero) {
  for (const double v : {0.0, 0.7, 3.0}) {
    cv::Mat map(4, 5, CV_64F, cv::Scalar(v));
    EXPECT_EQ(cv::countNonZero(gray_levels(map)), 0) << v;
  }
  cv::Mat map32(3, 3, CV_32F, cv::Scalar(2.0f));
  EXPECT_EQ(cv::countNonZero(gray_levels(map32)), 0);
}

TEST(GrayLevels, MatchesNumpyFormulaInBothPrecisions) {
  TempDir dir("levels");
  for (const int type : {CV_64F, CV_32F}) {
    cv::Mat map = random_map(40, 33, type, 11, 0.7);
    map *= 3.7;
    map += 0.25;
    const fs::path in = dir.path() / "m.raw";
    const fs::path out = dir.path() / "g.raw";
    write_raw(in, map);
    python(R"(
import sys, numpy as np
m = np.fromfile(sys.argv[1], dtype=sys.argv[3]).reshape(40, 33)
mn, mx = m.min(), m.max()
v = (m - mn) / (mx - mn)
xa = v * m.dtype.type(256)
xa[xa == 256] = 255
lut = np.trunc(np.linspace(0.0, 1.0, 256) * 255.0).astype(np.uint8)
lut[xa.astype(int)].tofile(sys.argv[2])
)",
           {in.string(), out.string(), type == CV_32F ? "float32" : "float64"});
    const cv::Mat expected = read_raw(out, 40, 33, CV_8UC1);
    EXPECT_EQ(cv::countNonZero(gray_levels(map) != expected), 0) << type;
  }
}

TEST(WriteGrayPng, RoundTripsAsEightBitGreyscale) {
  TempDir dir("png");
  cv::Mat g(7, 9, CV_8UC1);
  for (int i = 0; i < g.rows * g.cols; ++i) g.data[i] = static_cast<uint8_t>(i * 4);
  const fs::path file = dir.path() / "m.png";
  write_gray_png(file, g);
  const cv::Mat back = cv::imread(file.string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(back.type(), CV_8UC1);
  EXPECT_EQ(cv::countNonZero(back != g), 0);
  try {
    write_gray_png(dir.path() / "missing" / "m.png", g);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
    EXPECT_NE(std::string(e.what()).find("missing/m.png"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace msinet::data
