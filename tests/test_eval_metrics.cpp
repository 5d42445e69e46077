// Saliency metrics: hand-computed cases on tiny maps, invariances, and a cross-check against an
// independent NumPy implementation (tests/tools/eval_reference.py).

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "msinet/eval/baselines.h"
#include "msinet/eval/map_io.h"
#include "msinet/eval/metrics.h"
#include "msinet/util/error.h"
#include "test_support.h"

namespace me = msinet::eval;
namespace fs = std::filesystem;

namespace {

const char* const kPython = "/usr/bin/python3";

cv::Mat map_of(int rows, int cols, std::initializer_list<double> v) {
  cv::Mat m(rows, cols, CV_64FC1);
  auto it = v.begin();
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) m.at<double>(y, x) = *it++;
  }
  return m;
}

cv::Mat random_map(int rows, int cols, uint64_t seed, double lo = 0.0, double hi = 1.0) {
  me::Rng rng(seed);
  cv::Mat m(rows, cols, CV_64FC1);
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) m.at<double>(y, x) = lo + (hi - lo) * rng.uniform();
  }
  return m;
}

cv::Mat random_fixations(int rows, int cols, int n, uint64_t seed) {
  me::Rng rng(seed);
  cv::Mat f = cv::Mat::zeros(rows, cols, CV_64FC1);
  for (int i = 0; i < n; ++i) {
    f.at<double>(static_cast<int>(rng.below(rows)), static_cast<int>(rng.below(cols))) = 1.0;
  }
  return f;
}

bool have_numpy() {
  if (!fs::exists(kPython)) return false;
  msinet::testing::TempDir dir("eval-np");
  msinet::testing::Process p({kPython, "-c", "import numpy"}, dir.path());
  return p.wait() == 0;
}

/// Runs eval_reference.py on `dir`; returns name -> values.
std::map<std::string, std::vector<double>> reference(const fs::path& dir) {
  const std::string script = std::string(MSINET_SOURCE_DIR) + "/tests/tools/eval_reference.py";
  msinet::testing::Process p({kPython, script, dir.string()}, dir);
  EXPECT_EQ(p.wait(), 0) << p.output();
  std::map<std::string, std::vector<double>> out;
  std::istringstream in(p.output());
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string key;
    ls >> key;
    std::vector<double> v;
    for (std::string tok; ls >> tok;) v.push_back(tok == "nan" ? NAN : std::stod(tok));
    out[key] = v;
  }
  return out;
}

void expect_same(const me::Score& s, const std::vector<double>& ref, const char* what) {
  ASSERT_EQ(ref.size(), 1u) << what;
  if (std::isnan(ref[0])) {
    EXPECT_FALSE(s.defined()) << what << " = " << s.value;
  } else {
    ASSERT_TRUE(s.defined()) << what << ": " << s.undefined;
    EXPECT_NEAR(s.value, ref[0], 1e-9) << what;
  }
}

// 2x2 maps used by the hand-computed cases. Values after min-max normalisation are given in
// the comments.
const cv::Mat kPerfect = map_of(2, 2, {4, 3, 2, 1});   // [1, 2/3; 1/3, 0]
const cv::Mat kInverted = map_of(2, 2, {1, 2, 3, 4});  // [0, 1/3; 2/3, 1]
const cv::Mat kFixTopLeft = map_of(2, 2, {1, 0, 0, 0});

}  // namespace

// ---------------------------------------------------------------- AUC-Judd

TEST(EvalAucJudd, PerfectMapSingleFixationIsOne) {
  // Threshold 1 (the fixated value): 1 pixel >= 1, tp = 1, fp = (1 - 1) / 3 = 0.
  // Curve (0,0) (0,1) (1,1): area 1.
  const auto s = me::auc_judd(kPerfect, kFixTopLeft, nullptr);
  ASSERT_TRUE(s.defined());
  EXPECT_DOUBLE_EQ(s.value, 1.0);
}

