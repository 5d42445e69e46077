// The calibration model: its log-density against an independent NumPy/SciPy implementation
// (tests/tools/calibration_reference.py) at odd sizes, normalisation, fitting on fixations drawn
// from a known density, reproducibility, and the calibration file with every refusal.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "msinet/calibration/calibration.h"
#include "msinet/calibration/density.h"
#include "msinet/calibration/fit.h"
#include "msinet/eval/map_io.h"
#include "msinet/util/error.h"
#include "test_support.h"

namespace mc = msinet::calibration;
namespace fs = std::filesystem;

namespace {

const char* const kPython = "/usr/bin/python3";

bool have_scipy() {
  msinet::testing::TempDir dir("calib-py");
  msinet::testing::Process p({kPython, "-c", "import numpy, scipy.ndimage"}, dir.path());
  return p.wait() == 0;
}

std::string join(const std::vector<double>& v) {
  std::ostringstream out;
  out.precision(17);
  for (size_t i = 0; i < v.size(); ++i) out << (i ? "," : "") << v[i];
  return out.str();
}

// A smooth random map: a few Gaussian blobs on a floor, h x w, CV_64F.
cv::Mat blobs(int h, int w, cv::RNG& rng) {
  cv::Mat m(h, w, CV_64FC1, cv::Scalar(0));
  for (int k = 0; k < 3; ++k) {
    const double cy = rng.uniform(0.0, double(h)), cx = rng.uniform(0.0, double(w));
    const double s = rng.uniform(0.08, 0.25) * std::max(h, w);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        m.at<double>(y, x) += std::exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (2 * s * s));
      }
    }
  }
  return m;
}

// A calibration unlike the identity in every part.
mc::Calibration shaped(double blur) {
  mc::Calibration c = mc::identity_calibration();
  c.blur = blur;
  for (size_t k = 0; k < c.nonlinearity.size(); ++k) {
    const double x = double(k) / double(c.nonlinearity.size() - 1);
    c.nonlinearity[k] = x * x * x + 0.01;
  }
  for (size_t j = 0; j < c.centre_bias.size(); ++j) {
    const double d = double(j) / double(c.centre_bias.size() - 1);
    c.centre_bias[j] = std::exp(-3 * d * d);
  }
  c.uniform_weight = 0.05;
  return c;
}

double log_sum_exp(const cv::Mat& logp) {
  double top = 0;
  cv::minMaxLoc(logp, nullptr, &top);
  cv::Mat e;
  cv::exp(logp - top, e);
  return top + std::log(cv::sum(e)[0]);
}

TEST(CalibrationDensity, MatchesTheNumpyReferenceAtOddSizes) {
  if (!have_scipy()) GTEST_SKIP() << "no NumPy/SciPy for " << kPython;
  cv::RNG rng(5);
  struct Case {
    int h, w;
    double blur;
  };
  // 0.6 of the shorter side: a kernel wider than the image, all edge replicas.
  for (const Case& k : {Case{37, 53, 0.04}, Case{1, 1, 0.0}, Case{1, 9, 0.3}, Case{23, 5, 0.6},
                        Case{64, 17, 0.0}}) {
    SCOPED_TRACE(std::to_string(k.h) + "x" + std::to_string(k.w) + " blur " +
                 std::to_string(k.blur));
    msinet::testing::TempDir dir("calib-ref");
    cv::Mat map(k.h, k.w, CV_64FC1);
    rng.fill(map, cv::RNG::UNIFORM, 0.0, 3.0);
    cv::Mat fix(k.h, k.w, CV_64FC1, cv::Scalar(0));
    for (int i = 0; i < 6; ++i) fix.at<double>(rng.uniform(0, k.h), rng.uniform(0, k.w)) = 1;
    msinet::eval::write_npy(dir.path() / "map.npy", map);
    msinet::eval::write_npy(dir.path() / "fix.npy", fix);
    const mc::Calibration c = shaped(k.blur);
    msinet::testing::Process p(
        {kPython, std::string(MSINET_SOURCE_DIR) + "/tests/tools/calibration_reference.py",
         dir.path().string(), std::to_string(c.blur), std::to_string(c.uniform_weight),
         join(c.nonlinearity), join(c.centre_bias)},
        dir.path());
    ASSERT_EQ(p.wait(), 0) << p.output();
    const cv::Mat want = msinet::eval::read_map(dir.path() / "logp.npy");
    const cv::Mat got = mc::log_density(map, c);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_LT(cv::norm(got, want, cv::NORM_INF), 1e-9);
    EXPECT_NEAR(log_sum_exp(got), 0.0, 1e-12);

    double ll = NAN, ig = NAN;
    std::istringstream out(p.output());
    for (std::string key; out >> key;) (key == "ll" ? out >> ll : out >> ig);
    const mc::FitSample s = mc::make_sample("x", map, fix, /*fit_size=*/4096);
    // The sample holds the map in float32: agreement to its rounding.
    EXPECT_NEAR(mc::mean_log_likelihood({s}, c), ll, 1e-5);
    EXPECT_NEAR(mc::information_gain({s}, c), ig, 1e-5);
  }
}

