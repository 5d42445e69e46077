// The Tuebingen protocol: every metric and the centre-bias baseline against an independent
// NumPy/SciPy implementation (tests/tools/tuebingen_reference.py) on small synthetic densities
// of odd sizes; the baseline's fit; the scipy-compatible filters; every refusal.

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <map>
#include <sstream>

#include "msinet/eval/centre_bias.h"
#include "msinet/eval/evaluate.h"
#include "msinet/eval/map_io.h"
#include "msinet/eval/ndimage.h"
#include "msinet/eval/report.h"
#include "msinet/eval/tuebingen.h"
#include "msinet/util/error.h"
#include "test_support.h"

namespace me = msinet::eval;
namespace fs = std::filesystem;
using msinet::ErrorCode;
using msinet::testing::thrown_error;

namespace {

const char* const kPython = "/usr/bin/python3";

bool have_scipy(const fs::path& dir) {
  if (!fs::exists(kPython)) return false;
  msinet::testing::Process p({kPython, "-c", "import numpy, scipy.ndimage, scipy.special"}, dir);
  return p.wait() == 0;
}

/// A log-density of `size`: log of (0.2 + uniform noise) blobs, normalised.
cv::Mat random_log_density(cv::Size size, uint64_t seed) {
  me::Rng rng(seed);
  cv::Mat d(size, CV_64FC1);
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) d.at<double>(y, x) = 0.2 + rng.uniform();
  }
  cv::Mat l;
  cv::log(d, l);
  return l - me::log_sum_exp(l);
}

/// A binary fixation map with `n` draws, drawn around the centre when `central`.
cv::Mat random_fixations(cv::Size size, int n, uint64_t seed, bool central) {
  me::Rng rng(seed);
  cv::Mat f = cv::Mat::zeros(size, CV_64FC1);
  for (int i = 0; i < n; ++i) {
    int x = static_cast<int>(rng.below(static_cast<size_t>(size.width)));
    int y = static_cast<int>(rng.below(static_cast<size_t>(size.height)));
    if (central) {
      x = size.width / 4 + x / 2;
      y = size.height / 4 + y / 2;
    }
    f.at<double>(y, x) = 1.0;
  }
  return f;
}

me::FixationPoints points_of(const cv::Mat& f) { return me::fixation_points(f); }

std::vector<me::FixationPoints> training_set() {
  const cv::Size sizes[] = {{17, 13}, {15, 21}, {19, 11}, {23, 17}, {13, 13}, {21, 15}, {9, 11}};
  std::vector<me::FixationPoints> out;
  uint64_t seed = 100;
  for (const cv::Size& s : sizes) out.push_back(points_of(random_fixations(s, 12, seed++, true)));
  return out;
}

/// The synthetic job: three scored images of odd sizes and seven training maps.
struct Job {
  msinet::testing::TempDir dir{"eval-tueb"};
  std::vector<cv::Mat> ld, fix;
  Job() {
    const cv::Size sizes[] = {{17, 13}, {19, 11}, {15, 15}};
    for (int k = 0; k < 3; ++k) {
      ld.push_back(random_log_density(sizes[k], 10 + k));
      fix.push_back(random_fixations(sizes[k], 7, 20 + k, false));
      fs::create_directories(dir.path() / "pred");
      fs::create_directories(dir.path() / "fix");
      fs::create_directories(dir.path() / "ref");
      const std::string name = "img" + std::to_string(k);
      me::write_npy(dir.path() / "pred" / (name + ".npy"), ld[k]);
      me::write_npy(dir.path() / "fix" / (name + ".npy"), fix[k]);
      me::write_npy(dir.path() / "ref" / (name + "_ld.npy"), ld[k]);
      me::write_npy(dir.path() / "ref" / (name + "_fix.npy"), fix[k]);
    }
    fs::create_directories(dir.path() / "train");
    const auto train = training_set();
    for (size_t j = 0; j < train.size(); ++j) {
      const cv::Mat f = me::fixation_map(train[j]);
      me::write_npy(dir.path() / "train" / ("train" + std::to_string(j) + ".npy"), f);
      me::write_npy(dir.path() / "ref" / ("train" + std::to_string(j) + "_fix.npy"), f);
    }
  }
  me::EvalOptions options() const {
    me::EvalOptions o;
    o.protocol = "tuebingen";
    o.pred_dir = dir.path() / "pred";
    o.fixations_dir = dir.path() / "fix";
    o.train_fixations_dir = dir.path() / "train";
    o.kernel_size = 2.0;
    return o;
  }
};