TEST(EvalAucJudd, InvertedMapSingleFixationIsOneHalf) {
  // The fixated value is the minimum: 4 pixels >= it, tp = 1, fp = (4 - 1) / 3 = 1.
  // Curve (0,0) (1,1) (1,1): area 1/2 (AUC-Judd only thresholds at fixated values).
  EXPECT_DOUBLE_EQ(me::auc_judd(kInverted, kFixTopLeft, nullptr).value, 0.5);
}

TEST(EvalAucJudd, TwoFixationsOnThreeByThree) {
  // S = 9..1 row-major, fixations at values 8 and 4. Thresholds (normalised) 7/8 and 3/8:
  // i=1: 2 pixels >= 8 -> tp 1/2, fp (2-1)/7; i=2: 6 pixels >= 4 -> tp 1, fp (6-2)/7.
  // Area of (0,0) (1/7,1/2) (4/7,1) (1,1) = 1/28 + 9/28 + 12/28 = 11/14.
  const cv::Mat s = map_of(3, 3, {9, 8, 7, 6, 5, 4, 3, 2, 1});
  const cv::Mat f = map_of(3, 3, {0, 1, 0, 0, 0, 1, 0, 0, 0});
  EXPECT_NEAR(me::auc_judd(s, f, nullptr).value, 11.0 / 14.0, 1e-15);
}

TEST(EvalAucJudd, ConstantAndZeroMapsAreUndefinedWithoutJitter) {
  const cv::Mat c = cv::Mat(2, 2, CV_64FC1, cv::Scalar(0.3));
  const auto s = me::auc_judd(c, kFixTopLeft, nullptr);
  EXPECT_FALSE(s.defined());
  EXPECT_TRUE(std::isnan(s.value));
  EXPECT_EQ(s.undefined, "constant prediction");
  EXPECT_EQ(me::auc_judd(cv::Mat::zeros(2, 2, CV_64FC1), kFixTopLeft, nullptr).undefined,
            "constant prediction");
}

TEST(EvalAucJudd, ConstantMapWithJitterIsChance) {
  // Jitter turns a constant map into independent noise: AUC ~ 0.5 with standard deviation
  // sqrt((n0 + n1 + 1) / (12 n0 n1)) ~ 0.02 for ~200 fixations on 100 x 100.
  const cv::Mat c = cv::Mat(100, 100, CV_64FC1, cv::Scalar(7.0));
  const cv::Mat f = random_fixations(100, 100, 200, 11);
  me::Rng rng(5);
  const auto s = me::auc_judd(c, f, &rng);
  ASSERT_TRUE(s.defined());
  EXPECT_NEAR(s.value, 0.5, 0.08);
}

TEST(EvalAucJudd, EmptyAndFullFixationMaps) {
  EXPECT_EQ(me::auc_judd(kPerfect, cv::Mat::zeros(2, 2, CV_64FC1), nullptr).undefined,
            "empty fixation map");
  EXPECT_EQ(me::auc_judd(kPerfect, cv::Mat::ones(2, 2, CV_64FC1), nullptr).undefined,
            "every pixel is fixated");
}

TEST(EvalAucJudd, JitterIsSeeded) {
  const cv::Mat c = cv::Mat(20, 20, CV_64FC1, cv::Scalar(1.0));
  const cv::Mat f = random_fixations(20, 20, 30, 3);
  me::Rng a(42), b(42), d(43);
  const double va = me::auc_judd(c, f, &a).value;
  EXPECT_EQ(va, me::auc_judd(c, f, &b).value);
  EXPECT_NE(va, me::auc_judd(c, f, &d).value);
}

// ---------------------------------------------------------------- AUC-Borji / sAUC

