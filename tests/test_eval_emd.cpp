// The EMD metric: hand-computed transports on maps kept at their size (downsize 1), the cap on
// the ground distance, undefined cases, and a cross-check of the MIT definition (shrink by 32,
// normalise, transport) against a SciPy linear programme (tests/tools/emd_reference.py).

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>

#include "msinet/eval/map_io.h"
#include "msinet/eval/metrics.h"
#include "test_support.h"

namespace me = msinet::eval;
namespace fs = std::filesystem;

namespace {

const char* const kPython = "/usr/bin/python3";

/// A 1 x n map with the given values.
cv::Mat row_of(std::initializer_list<double> v) {
  cv::Mat m(1, static_cast<int>(v.size()), CV_64FC1);
  int x = 0;
  for (double value : v) m.at<double>(0, x++) = value;
  return m;
}

/// A rows x cols map of zeros with `mass` at (y, x).
cv::Mat point(int rows, int cols, int y, int x, double mass = 1.0) {
  cv::Mat m = cv::Mat::zeros(rows, cols, CV_64FC1);
  m.at<double>(y, x) = mass;
  return m;
}

/// `n` isotropic Gaussian blobs of width `sigma` at seeded random centres.
cv::Mat blobs(int rows, int cols, int n, double sigma, uint64_t seed) {
  me::Rng rng(seed);
  cv::Mat m = cv::Mat::zeros(rows, cols, CV_64FC1);
  for (int k = 0; k < n; ++k) {
    const double cy = rng.uniform() * rows;
    const double cx = rng.uniform() * cols;
    const double weight = 0.5 + rng.uniform();
    for (int y = 0; y < rows; ++y) {
      for (int x = 0; x < cols; ++x) {
        const double r2 = (y - cy) * (y - cy) + (x - cx) * (x - cx);
        m.at<double>(y, x) += weight * std::exp(-r2 / (2.0 * sigma * sigma));
      }
    }
  }
  return m;
}

cv::Mat uniform_noise(int rows, int cols, uint64_t seed) {
  me::Rng rng(seed);
  cv::Mat m(rows, cols, CV_64FC1);
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) m.at<double>(y, x) = rng.uniform();
  }
  return m;
}

double emd_value(const cv::Mat& s, const cv::Mat& g, int downsize = 1,
                 double cap = std::numeric_limits<double>::infinity()) {
  const me::Score sc = me::emd(s, g, downsize, cap);
  EXPECT_TRUE(sc.defined()) << sc.undefined;
  return sc.value;
}

bool have_scipy() {
  if (!fs::exists(kPython)) return false;
  msinet::testing::TempDir dir("emd-np");
  msinet::testing::Process p({kPython, "-c", "import numpy, scipy.optimize"}, dir.path());
  return p.wait() == 0;
}

/// One cross-check: maps and options as emd() takes them.
struct Case {
  std::string name;
  cv::Mat s, g;
  int downsize = me::kEmdDownsize;
  double cap = std::numeric_limits<double>::infinity();
  bool exact = true;  // also solve the problem unrounded (slow from 19x25 bins on)
};