TEST(CalibrationDensity, SumsToOneAtOddSizesAndEdgeCases) {
  cv::RNG rng(9);
  const cv::Mat zeros(4, 6, CV_64FC1, cv::Scalar(0));
  const cv::Mat constant(5, 3, CV_32FC1, cv::Scalar(7));
  cv::Mat odd(37, 53, CV_8UC1);
  rng.fill(odd, cv::RNG::UNIFORM, 0, 256);
  const cv::Mat one(1, 1, CV_64FC1, cv::Scalar(0.3));
  for (const mc::Calibration& c : {mc::identity_calibration(), shaped(0.1)}) {
    for (const cv::Mat& m : {zeros, constant, cv::Mat(odd), one}) {
      const cv::Mat p = mc::density(m, c);
      EXPECT_EQ(p.size(), m.size());
      EXPECT_TRUE(cv::checkRange(mc::log_density(m, c)));
      EXPECT_NEAR(cv::sum(p)[0], 1.0, 1e-12);
    }
  }
  // The identity: the map over its sum mixed with 0.1% uniform; log finite where the map is 0.
  cv::Mat half(2, 2, CV_64FC1, cv::Scalar(0));
  half.at<double>(0, 0) = 1;
  half.at<double>(1, 1) = 3;
  const cv::Mat logp = mc::log_density(half, mc::identity_calibration());
  EXPECT_NEAR(logp.at<double>(0, 1), std::log(1e-3 / 4), 1e-12);
  // min-max normalised first: (1, 3) -> (1/3, 1), a sum of 4/3
  EXPECT_NEAR(logp.at<double>(1, 1), std::log(0.999 * 0.75 + 1e-3 / 4), 1e-12);
  EXPECT_NEAR(logp.at<double>(0, 0), std::log(0.999 * 0.25 + 1e-3 / 4), 1e-12);
}