TEST(EvalAucBorji, OneSplitByHand) {
  // Positives {0.85, 0.35}, negatives {0.55, 0.05}; thresholds 0.8 .. 0 in steps of 0.1:
  // t in [0.6, 0.8]: (fp, tp) = (0, 1/2); t in [0.4, 0.5]: (1/2, 1/2); t in [0.1, 0.3]:
  // (1/2, 1); t = 0: (1, 1). Area = 1/2 * 1/2 + 1/2 * 1 = 3/4 (3 of 4 pairs ordered).
  EXPECT_DOUBLE_EQ(me::thresholded_roc_area({0.85, 0.35}, {0.55, 0.05}), 0.75);
  // Separated sets: area 1; identical sets: tp = fp at every threshold, area 1/2.
  EXPECT_DOUBLE_EQ(me::thresholded_roc_area({1.0, 0.9}, {0.0, 0.05}), 1.0);
  EXPECT_DOUBLE_EQ(me::thresholded_roc_area({0.2, 0.7}, {0.7, 0.2}), 0.5);
}

TEST(EvalAucBorji, ExpectedValueOnThreeByThree) {
  // Fixated pixels hold 1, the 7 others 0. For a split whose negatives include a fraction q of
  // ones: (0,0) (q,1) ... (1,1): area 1 - q/2. E[q] = 2/9 -> E[AUC] = 8/9; over 100 splits of 2
  // draws the mean has standard deviation ~0.015.
  const cv::Mat s = map_of(3, 3, {1, 0, 0, 0, 0, 0, 0, 0, 1});
  me::Rng rng(1);
  const auto v = me::auc_borji(s, s, rng);
  ASSERT_TRUE(v.defined());
  EXPECT_NEAR(v.value, 8.0 / 9.0, 0.06);
}

TEST(EvalAucBorji, UndefinedCases) {
  me::Rng rng(0);
  EXPECT_EQ(me::auc_borji(kPerfect, kFixTopLeft, rng).undefined, "fewer than 2 fixations");
  EXPECT_EQ(me::auc_borji(kPerfect, cv::Mat::zeros(2, 2, CV_64FC1), rng).undefined,
            "empty fixation map");
  const cv::Mat two = map_of(2, 2, {1, 0, 0, 1});
  EXPECT_EQ(me::auc_borji(cv::Mat::ones(2, 2, CV_64FC1), two, rng).undefined,
            "constant prediction");
}

TEST(EvalSauc, ScaledUnionByHand) {
  // 2x2 fixations at (x,y) = (0,0), (1,1) scaled to 4x4: x' = floor((x + 0.5) * 4 / 2) -> 1, 3:
  // indices 1*4+1 = 5 and 3*4+3 = 15; a 4x4 map fixated at (1,1) adds 5 again (counted once).
  me::FixationPoints a{cv::Size(2, 2), {0, 3}};
  me::FixationPoints b{cv::Size(4, 4), {5}};
  EXPECT_EQ(me::scaled_fixation_union({&a, &b}, cv::Size(4, 4)), (std::vector<int>{5, 15}));
  // 4x2 (w x h) -> 2x1: x 0..3 -> floor((x + .5) / 2) = 0,0,1,1; y -> 0.
  me::FixationPoints c{cv::Size(4, 2), {3, 4}};
  EXPECT_EQ(me::scaled_fixation_union({&c}, cv::Size(2, 1)), (std::vector<int>{0, 1}));
}

TEST(EvalSauc, HandCases) {
  const cv::Mat s = map_of(3, 3, {1, 0, 0, 0, 0, 0, 0, 0, 1});
  me::Rng rng(2);
  // Negatives only at zero-valued pixels: every split separates perfectly -> 1.
  EXPECT_DOUBLE_EQ(me::sauc(s, s, {1, 2, 3, 4}, rng).value, 1.0);
  // Negatives = the fixated pixels themselves (a pure centre bias cancels): 1/2.
  EXPECT_DOUBLE_EQ(me::sauc(s, s, {0, 8}, rng).value, 0.5);
  EXPECT_EQ(me::sauc(s, s, {}, rng).undefined, "no fixations on other images");
  EXPECT_EQ(me::sauc(s, cv::Mat::zeros(3, 3, CV_64FC1), {1}, rng).undefined, "empty fixation map");
}