/// Runs emd_reference.py once on every case; returns name -> "p" / "q" / "emd" -> values.
std::map<std::string, std::map<std::string, std::vector<double>>> reference(
    const std::vector<Case>& cases) {
  msinet::testing::TempDir dir("emd-ref");
  const std::string script = std::string(MSINET_SOURCE_DIR) + "/tests/tools/emd_reference.py";
  std::vector<std::string> args{kPython, script};
  for (const Case& c : cases) {
    const fs::path d = dir.path() / c.name;
    fs::create_directories(d);
    me::write_npy(d / "s.npy", c.s);
    me::write_npy(d / "g.npy", c.g);
    me::write_npy(d / "opts.npy",
                  row_of({static_cast<double>(c.downsize), c.cap, c.exact ? 1.0 : 0.0}));
    args.push_back(d.string());
  }
  msinet::testing::Process p(args, dir.path());
  EXPECT_EQ(p.wait(), 0) << p.output();
  std::map<std::string, std::map<std::string, std::vector<double>>> out;
  std::istringstream in(p.output());
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string name;
    std::string key;
    ls >> name >> key;
    auto& values = out[name][key];
    for (std::string tok; ls >> tok;) values.push_back(tok == "nan" ? NAN : std::stod(tok));
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------- hand-computed transports

TEST(EvalEmd, PointMassMovedAKnownDistance) {
  // All the mass moves 3 bins along a row, then sqrt(2^2 + 1^2) in 2-D.
  EXPECT_NEAR(emd_value(row_of({0, 0, 0, 1, 0}), row_of({1, 0, 0, 0, 0})), 3.0, 1e-6);
  // Distances are rounded as FastEMD rounds them, to 1e-6 of the largest (sqrt(8) here).
  EXPECT_NEAR(emd_value(point(3, 3, 2, 1), point(3, 3, 0, 0)),
              std::floor(std::sqrt(5.0 / 8.0) * 1e6 + 0.5) * std::sqrt(8.0) / 1e6, 1e-12);
  EXPECT_NEAR(emd_value(point(3, 3, 2, 1), point(3, 3, 0, 0)), std::sqrt(5.0), 1.5e-6);
}

TEST(EvalEmd, MassesAreNormalisedBeforeTheyMove) {
  // G's halves at 0 and 4 both move 2 to S's single bin, whatever S's total.
  EXPECT_NEAR(emd_value(row_of({0, 0, 2, 0, 0}), row_of({1, 0, 0, 0, 1})), 2.0, 1e-6);
  // p = [1/2, 1/2, 0], q = [0, 1/2, 1/2]: the shared half stays, the other moves 2.
  EXPECT_NEAR(emd_value(row_of({0, 3, 3}), row_of({1, 1, 0})), 1.0, 1e-6);
  // Symmetric at downsize 1 (both maps are resized alike only then).
  EXPECT_NEAR(emd_value(row_of({1, 1, 0}), row_of({0, 3, 3})), 1.0, 1e-6);
}

TEST(EvalEmd, CappedGroundDistance) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_NEAR(emd_value(row_of({0, 0, 0, 1, 0}), row_of({1, 0, 0, 0, 0}), 1, inf), 3.0, 1e-6);
  EXPECT_NEAR(emd_value(row_of({0, 0, 0, 1, 0}), row_of({1, 0, 0, 0, 0}), 1, 2.0), 2.0, 1e-6);
  // Halves moving 2 each, capped at 1.5; a move shorter than the cap is left as is.
  EXPECT_NEAR(emd_value(row_of({0, 0, 1, 0, 0}), row_of({1, 0, 0, 0, 1}), 1, 1.5), 1.5, 1e-6);
  EXPECT_NEAR(emd_value(row_of({0, 1, 0, 0, 0}), row_of({1, 0, 0, 0, 0}), 1, 1.5), 1.0, 1e-6);
}

TEST(EvalEmd, IdenticalMapsGiveZero) {
  const cv::Mat g = blobs(64, 96, 3, 8.0, 5);
  EXPECT_NEAR(emd_value(g, g), 0.0, 1e-12);
  EXPECT_NEAR(emd_value(3.0 * g, g, me::kEmdDownsize), 0.0, 1e-12);
  EXPECT_EQ(emd_value(row_of({2, 4}), row_of({1, 2})), 0.0);
}

TEST(EvalEmd, IdenticalMapsOfOtherSizesAreShrunkDifferently) {
  // 70x90 -> 3x3: G is shrunk with the factor 1/32, S to G's size (factors 3/70, 3/90), as
  // MATLAB's imresize(fixationMap, 1/32) and imresize(saliencyMap, size(im1)) do, so a map is
  // not at distance 0 from itself unless its sides are multiples of 32.
  const cv::Mat g = blobs(70, 90, 3, 8.0, 5);
  EXPECT_GT(emd_value(g, g, me::kEmdDownsize), 0.01);
  EXPECT_NE(me::resize_bicubic(g, 1.0 / 32).at<double>(1, 1),
            me::resize_bicubic(g, cv::Size(3, 3)).at<double>(1, 1));
}

TEST(EvalEmd, UndefinedCasesSayWhy) {
  const cv::Mat g = blobs(40, 40, 2, 6.0, 7);
  const cv::Mat zero = cv::Mat::zeros(40, 40, CV_64FC1);
  EXPECT_EQ(me::emd(g, zero).undefined, "all-zero ground-truth map");
  EXPECT_TRUE(std::isnan(me::emd(g, zero).value));
  EXPECT_EQ(me::emd(zero, g).undefined, "all-zero prediction");
  EXPECT_EQ(me::emd(g - 0.5, g).undefined, "negative values in prediction");
  EXPECT_EQ(me::emd(g, g - 0.5).undefined, "negative values in ground-truth map");
}