double value(const me::EvalResult& r, const std::string& image, const std::string& metric) {
  const auto m = std::find(r.metrics.begin(), r.metrics.end(), metric);
  EXPECT_NE(m, r.metrics.end()) << metric;
  for (const auto& row : r.images) {
    if (row.image == image) return row.values[static_cast<size_t>(m - r.metrics.begin())];
  }
  ADD_FAILURE() << "no row for " << image;
  return NAN;
}

double max_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  double hi = 0;
  cv::minMaxLoc(d, nullptr, &hi);
  return hi;
}

}  // namespace

TEST(EvalTuebingen, EveryMetricAndTheBaselineMatchTheReference) {
  Job job;
  if (!have_scipy(job.dir.path())) GTEST_SKIP() << "needs /usr/bin/python3 with numpy and scipy";
  const me::EvalResult r = me::run_eval(job.options());
  ASSERT_EQ(r.images.size(), 3u);
  EXPECT_EQ(r.protocol, "tuebingen");
  EXPECT_EQ(r.metrics, me::tuebingen_metrics());
  const std::string script = std::string(MSINET_SOURCE_DIR) + "/tests/tools/tuebingen_reference.py";
  msinet::testing::Process p({kPython, script, (job.dir.path() / "ref").string(), "2.0"},
                             job.dir.path());
  ASSERT_EQ(p.wait(), 0) << p.output();
  std::istringstream in(p.output());
  std::map<std::string, double> ref;
  double b = NAN, w = NAN, bits = NAN;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string a;
    ls >> a;
    if (a == "fit") {
      ls >> b >> w >> bits;
      continue;
    }
    std::string m;
    double v = NAN;
    ls >> m >> v;
    ref[a + " " + m] = v;
  }
  ASSERT_EQ(ref.size(), 24u) << p.output();
  std::map<std::string, double> params(r.baseline_parameters.begin(), r.baseline_parameters.end());
  EXPECT_DOUBLE_EQ(params["bandwidth"], b);
  EXPECT_DOUBLE_EQ(params["uniform_weight"], w);
  EXPECT_NEAR(params["heldout_bits_per_fixation"], bits, 1e-9);
  for (int k = 0; k < 3; ++k) {
    const std::string image = "img" + std::to_string(k);
    for (const auto& m : me::tuebingen_metrics()) {
      ASSERT_EQ(ref.count(image + " " + m), 1u) << image << " " << m;
      EXPECT_NEAR(value(r, image, m), ref[image + " " + m], 1e-9) << image << " " << m;
    }
  }
  // The baseline's log-density itself, at each image's size.
  const me::CentreBias cb = me::fit_training_centre_bias(job.options());
  for (int k = 0; k < 3; ++k) {
    const cv::Mat expected =
        me::read_map(job.dir.path() / "ref" / ("ref_cb" + std::to_string(k) + ".npy"));
    EXPECT_LT(max_abs_diff(cb.log_density(expected.size()), expected), 1e-9) << k;
  }
}