TEST(EvalAuc, RandomMapsStayInUnitInterval) {
  for (uint64_t seed = 0; seed < 5; ++seed) {
    const cv::Mat s = random_map(15, 20, seed);
    const cv::Mat f = random_fixations(15, 20, 12, seed + 100);
    me::Rng r1(seed), r2(seed), r3(seed);
    for (const auto& v : {me::auc_judd(s, f, &r1), me::auc_borji(s, f, r2),
                          me::sauc(s, f, {0, 7, 33, 150, 299}, r3)}) {
      ASSERT_TRUE(v.defined()) << v.undefined;
      EXPECT_GE(v.value, 0.0);
      EXPECT_LE(v.value, 1.0);
    }
  }
}

// ---------------------------------------------------------------- NSS, CC

TEST(EvalNss, HandCases) {
  // S = [4 3; 2 1]: mean 2.5, sample variance (2.25 + .25 + .25 + 2.25) / 3 = 5/3.
  // Fixated value 4: NSS = 1.5 / sqrt(5/3); inverted map: -1.5 / sqrt(5/3).
  EXPECT_NEAR(me::nss(kPerfect, kFixTopLeft).value, 1.5 / std::sqrt(5.0 / 3.0), 1e-15);
  EXPECT_NEAR(me::nss(kInverted, kFixTopLeft).value, -1.5 / std::sqrt(5.0 / 3.0), 1e-15);
  EXPECT_EQ(me::nss(cv::Mat::ones(2, 2, CV_64FC1), kFixTopLeft).undefined, "constant prediction");
  EXPECT_EQ(me::nss(cv::Mat::zeros(2, 2, CV_64FC1), kFixTopLeft).undefined, "constant prediction");
  EXPECT_EQ(me::nss(kPerfect, cv::Mat::zeros(2, 2, CV_64FC1)).undefined, "empty fixation map");
}

TEST(EvalCc, HandCases) {
  const cv::Mat s = map_of(2, 2, {1, 2, 3, 4});
  EXPECT_NEAR(me::cc(s, map_of(2, 2, {2, 4, 6, 8})).value, 1.0, 1e-15);
  EXPECT_NEAR(me::cc(s, map_of(2, 2, {4, 3, 2, 1})).value, -1.0, 1e-15);
  // Deviations (-1.5, -.5, .5, 1.5) and (.5, -.5, -.5, .5): products sum to 0.
  EXPECT_NEAR(me::cc(s, map_of(2, 2, {1, 0, 0, 1})).value, 0.0, 1e-15);
  EXPECT_EQ(me::cc(cv::Mat::ones(2, 2, CV_64FC1), s).undefined, "constant prediction");
  EXPECT_EQ(me::cc(s, cv::Mat::zeros(2, 2, CV_64FC1)).undefined, "constant ground-truth map");
}

TEST(EvalNssCc, InvariantUnderAffineRescaling) {
  const cv::Mat s = random_map(12, 9, 7);
  const cv::Mat g = random_map(12, 9, 8, 0.0, 255.0);
  const cv::Mat f = random_fixations(12, 9, 10, 9);
  const cv::Mat scaled = s * 37.5 + 4.25;
  EXPECT_NEAR(me::nss(scaled, f).value, me::nss(s, f).value, 1e-12);
  EXPECT_NEAR(me::cc(scaled, g).value, me::cc(s, g).value, 1e-12);
  const cv::Mat flipped = s * -2.0 + 1.0;
  EXPECT_NEAR(me::nss(flipped, f).value, -me::nss(s, f).value, 1e-12);
  EXPECT_NEAR(me::cc(flipped, g).value, -me::cc(s, g).value, 1e-12);
}

// ---------------------------------------------------------------- KLD, SIM, IG