TEST(CalibrationDensity, RefusesBadMaps) {
  const mc::Calibration c = mc::identity_calibration();
  cv::Mat nan(2, 2, CV_64FC1, cv::Scalar(NAN));
  try {
    mc::log_density(nan, c);
    FAIL() << "no error";
  } catch (const msinet::Error& e) {
    EXPECT_EQ(e.code(), msinet::ErrorCode::kInput);
    EXPECT_NE(std::string(e.what()).find("NaN or infinite"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mc::log_density(cv::Mat(), c), msinet::Error);
  EXPECT_THROW(mc::log_density(cv::Mat(2, 2, CV_8UC3), c), msinet::Error);
}

// Samples whose fixations come from a known density of the model family.
std::vector<mc::FitSample> synthetic(int n, int h, int w, const mc::Calibration& truth,
                                     uint64_t seed, int fit_size) {
  cv::RNG rng(seed);
  std::vector<mc::FitSample> out;
  for (int i = 0; i < n; ++i) {
    const cv::Mat map = blobs(h, w, rng);
    const cv::Mat p = mc::density(map, truth);
    cv::Mat fix(h, w, CV_8UC1, cv::Scalar(0));
    for (int k = 0; k < 40; ++k) {
      double u = rng.uniform(0.0, 1.0);
      int at = 0;
      const double* q = p.ptr<double>();
      while (at + 1 < h * w && (u -= q[at]) > 0) ++at;
      fix.at<uint8_t>(at / w, at % w) = 1;
    }
    out.push_back(mc::make_sample("s" + std::to_string(i), map, fix, fit_size));
  }
  return out;
}

TEST(CalibrationFit, ImprovesTheLikelihoodAndIsReproducible) {
  const mc::Calibration truth = shaped(0.05);
  const auto train = synthetic(32, 36, 48, truth, 1, 64);
  const auto val = synthetic(16, 36, 48, truth, 2, 64);
  mc::FitOptions o;
  o.seed = 7;
  o.steps = 150;
  o.batch_images = 16;
  const mc::Calibration a = mc::fit_calibration(train, val, o);
  const mc::Provenance& p = a.provenance;
  EXPECT_GT(p.train_ig_after, p.train_ig_before + 0.2);
  EXPECT_GT(p.val_ig_after, p.val_ig_before + 0.2);
  // Close to what the true density itself achieves on held-out fixations.
  EXPECT_GT(p.val_ig_after, mc::information_gain(val, truth) - 0.1);
  EXPECT_NEAR(p.val_ig_before, mc::information_gain(val, mc::identity_calibration()), 1e-12);
  EXPECT_EQ(p.train_images, 32);
  EXPECT_EQ(p.val_images, 16);
  EXPECT_EQ(p.seed, 7u);
  const mc::Calibration b = mc::fit_calibration(train, val, o);
  EXPECT_EQ(a.blur, b.blur);
  EXPECT_EQ(a.nonlinearity, b.nonlinearity);
  EXPECT_EQ(a.centre_bias, b.centre_bias);
  EXPECT_EQ(a.uniform_weight, b.uniform_weight);
  EXPECT_EQ(p.val_ig_after, b.provenance.val_ig_after);
}

TEST(CalibrationFit, ParametersCarryAcrossResolutions) {
  const mc::Calibration truth = shaped(0.05);
  // The same images and fixations, at 96x128 and downscaled to 48x64.
  const auto full = synthetic(12, 96, 128, truth, 3, 128);
  const auto small = synthetic(12, 96, 128, truth, 3, 64);
  ASSERT_EQ(small.front().map.cols, 64);
  EXPECT_NEAR(mc::information_gain(full, truth), mc::information_gain(small, truth), 0.05);
}

TEST(CalibrationFit, RefusesSamplesWithoutFixations) {
  cv::RNG rng(1);
  const mc::FitSample s =
      mc::make_sample("empty", blobs(8, 8, rng), cv::Mat(8, 8, CV_8UC1, cv::Scalar(0)), 64);
  try {
    mc::fit_calibration({s}, {}, {});
    FAIL() << "no error";
  } catch (const msinet::Error& e) {
    EXPECT_EQ(e.code(), msinet::ErrorCode::kInput);
    EXPECT_NE(std::string(e.what()).find("no fixations"), std::string::npos) << e.what();
  }
}

TEST(CalibrationFile, RoundTripsExactly) {
  msinet::testing::TempDir dir("calib-file");
  mc::Calibration c = shaped(0.0123456789012345);
  c.provenance.source = "dataset osie: weights 'w.msinet'";
  c.provenance.train_images = 700;
  c.provenance.train_fixations = 12345;
  c.provenance.val_images = 100;
  c.provenance.val_fixations = 1764;
  c.provenance.seed = 18446744073709551615ull;
  c.provenance.fit_size = 128;
  c.provenance.steps = 300;
  c.provenance.train_ig_before = 0.1 / 3;
  c.provenance.train_ig_after = 1.0 / 7;
  c.provenance.val_ig_before = -2.0 / 9;
  c.provenance.val_ig_after = NAN;
  const fs::path file = dir.path() / "sub" / "c.yaml";
  mc::write_calibration(file, c);
  const mc::Calibration r = mc::read_calibration(file);
  EXPECT_EQ(r.blur, c.blur);
  EXPECT_EQ(r.nonlinearity, c.nonlinearity);
  EXPECT_EQ(r.centre_bias, c.centre_bias);
  EXPECT_EQ(r.uniform_weight, c.uniform_weight);
  const mc::Provenance& p = r.provenance;
  EXPECT_EQ(p.source, c.provenance.source);
  EXPECT_EQ(p.train_images, 700);
  EXPECT_EQ(p.train_fixations, 12345);
  EXPECT_EQ(p.val_images, 100);
  EXPECT_EQ(p.val_fixations, 1764);
  EXPECT_EQ(p.seed, c.provenance.seed);
  EXPECT_EQ(p.fit_size, 128);
  EXPECT_EQ(p.steps, 300);
  EXPECT_EQ(p.train_ig_before, c.provenance.train_ig_before);
  EXPECT_EQ(p.train_ig_after, c.provenance.train_ig_after);
  EXPECT_EQ(p.val_ig_before, c.provenance.val_ig_before);
  EXPECT_TRUE(std::isnan(p.val_ig_after));
  for (const auto& e : fs::directory_iterator(file.parent_path())) {
    EXPECT_EQ(e.path().filename(), "c.yaml") << "a temporary was left behind";
  }
}

TEST(CalibrationFile, RefusesEveryMalformedFileNamingTheKey) {
  msinet::testing::TempDir dir("calib-bad");
  const std::string good =
      "version: 1\nblur: 0.01\nnonlinearity: [0, 0.5, 1]\ncentre_bias: [1, 0.5]\n"
      "uniform_weight: 0.01\n";
  {
    std::ofstream(dir.path() / "good.yaml") << good;
    const mc::Calibration c = mc::read_calibration(dir.path() / "good.yaml");
    EXPECT_EQ(c.nonlinearity.size(), 3u);
    EXPECT_EQ(c.centre_bias.size(), 2u);
  }
  auto replace = [&good](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  struct Bad {
    std::string text, expect;
  };
  const std::vector<Bad> cases = {
      {"version: [1\n", "is not valid YAML"},
      {"- 1\n- 2\n", "must be a YAML mapping"},
      {replace("version: 1\n", ""), "key 'version' is missing"},
      {replace("version: 1", "version: 2"), "key 'version' is 2, but this msinet reads version 1"},
      {replace("version: 1", "version: one"), "key 'version' has the value 'one'"},
      {replace("blur: 0.01\n", ""), "key 'blur' is missing"},
      {replace("blur: 0.01", "blur: wide"), "key 'blur' has the value 'wide'"},
      {replace("blur: 0.01", "blur: 1.5"), "key 'blur' must be in [0, 1]"},
      {replace("blur: 0.01", "blur: [1]"), "key 'blur' must be a single value"},
      {replace("[0, 0.5, 1]", "0.5"), "key 'nonlinearity' must be a list of numbers"},
      {replace("[0, 0.5, 1]", "[0, x, 1]"), "key 'nonlinearity' has an item (number 2)"},
      {replace("[0, 0.5, 1]", "[0, 0.5, 0.2]"), "key 'nonlinearity' must be nondecreasing"},
      {replace("[0, 0.5, 1]", "[-1, 0.5, 1]"), "key 'nonlinearity' must hold finite values >= 0"},
      {replace("[0, 0.5, 1]", "[0, 0, 0]"), "key 'nonlinearity' must not be 0 everywhere"},
      {replace("[0, 0.5, 1]", "[1]"), "key 'nonlinearity' needs at least 2 values"},
      {replace("[1, 0.5]", "[1, 0]"), "key 'centre_bias' must hold finite values > 0"},
      {replace("[1, 0.5]", "[1, .nan]"), "key 'centre_bias' must hold finite values > 0"},
      {replace("uniform_weight: 0.01", "uniform_weight: 0"),
       "key 'uniform_weight' must be in (0, 1]"},
      {good + "blurr: 1\n", "key 'blurr' is not a calibration key"},
      {good + "fitted_on: 3\n", "key 'fitted_on' must be a mapping"},
      {good + "fitted_on:\n  train_images: many\n", "key 'fitted_on.train_images' has the value"},
      {good + "fitted_on:\n  images: 3\n", "key 'fitted_on.images' is not a calibration key"},
      {good + "information_gain:\n  val_after: high\n",
       "key 'information_gain.val_after' has the value 'high'"},
  };
  int i = 0;
  for (const Bad& b : cases) {
    const fs::path file = dir.path() / ("bad" + std::to_string(i++) + ".yaml");
    std::ofstream(file) << b.text;
    try {
      mc::read_calibration(file);
      ADD_FAILURE() << "no error for:\n" << b.text;
    } catch (const msinet::Error& e) {
      EXPECT_EQ(e.code(), msinet::ErrorCode::kInput) << e.what();
      EXPECT_NE(std::string(e.what()).find("calibration file '" + file.string() + "'"),
                std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find(b.expect), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(mc::read_calibration(dir.path() / "missing.yaml"), msinet::Error);
}

TEST(CalibrationSamples, ReadsMatchedFoldersAndRefusesTheRest) {
  msinet::testing::TempDir dir("calib-samples");
  const fs::path pred = dir.path() / "pred", fix = dir.path() / "fix", empty = dir.path() / "empty";
  fs::create_directories(pred);
  fs::create_directories(fix);
  fs::create_directories(empty);
  cv::RNG rng(3);
  cv::Mat f(30, 40, CV_64FC1, cv::Scalar(0));
  f.at<double>(3, 4) = 1;
  f.at<double>(20, 30) = 1;
  msinet::eval::write_npy(pred / "a.npy", blobs(30, 40, rng));
  msinet::eval::write_npy(pred / "b.npy", blobs(30, 40, rng));
  msinet::eval::write_npy(fix / "a_fixMap.npy", f);
  const auto samples = mc::read_samples(pred, fix, /*fit_size=*/20);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].name, "a");
  EXPECT_EQ(samples[0].map.cols, 20);
  EXPECT_EQ(samples[0].map.rows, 15);
  // (3, 4) -> (1, 2), (20, 30) -> (10, 15) at half the size
  EXPECT_EQ(samples[0].fixations, (std::vector<int32_t>{1 * 20 + 2, 10 * 20 + 15}));

  auto refused = [](const fs::path& p, const fs::path& x, const std::string& expect) {
    try {
      mc::read_samples(p, x, 20);
      ADD_FAILURE() << "no error, expected " << expect;
    } catch (const msinet::Error& e) {
      EXPECT_EQ(e.code(), msinet::ErrorCode::kInput) << e.what();
      EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
    }
  };
  refused(dir.path() / "nope", fix,
          "predictions folder '" + (dir.path() / "nope").string() + "' does not exist");
  refused(pred, dir.path() / "nope", "fixations folder");
  refused(empty, fix, "no .png, .jpg, .jpeg or .npy maps in the predictions folder");
  msinet::eval::write_npy(fix / "c.npy", f);
  refused(pred, fix, "1 of 2 fixation map(s) have no prediction of the same name");
  fs::remove(fix / "c.npy");
  msinet::eval::write_npy(fix / "a_fixMap.npy", cv::Mat(30, 40, CV_64FC1, cv::Scalar(0)));
  refused(pred, fix, "hold no fixations");
}

}  // namespace