TEST(EvalTuebingen, DensityAndLogDensityFilesScoreTheSame) {
  Job job;
  me::EvalOptions o = job.options();
  o.metrics = {"ll", "IG", "auc", "nss"};
  const me::EvalResult a = me::run_eval(o);
  for (int k = 0; k < 3; ++k) {
    cv::Mat d;
    cv::exp(job.ld[k], d);
    d.convertTo(d, CV_32F);  // float32 densities, as `test --output density` writes
    me::write_npy(job.dir.path() / "pred" / ("img" + std::to_string(k) + ".npy"), d);
  }
  const me::EvalResult b = me::run_eval(o);
  ASSERT_EQ(a.metrics, (std::vector<std::string>{"ll", "ig", "auc", "nss"}));
  for (int k = 0; k < 3; ++k) {
    for (const auto& m : a.metrics) {
      const std::string image = "img" + std::to_string(k);
      EXPECT_NEAR(value(a, image, m), value(b, image, m), 1e-5) << image << " " << m;
    }
  }
}

TEST(EvalTuebingen, ReportsStateProtocolBaselineAndResize) {
  Job job;
  me::EvalOptions o = job.options();
  o.metrics = {"ll", "ig", "sauc"};
  const me::EvalResult r = me::run_eval(o);
  const std::string table = me::format_table(r);
  EXPECT_NE(table.find("protocol: tuebingen, resize: log-density zoomed bilinearly"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("centre bias fitted on 7 training images"), std::string::npos) << table;
  EXPECT_EQ(me::to_csv(r).substr(0, me::to_csv(r).find('\n')), "image,ll,ig,sauc");
  const std::string json = me::to_json(r);
  EXPECT_NE(json.find("\"protocol\": \"tuebingen\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"baseline_parameters\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"kernel_size\": 2.0"), std::string::npos) << json;
  EXPECT_EQ(json.find("center_sigma_fraction"), std::string::npos) << json;
}

TEST(EvalTuebingen, MitStaysTheDefault) {
  me::EvalOptions o;
  EXPECT_EQ(o.protocol, "mit");
  EXPECT_EQ(me::EvalResult{}.protocol, "mit");
}

TEST(EvalTuebingen, AnInMemoryLogDensityOfAnotherSizeIsResized) {
  Job job;
  me::EvalOptions o = job.options();
  o.metrics = {"ll", "auc"};
  me::Evaluator ev(me::find_ground_truth(o), o);
  const cv::Mat big = me::zoom_linear(job.ld[0], cv::Size(34, 26));
  ev.add_log_density("img0", big - me::log_sum_exp(big));
  const me::EvalResult r = ev.finish();
  ASSERT_EQ(r.images.size(), 1u);
  const cv::Mat back = me::resize_log_density(big - me::log_sum_exp(big), job.ld[0].size());
  EXPECT_NEAR(me::log_sum_exp(back), 0.0, 1e-12);
  EXPECT_NEAR(value(r, "img0", "ll"), me::tuebingen_ll(back, points_of(job.fix[0])).value, 1e-12);
}

// ---------------------------------------------------------------- refusals

TEST(EvalTuebingen, RefusesAnUnnormalisedDensity) {
  Job job;
  cv::Mat d;
  cv::exp(job.ld[1], d);
  me::write_npy(job.dir.path() / "pred" / "img1.npy", cv::Mat(d * 1.01));
  const auto e = thrown_error([&] { me::run_eval(job.options()); });
  EXPECT_EQ(e.code(), ErrorCode::kInput);
  EXPECT_NE(std::string(e.what()).find("img1.npy' is read as a density (no negative values), but "
                                       "it sums to 1.01, not 1 within 1e-3"),
            std::string::npos)
      << e.what();
}

TEST(EvalTuebingen, RefusesAnUnnormalisedLogDensity) {
  Job job;
  me::write_npy(job.dir.path() / "pred" / "img2.npy", cv::Mat(job.ld[2] + 0.01));
  const auto e = thrown_error([&] { me::run_eval(job.options()); });
  EXPECT_EQ(e.code(), ErrorCode::kInput);
  EXPECT_NE(std::string(e.what()).find("img2.npy' has negative values, so it is read as a "
                                       "log-density, but its log-sum-exp is 0.01, not 0"),
            std::string::npos)
      << e.what();
}

TEST(EvalTuebingen, RefusesToRunWithoutTrainingFixations) {
  Job job;
  me::EvalOptions o = job.options();
  o.train_fixations_dir.clear();
  const auto e = thrown_error([&] { me::run_eval(o); });
  EXPECT_EQ(e.code(), ErrorCode::kUsage);
  EXPECT_NE(std::string(e.what()).find("needs the training split's fixation maps for its "
                                       "centre-bias baseline: give --train-fixations DIR"),
            std::string::npos)
      << e.what();
  o.train_fixations_dir = job.dir.path() / "nowhere";
  const auto f = thrown_error([&] { me::run_eval(o); });
  EXPECT_EQ(f.code(), ErrorCode::kInput);
  EXPECT_NE(std::string(f.what()).find("nowhere' does not exist"), std::string::npos) << f.what();
}

TEST(EvalTuebingen, RefusesPredictionsThatAreNotNpy) {
  Job job;
  cv::Mat png(13, 17, CV_8UC1, cv::Scalar(3));
  cv::imwrite((job.dir.path() / "pred" / "img0.png").string(), png);
  fs::remove(job.dir.path() / "pred" / "img0.npy");
  const auto e = thrown_error([&] { me::run_eval(job.options()); });
  EXPECT_EQ(e.code(), ErrorCode::kInput);
  EXPECT_NE(
      std::string(e.what()).find("the tuebingen protocol reads densities or log-densities "
                                 "as .npy (float32/float64); '" +
                                 (job.dir.path() / "pred" / "img0.png").string() + "' is not"),
      std::string::npos)
      << e.what();
}

TEST(EvalTuebingen, RefusesBaselinePredictorsUnknownMetricsAndProtocols) {
  Job job;
  me::EvalOptions o = job.options();
  o.metrics = {"auc_judd"};
  auto e = thrown_error([&] { me::run_eval(o); });
  EXPECT_EQ(e.code(), ErrorCode::kUsage);
  EXPECT_NE(std::string(e.what()).find("unknown metric 'auc_judd' for the tuebingen protocol; "
                                       "choose from ll, ig, auc, sauc, nss, cc, kld, sim"),
            std::string::npos)
      << e.what();
  o.metrics.clear();
  o.pred_dir.clear();
  o.baseline = "center";
  e = thrown_error([&] { me::run_eval(o); });
  EXPECT_EQ(e.code(), ErrorCode::kUsage);
  EXPECT_NE(std::string(e.what()).find("scores densities, not the 'center' baseline predictor"),
            std::string::npos)
      << e.what();
  o = job.options();
  o.protocol = "kaggle";
  e = thrown_error([&] { me::run_eval(o); });
  EXPECT_NE(std::string(e.what()).find("unknown protocol 'kaggle'"), std::string::npos);
}

TEST(EvalTuebingen, SaucNeedsTwoImages) {
  Job job;
  me::EvalOptions o = job.options();
  o.metrics = {"sauc"};
  me::Evaluator ev(me::find_ground_truth(o), o);
  ev.add_log_density("img0", job.ld[0]);
  const me::EvalResult r = ev.finish();
  EXPECT_TRUE(std::isnan(value(r, "img0", "sauc")));
  bool found = false;
  for (const auto& s : r.skipped) found |= s.reason == "sauc needs two images";
  EXPECT_TRUE(found);
}

// ---------------------------------------------------------------- centre bias

TEST(EvalCentreBias, FitImprovesHeldOutLikelihoodAndIsReproducible) {
  const auto train = training_set();
  const me::CentreBias a = me::CentreBias::fit(train);
  const me::CentreBias b = me::CentreBias::fit(train);
  const me::CentreBiasFit& f = a.parameters();
  EXPECT_EQ(f.bandwidth, b.parameters().bandwidth);
  EXPECT_EQ(f.uniform_weight, b.parameters().uniform_weight);
  EXPECT_EQ(f.heldout_bits, b.parameters().heldout_bits);
  EXPECT_EQ(f.images, 7u);
  EXPECT_EQ(f.folds, 7);
  // Fixations in the central quarter: better than uniform (0 bits) and than a far wider or
  // narrower kernel.
  EXPECT_GT(f.heldout_bits, 0.5);
  EXPECT_NEAR(f.heldout_bits, me::CentreBias::heldout_bits(train, f.bandwidth, f.uniform_weight),
              1e-12);
  EXPECT_GT(f.heldout_bits, me::CentreBias::heldout_bits(train, 0.3, 0.01));
  EXPECT_GT(f.heldout_bits, me::CentreBias::heldout_bits(train, 0.01, 0.01));
  EXPECT_NEAR(me::CentreBias::heldout_bits(train, 0.1, 1.0), 0.0, 1e-12);
  for (const cv::Size s : {cv::Size(17, 13), cv::Size(201, 149)}) {
    const cv::Mat& l = a.log_density(s);
    EXPECT_EQ(l.size(), s);
    EXPECT_NEAR(me::log_sum_exp(l), 0.0, 1e-9);
    EXPECT_EQ(max_abs_diff(l, b.log_density(s)), 0.0);
    // Highest near the centre.
    EXPECT_GT(l.at<double>(s.height / 2, s.width / 2), l.at<double>(0, 0));
  }
}

TEST(EvalCentreBias, RefusesFewerThanTwoImages) {
  std::vector<me::FixationPoints> one{training_set()[0]};
  const auto e = thrown_error([&] { me::CentreBias::fit(one); });
  EXPECT_EQ(e.code(), ErrorCode::kInput);
  EXPECT_NE(std::string(e.what()).find("from at least two images (found 1)"), std::string::npos);
}

// ---------------------------------------------------------------- scipy.ndimage

TEST(EvalNdimage, FilterAndZoomMatchScipy) {
  msinet::testing::TempDir dir("eval-ndimage");
  if (!have_scipy(dir.path())) GTEST_SKIP() << "needs /usr/bin/python3 with numpy and scipy";
  const cv::Mat a = random_log_density(cv::Size(5, 3), 7);
  me::write_npy(dir.path() / "a.npy", a);
  const std::string code =
      "import numpy as np\n"
      "from scipy.ndimage import gaussian_filter, zoom\n"
      "a = np.load('a.npy')\n"
      "np.save('r.npy', gaussian_filter(a, [4.0, 7.5], mode='reflect', truncate=4.0))\n"
      "np.save('c.npy', gaussian_filter(a, [0.7, 1.3], mode='constant', truncate=4.0))\n"
      "np.save('cv.npy', gaussian_filter(a, [0.4, 0.6], mode='reflect', truncate=4.0))\n"
      "np.save('cc.npy', gaussian_filter(a, [0.0, 0.6], mode='constant', truncate=4.0))\n"
      "np.save('z.npy', zoom(a, [7 / 3, 4 / 5], order=1, mode='nearest'))\n"
      "np.save('one.npy', zoom(a, [1 / 3, 9 / 5], order=1, mode='nearest'))\n";
  msinet::testing::Process p(
      {kPython, "-c", "import os; os.chdir('" + dir.path().string() + "')\n" + code}, dir.path());
  ASSERT_EQ(p.wait(), 0) << p.output();
  const auto near = [&](const cv::Mat& got, const char* file) {
    const cv::Mat want = me::read_map(dir.path() / file);
    ASSERT_EQ(got.size(), want.size()) << file;
    EXPECT_LT(max_abs_diff(got, want), 1e-12) << file;
  };
  near(me::gaussian_filter(a, 4.0, 7.5, me::BorderMode::kReflect), "r.npy");
  near(me::gaussian_filter(a, 0.7, 1.3, me::BorderMode::kConstant), "c.npy");
  // Radius below the sides: OpenCV's separable filter.
  near(me::gaussian_filter(a, 0.4, 0.6, me::BorderMode::kReflect), "cv.npy");
  near(me::gaussian_filter(a, 0.0, 0.6, me::BorderMode::kConstant), "cc.npy");
  near(me::zoom_linear(a, cv::Size(4, 7)), "z.npy");
  near(me::zoom_linear(a, cv::Size(9, 1)), "one.npy");
}