TEST(EvalKld, HandCases) {
  const cv::Mat g = map_of(2, 2, {1, 0, 0, 0});
  // Uniform S: p = 1/4 everywhere, q = (1, 0, 0, 0): KLD = log(1 / (1/4)) = log 4.
  EXPECT_NEAR(me::kld(cv::Mat::ones(2, 2, CV_64FC1), g).value, std::log(4.0), 1e-12);
  // All-zero S stays zero: KLD = log(eps + 1/eps) = 52 log 2.
  EXPECT_NEAR(me::kld(cv::Mat::zeros(2, 2, CV_64FC1), g).value, 52.0 * std::log(2.0), 1e-9);
  EXPECT_EQ(me::kld(map_of(2, 2, {1, -1, 0, 0}), g).undefined, "negative values in prediction");
}

TEST(EvalKld, ZeroForIdenticalMapsPositiveOtherwise) {
  const cv::Mat g = random_map(10, 10, 1, 0.0, 255.0);
  EXPECT_NEAR(me::kld(g, g).value, 0.0, 1e-12);
  EXPECT_NEAR(me::kld(g * 3.0, g).value, 0.0, 1e-12);  // scale-free
  EXPECT_GT(me::kld(random_map(10, 10, 2), g).value, 1e-3);
}

TEST(EvalSim, HandCases) {
  // S = [4 3; 2 1] -> [1, 2/3, 1/3, 0] / 2 = [1/2, 1/3, 1/6, 0]; G -> [1, 0, 0, 0]:
  // SIM = min(1/2, 1) = 1/2.
  EXPECT_NEAR(me::sim(kPerfect, kFixTopLeft).value, 0.5, 1e-15);
  EXPECT_NEAR(me::sim(kPerfect, kPerfect).value, 1.0, 1e-15);
  EXPECT_DOUBLE_EQ(me::sim(cv::Mat::zeros(2, 2, CV_64FC1), kPerfect).value, 0.0);
  EXPECT_EQ(me::sim(cv::Mat::ones(2, 2, CV_64FC1), kPerfect).undefined, "constant prediction");
  // A uniform distribution against G = [1/2, 1/3, 1/6, 0]: 1/4 + 1/4 + 1/6 + 0 = 2/3.
  EXPECT_NEAR(me::sim_distribution(cv::Mat(2, 2, CV_64FC1, cv::Scalar(0.25)), kPerfect).value,
              2.0 / 3.0, 1e-15);
}

TEST(EvalIg, HandCases) {
  // S -> [1/2, 1/3, 1/6, 0]; B = [3 4; 1 2] -> [2/3, 1, 0, 1/3] / 2 = [1/3, 1/2, 0, 1/6].
  // Fixation top-left: log2(1/2) - log2(1/3) = log2(3/2).
  const cv::Mat b = map_of(2, 2, {3, 4, 1, 2});
  EXPECT_NEAR(me::ig(kPerfect, b, kFixTopLeft).value, std::log2(1.5), 1e-12);
  EXPECT_NEAR(me::ig(b, b, kFixTopLeft).value, 0.0, 1e-15);
  EXPECT_EQ(me::ig(cv::Mat::ones(2, 2, CV_64FC1), b, kFixTopLeft).undefined, "constant prediction");
  EXPECT_EQ(me::ig(kPerfect, cv::Mat::ones(2, 2, CV_64FC1), kFixTopLeft).undefined,
            "constant baseline map");
  EXPECT_EQ(me::ig(kPerfect, b, cv::Mat::zeros(2, 2, CV_64FC1)).undefined, "empty fixation map");
  // Uniform distribution (1/4) against B at top-left (1/3): log2(3/4).
  EXPECT_NEAR(me::ig_distribution(cv::Mat(2, 2, CV_64FC1, cv::Scalar(0.25)), b, kFixTopLeft).value,
              std::log2(0.75), 1e-12);
}

TEST(EvalMetrics, SizeMismatchIsAnError) {
  try {
    me::nss(cv::Mat::ones(2, 3, CV_64FC1), kFixTopLeft);
    FAIL() << "no error";
  } catch (const msinet::Error& e) {
    EXPECT_NE(std::string(e.what()).find("map sizes differ: prediction is 2x3"), std::string::npos)
        << e.what();
  }
}

// ---------------------------------------------------------------- resize, baselines