TEST(EvalEmd, ShrinksByTheFactorAsMatlabDoes) {
  // imresize(map, 1/32): ceil(scale * size), for the common fixation map sizes.
  EXPECT_EQ(me::resize_bicubic(cv::Mat::ones(480, 640, CV_64FC1), 1.0 / 32).size(),
            cv::Size(20, 15));
  EXPECT_EQ(me::resize_bicubic(cv::Mat::ones(600, 800, CV_64FC1), 1.0 / 32).size(),
            cv::Size(25, 19));
  EXPECT_EQ(me::resize_bicubic(cv::Mat::ones(1080, 1920, CV_64FC1), 1.0 / 32).size(),
            cv::Size(60, 34));
  // A prediction of another size is resized straight to the shrunk size.
  EXPECT_TRUE(me::emd(blobs(50, 60, 2, 5.0, 3), blobs(128, 160, 2, 20.0, 4)).defined());
}

// ---------------------------------------------------------------- SciPy cross-check

TEST(EvalEmdReference, MatchesLinearProgramme) {
  if (!have_scipy()) GTEST_SKIP() << "needs /usr/bin/python3 with numpy and scipy";
  std::vector<Case> cases{
      // 150x200 -> 5x7 (sizes not multiples of 32); noise shrinks to positive values.
      {"noise", uniform_noise(150, 200, 1), uniform_noise(150, 200, 2)},
      // Sharp blobs: bicubic overshoot leaves negative shrunk values.
      {"blobs", blobs(160, 224, 3, 12.0, 3), blobs(160, 224, 4, 6.0, 4)},
      // The prediction at another size than the ground truth.
      {"sizes", blobs(100, 120, 2, 15.0, 5), blobs(128, 192, 3, 20.0, 6)},
      {"capped", blobs(96, 128, 2, 10.0, 7), blobs(96, 128, 3, 8.0, 8), 16, 1.5},
      // A fixation map of a common size: 15x20 bins, about 300 moving masses.
      {"480x640", blobs(480, 640, 6, 30.0, 9), blobs(480, 640, 8, 25.0, 10)},
      // OSIE's size: 19x25 bins, where a solver with a step limit stops short of the optimum.
      {"600x800", blobs(600, 800, 8, 30.0, 11), blobs(600, 800, 6, 24.0, 12), 32,
       std::numeric_limits<double>::infinity(), false},
      // Sides not multiples of 32: 500x700 -> 16x22 bins.
      {"500x700", blobs(500, 700, 7, 28.0, 13), blobs(500, 700, 5, 22.0, 14)},
      // Undefined: an all-zero ground-truth map.
      {"zero", blobs(64, 64, 1, 8.0, 1), cv::Mat::zeros(64, 64, CV_64FC1)},
  };
  const auto ref = reference(cases);
  bool saw_negative = false;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_EQ(ref.count(c.name), 1u);
    const auto& r = ref.at(c.name);
    ASSERT_EQ(r.count("emd_fastemd"), 1u);
    const me::Score sc = me::emd(c.s, c.g, c.downsize, c.cap);
    const double want = r.at("emd_fastemd")[0];
    if (std::isnan(want)) {
      EXPECT_FALSE(sc.defined()) << sc.value;
      continue;
    }
    // The shrunk ground truth, as MATLAB imresize(g, 1/downsize) gives it.
    const cv::Mat shrunk = me::resize_bicubic(c.g, 1.0 / c.downsize);
    const auto& p = r.at("p");
    ASSERT_EQ(p.size(), shrunk.total());
    const double total = cv::sum(shrunk)[0];
    for (size_t i = 0; i < p.size(); ++i) {
      EXPECT_NEAR(shrunk.at<double>(static_cast<int>(i)) / total, p[i], 1e-12);
      saw_negative = saw_negative || p[i] < 0.0;
    }
    ASSERT_TRUE(sc.defined()) << sc.undefined;
    // The optimum of the problem as FastEMD rounds it, but for the last digits.
    EXPECT_NEAR(sc.value, want, 1e-9 * std::max(1.0, want));
    // FastEMD's rounding moves the optimum: distances are off by at most 0.5e-6 of the
    // largest one for the unit mass that moves, and each bin's mass by at most 0.5e-6, at a
    // cost of at most the largest distance per unit, these errors adding like a random walk.
    ASSERT_EQ(r.count("emd"), c.exact ? 1u : 0u);
    const double largest = std::min(c.cap, std::hypot(shrunk.rows - 1, shrunk.cols - 1));
    const double resolution =
        0.5e-6 * largest * (1.0 + std::sqrt(static_cast<double>(shrunk.total())));
    if (c.exact) EXPECT_NEAR(sc.value, r.at("emd")[0], resolution);
  }
  EXPECT_TRUE(saw_negative) << "no case exercised negative shrunk values";
}