TEST(EvalResize, UpscaleRowByHand) {
  // MATLAB imresize([0 1], [1 4], 'bicubic'): scale 2, u = x/2 + 1/4 (1-based).
  // x=1: u = 0.75, taps at -1..2 -> mirrored columns 2,1,1,2 with weights
  // f(1.75) = -0.0234375, f(0.75) = 0.2265625, f(0.25) = 0.8671875, f(1.25) = -0.0703125:
  // value = -0.0234375 - 0.0703125 = -0.09375. x=2: u = 1.25 -> 0.2265625 - 0.0234375.
  const cv::Mat r = me::resize_bicubic(map_of(1, 2, {0, 1}), cv::Size(4, 1));
  ASSERT_EQ(r.size(), cv::Size(4, 1));
  EXPECT_DOUBLE_EQ(r.at<double>(0, 0), -0.09375);
  EXPECT_DOUBLE_EQ(r.at<double>(0, 1), 0.203125);
  EXPECT_DOUBLE_EQ(r.at<double>(0, 2), 0.796875);
  EXPECT_DOUBLE_EQ(r.at<double>(0, 3), 1.09375);
}

TEST(EvalResize, ConstantStaysConstant) {
  const cv::Mat r = me::resize_bicubic(cv::Mat(7, 5, CV_64FC1, cv::Scalar(3.5)), cv::Size(3, 11));
  double lo = 0, hi = 0;
  cv::minMaxLoc(r, &lo, &hi);
  EXPECT_NEAR(lo, 3.5, 1e-12);
  EXPECT_NEAR(hi, 3.5, 1e-12);
}

TEST(EvalResize, PredictionResizeClampsOvershoot) {
  // Bicubic overshoots at the step [0 1] -> [-0.09375 .. 1.09375]; clamped to [0, 1].
  const cv::Mat r = me::resize_prediction(map_of(1, 2, {0, 1}), cv::Size(4, 1));
  EXPECT_EQ(r.at<double>(0, 0), 0.0);
  EXPECT_DOUBLE_EQ(r.at<double>(0, 1), 0.203125);
  EXPECT_DOUBLE_EQ(r.at<double>(0, 2), 0.796875);
  EXPECT_EQ(r.at<double>(0, 3), 1.0);
}

TEST(EvalBaselines, CenterMapByHand) {
  // 3x3: sigma = 0.25 * 3 = 0.75; centre 1, edge exp(-1 / 1.125), corner exp(-2 / 1.125).
  const cv::Mat c = me::center_map(cv::Size(3, 3));
  EXPECT_DOUBLE_EQ(c.at<double>(1, 1), 1.0);
  EXPECT_DOUBLE_EQ(c.at<double>(0, 1), std::exp(-1.0 / 1.125));
  EXPECT_DOUBLE_EQ(c.at<double>(2, 2), std::exp(-2.0 / 1.125));
  const cv::Mat u = me::chance_map(cv::Size(4, 2));
  EXPECT_EQ(cv::countNonZero(u != 1.0), 0);
}

// ---------------------------------------------------------------- NumPy cross-check

TEST(EvalReference, DeterministicMetricsMatchNumpy) {
  if (!have_numpy()) GTEST_SKIP() << "needs /usr/bin/python3 with numpy";
  struct Case {
    cv::Mat s, f, g, b;
  };
  std::vector<Case> cases;
  cases.push_back({random_map(13, 17, 1), random_fixations(13, 17, 9, 2),
                   random_map(13, 17, 3, 0, 255), random_map(13, 17, 4)});
  // Ties: integer-valued maps, as from 8-bit images.
  cv::Mat ties = random_map(11, 8, 5, 0, 6);
  for (int y = 0; y < ties.rows; ++y) {
    for (int x = 0; x < ties.cols; ++x) ties.at<double>(y, x) = std::floor(ties.at<double>(y, x));
  }
  cases.push_back({ties, random_fixations(11, 8, 14, 6), random_map(11, 8, 7, 0, 3),
                   me::center_map(cv::Size(8, 11))});
  // Zero map and single fixation.
  cases.push_back({cv::Mat::zeros(6, 5, CV_64FC1), random_fixations(6, 5, 1, 8),
                   random_map(6, 5, 9), random_map(6, 5, 10)});
  for (size_t k = 0; k < cases.size(); ++k) {
    SCOPED_TRACE("case " + std::to_string(k));
    const Case& c = cases[k];
    msinet::testing::TempDir dir("eval-ref");
    me::write_npy(dir.path() / "s.npy", c.s);
    me::write_npy(dir.path() / "f.npy", c.f);
    me::write_npy(dir.path() / "g.npy", c.g);
    me::write_npy(dir.path() / "b.npy", c.b);
    const auto ref = reference(dir.path());
    ASSERT_EQ(ref.count("nss"), 1u);
    expect_same(me::auc_judd(c.s, c.f, nullptr), ref.at("auc_judd"), "auc_judd");
    expect_same(me::nss(c.s, c.f), ref.at("nss"), "nss");
    expect_same(me::cc(c.s, c.g), ref.at("cc"), "cc");
    expect_same(me::kld(c.s, c.g), ref.at("kld"), "kld");
    expect_same(me::sim(c.s, c.g), ref.at("sim"), "sim");
    expect_same(me::ig(c.s, c.b, c.f), ref.at("ig"), "ig");
    const cv::Mat center = me::center_map(c.s.size());
    const auto& rc = ref.at("center");
    ASSERT_EQ(rc.size(), center.total());
    for (size_t i = 0; i < rc.size(); ++i) {
      EXPECT_NEAR(center.at<double>(static_cast<int>(i)), rc[i], 1e-12);
    }
  }
}

TEST(EvalReference, RocSplitMatchesNumpy) {
  if (!have_numpy()) GTEST_SKIP() << "needs /usr/bin/python3 with numpy";
  msinet::testing::TempDir dir("eval-roc");
  const cv::Mat pos = random_map(1, 23, 11);
  const cv::Mat neg = random_map(1, 31, 12, 0.0, 0.8);
  me::write_npy(dir.path() / "pos.npy", pos);
  me::write_npy(dir.path() / "neg.npy", neg);
  const auto ref = reference(dir.path());
  ASSERT_EQ(ref.count("roc_split"), 1u);
  EXPECT_NEAR(me::thresholded_roc_area(std::vector<double>(pos.begin<double>(), pos.end<double>()),
                                       std::vector<double>(neg.begin<double>(), neg.end<double>())),
              ref.at("roc_split")[0], 1e-12);
}

TEST(EvalReference, ResizeMatchesNumpy) {
  if (!have_numpy()) GTEST_SKIP() << "needs /usr/bin/python3 with numpy";
  const cv::Mat src = random_map(13, 17, 21, 0, 255);
  for (const cv::Size target :
       {cv::Size(29, 31), cv::Size(6, 4), cv::Size(40, 5), cv::Size(3, 26), cv::Size(17, 7)}) {
    SCOPED_TRACE(std::to_string(target.height) + "x" + std::to_string(target.width));
    msinet::testing::TempDir dir("eval-resize");
    me::write_npy(dir.path() / "r.npy", src);
    {
      cv::Mat shape(1, 2, CV_64FC1);
      shape.at<double>(0) = target.height;
      shape.at<double>(1) = target.width;
      me::write_npy(dir.path() / "rs.npy", shape);
    }
    const auto ref = reference(dir.path());
    ASSERT_EQ(ref.count("resized"), 1u);
    const cv::Mat r = me::resize_bicubic(src, target);
    ASSERT_EQ(r.size(), target);
    const auto& rv = ref.at("resized");
    ASSERT_EQ(rv.size(), r.total());
    for (size_t i = 0; i < rv.size(); ++i) {
      EXPECT_NEAR(r.at<double>(static_cast<int>(i) / r.cols, static_cast<int>(i) % r.cols), rv[i],
                  1e-9);
    }
  }
}
