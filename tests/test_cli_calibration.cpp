// `msinet test --output density|logdensity` and `msinet calibrate` on images and maps made here:
// shapes, normalisation, the calibration file in use, every refusal. One run goes through the
// binary; the others call the command line in process (cli::run_cli, errors caught as main()
// catches them), which spares LibTorch's start-up per call.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "msinet/bench/bench.h"
#include "msinet/calibration/calibration.h"
#include "msinet/cli/common.h"
#include "msinet/eval/map_io.h"
#include "msinet/util/error.h"
#include "test_support.h"
#include "tools/synthetic_photo.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using testing::run_msinet;
using testing::TempDir;

class CalibrationCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(testing::msinet_binary())) << "build the msinet target first";
  }
  // Written on first use: the refusals come before any weights are read.
  fs::path weights() {
    const fs::path w = dir_.path() / "w.msinet";
    if (!fs::exists(w)) bench::write_random_weights(w, /*seed=*/3);
    return w;
  }
  void photo(const fs::path& path, int h, int w, int seed) {
    fs::create_directories(path.parent_path());
    cv::RNG rng(seed);
    cv::Point c;
    ASSERT_TRUE(cv::imwrite(path.string(), testing::synthetic_photo(h, w, rng, &c)));
  }
  // `msinet ARGS` in process: the exit code, and in `log` the error message or what CLI11
  // printed.
  static int cli(std::vector<std::string> args, std::string* log) {
    args.insert(args.begin(), "msinet");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    int code = 0;
    std::string message;
    try {
      code = cli::run_cli(static_cast<int>(argv.size()), argv.data());
    } catch (const Error& e) {
      code = static_cast<int>(e.code());
      message = e.what();
    }
    *log = ::testing::internal::GetCapturedStdout() + ::testing::internal::GetCapturedStderr() +
           message;
    return code;
  }
  std::vector<std::string> test_args(const std::vector<std::string>& extra, bool with_weights) {
    std::vector<std::string> args = {
        "test",     "--size", "48x64", "--results-dir", (dir_.path() / "results").string(),
        "--weights"};
    args.push_back(with_weights ? weights().string() : "none.msinet");
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  // A refused `test`: no weights are read.
  int test_refused(const std::vector<std::string>& extra, std::string* log) {
    return cli(test_args(extra, /*with_weights=*/false), log);
  }
  int calibrate(const std::vector<std::string>& extra, std::string* log) {
    std::vector<std::string> args = {"calibrate", "--results-dir",
                                     (dir_.path() / "results").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return cli(args, log);
  }
  static double log_sum_exp(const cv::Mat& logp) {
    double top = 0;
    cv::minMaxLoc(logp, nullptr, &top);
    cv::Mat e;
    cv::exp(logp - top, e);
    return top + std::log(cv::sum(e)[0]);
  }
  TempDir dir_{"calib-cli"};
};

bool has(const std::string& log, const std::string& text) {
  return log.find(text) != std::string::npos;
}

TEST_F(CalibrationCli, TestRefusesDensitiesItCannotWrite) {
  const fs::path in = dir_.path() / "photos";
  photo(in / "a.png", 24, 32, 1);
  std::string log;
  EXPECT_EQ(test_refused({"-p", in.string(), "--output", "density", "--format", "jpg"}, &log), 2)
      << log;
  EXPECT_TRUE(has(log, "--output density needs --format npy")) << log;
  EXPECT_EQ(test_refused({"-p", in.string(), "--calibration", "c.yaml"}, &log), 2) << log;
  EXPECT_TRUE(has(log, "--calibration applies to --output density or logdensity")) << log;
  EXPECT_EQ(test_refused({"-p", in.string(), "--output", "maps/"}, &log), 2) << log;
  EXPECT_TRUE(has(log, "the output folder is -o/--output-dir")) << log;
  const fs::path bad = dir_.path() / "bad.yaml";
  std::ofstream(bad) << "version: 7\n";
  EXPECT_EQ(test_refused(
                {"-p", in.string(), "--output", "logdensity", "--calibration", bad.string()}, &log),
            4)
      << log;
  EXPECT_TRUE(has(log, "calibration file '" + bad.string() + "': key 'version' is 7")) << log;
  std::ofstream(in / "clip.mp4") << "not decoded";
  EXPECT_EQ(test_refused({"-p", in.string(), "--output", "logdensity"}, &log), 2) << log;
  EXPECT_TRUE(has(log, "is for images only")) << log;
  EXPECT_FALSE(fs::exists(dir_.path() / "results" / "images" / "a.npy"));
  EXPECT_FALSE(fs::exists(dir_.path() / "w.msinet")) << "refused before any weights are read";
}

TEST_F(CalibrationCli, CalibrateFitsSavedMapsAndTestAppliesTheFile) {
  const fs::path pred = dir_.path() / "pred", fix = dir_.path() / "fix";
  const fs::path vpred = dir_.path() / "vpred", vfix = dir_.path() / "vfix";
  cv::RNG rng(4);
  for (int i = 0; i < 6; ++i) {
    for (const auto& [p, f] : {std::pair{pred, fix}, std::pair{vpred, vfix}}) {
      fs::create_directories(p);
      fs::create_directories(f);
      cv::Mat map(30, 40, CV_8UC1);
      rng.fill(map, cv::RNG::UNIFORM, 0, 256);
      cv::Mat fx(30, 40, CV_8UC1, cv::Scalar(0));
      for (int k = 0; k < 10; ++k) fx.at<uint8_t>(rng.uniform(5, 25), rng.uniform(5, 35)) = 255;
      ASSERT_TRUE(cv::imwrite((p / ("m" + std::to_string(i) + ".png")).string(), map));
      ASSERT_TRUE(cv::imwrite((f / ("m" + std::to_string(i) + "_fixMap.png")).string(), fx));
    }
  }
  std::string log;
  const fs::path file = dir_.path() / "c.yaml";
  ASSERT_EQ(
      calibrate({"--pred", pred.string(), "--fixations", fix.string(), "--val-pred", vpred.string(),
                 "--val-fixations", vfix.string(), "--steps", "30", "-o", file.string()},
                &log),
      0)
      << log;
  EXPECT_TRUE(has(log, "validation")) << log;
  EXPECT_TRUE(has(log, "calibration written to " + file.string())) << log;
  ASSERT_TRUE(fs::exists(file));
  // The default file name.
  ASSERT_EQ(calibrate({"--pred", pred.string(), "--fixations", fix.string(), "--steps", "5"}, &log),
            0)
      << log;
  EXPECT_TRUE(fs::exists(dir_.path() / "results" / "calibration" / "calibration.yaml")) << log;

  // The file applied, at odd image sizes; and the identity calibration's density.
  const fs::path in = dir_.path() / "photos";
  photo(in / "odd.png", 37, 53, 1);
  photo(in / "thin.jpg", 9, 20, 2);
  const fs::path out = dir_.path() / "logp";
  const std::vector<std::string> through_binary =
      test_args({"-p", in.string(), "-o", out.string(), "--output", "logdensity", "--calibration",
                 file.string()},
                /*with_weights=*/true);
  ASSERT_EQ(run_msinet(through_binary, dir_.path(), &log), 0) << log;
  const cv::Mat a = eval::read_map(out / "odd.npy");
  EXPECT_EQ(a.size(), cv::Size(53, 37));
  EXPECT_TRUE(cv::checkRange(a));
  EXPECT_NEAR(log_sum_exp(a), 0.0, 1e-3);
  const cv::Mat b = eval::read_map(out / "thin.npy");
  EXPECT_EQ(b.size(), cv::Size(20, 9));
  EXPECT_NEAR(log_sum_exp(b), 0.0, 1e-3);
  const fs::path dens = dir_.path() / "density";
  ASSERT_EQ(cli(test_args({"-p", in.string(), "-o", dens.string(), "--output", "density"},
                          /*with_weights=*/true),
                &log),
            0)
      << log;
  const cv::Mat p = eval::read_map(dens / "odd.npy");
  EXPECT_EQ(p.size(), cv::Size(53, 37));
  EXPECT_NEAR(cv::sum(p)[0], 1.0, 1e-4);
  double lowest = 0;
  cv::minMaxLoc(p, &lowest);
  EXPECT_GE(lowest, 1e-3 / (37 * 53) * (1 - 1e-5)) << "the uniform part keeps every pixel > 0";
}

TEST_F(CalibrationCli, CalibrateRefusesBadInputsWithTheirExitCodes) {
  const fs::path pred = dir_.path() / "pred", fix = dir_.path() / "fix";
  fs::create_directories(pred);
  fs::create_directories(fix);
  std::string log;
  EXPECT_EQ(calibrate({}, &log), 2) << log;
  EXPECT_TRUE(has(log, "calibrate needs -d DATA, or --pred DIR with --fixations DIR")) << log;
  EXPECT_EQ(calibrate({"--pred", pred.string()}, &log), 2) << log;
  EXPECT_EQ(calibrate({"-d", "osie", "--pred", pred.string()}, &log), 2) << log;
  EXPECT_TRUE(has(log, "give either -d DATA or --pred DIR --fixations DIR, not both")) << log;
  EXPECT_EQ(
      calibrate({"--pred", pred.string(), "--fixations", fix.string(), "--val-pred", pred.string()},
                &log),
      2)
      << log;
  EXPECT_TRUE(has(log, "--val-pred and --val-fixations go together")) << log;
  EXPECT_EQ(
      calibrate({"--pred", (dir_.path() / "nope").string(), "--fixations", fix.string()}, &log), 4)
      << log;
  EXPECT_TRUE(has(log, "does not exist or is not a folder")) << log;
  EXPECT_EQ(calibrate({"--pred", pred.string(), "--fixations", fix.string()}, &log), 4) << log;
  EXPECT_TRUE(has(log, "no .png, .jpg, .jpeg or .npy maps in the predictions folder")) << log;
  cv::Mat map(8, 8, CV_8UC1, cv::Scalar(9));
  ASSERT_TRUE(cv::imwrite((pred / "a.png").string(), map));
  ASSERT_TRUE(cv::imwrite((fix / "b.png").string(), map));
  EXPECT_EQ(calibrate({"--pred", pred.string(), "--fixations", fix.string()}, &log), 4) << log;
  EXPECT_TRUE(has(log, "have no prediction of the same name")) << log;
  EXPECT_TRUE(has(log, (fix / "b.png").string())) << log;
  fs::remove(fix / "b.png");
  ASSERT_TRUE(cv::imwrite((fix / "a.png").string(), cv::Mat(8, 8, CV_8UC1, cv::Scalar(0))));
  EXPECT_EQ(calibrate({"--pred", pred.string(), "--fixations", fix.string()}, &log), 4) << log;
  EXPECT_TRUE(has(log, "hold no fixations")) << log;
}

TEST_F(CalibrationCli, CalibrateOnADatasetsSplits) {
  const fs::path d = dir_.path() / "tiny";
  cv::RNG rng(6);
  for (int i = 0; i < 5; ++i) {
    const std::string stem = "img" + std::to_string(i);
    photo(d / "stimuli" / (stem + ".jpg"), 40 + 2 * i, 56, i + 1);
    cv::Mat fix(40 + 2 * i, 56, CV_8UC1, cv::Scalar(0));
    for (int k = 0; k < 8; ++k) fix.at<uint8_t>(rng.uniform(0, fix.rows), rng.uniform(0, 56)) = 255;
    fs::create_directories(d / "maps");
    fs::create_directories(d / "fixations");
    ASSERT_TRUE(cv::imwrite((d / "maps" / (stem + ".png")).string(), fix));
    ASSERT_TRUE(cv::imwrite((d / "fixations" / (stem + ".png")).string(), fix));
  }
  std::ofstream(d / "tiny.yaml") << "stimuli: stimuli\nsaliency: maps\nfixations: fixations\n"
                                    "size: 48x64\nvalid_fraction: 0.4\nseed: 3\n";
  std::ofstream(d / "nofix.yaml") << "stimuli: stimuli\nsaliency: maps\nsize: 48x64\n"
                                     "valid_fraction: 0.3\nseed: 3\n";
  std::string log;
  const fs::path file = dir_.path() / "tiny.yaml";
  ASSERT_EQ(calibrate({"-d", (d / "tiny.yaml").string(), "--weights", weights().string(), "--steps",
                       "20", "--batch-size", "2", "-o", file.string()},
                      &log),
            0)
      << log;
  const calibration::Calibration c = calibration::read_calibration(file);
  EXPECT_EQ(c.provenance.train_images, 3);
  EXPECT_EQ(c.provenance.val_images, 2);
  EXPECT_EQ(c.provenance.steps, 20);
  EXPECT_NE(c.provenance.source.find("weights " + weights().string()), std::string::npos);
  EXPECT_GE(c.provenance.train_ig_after, c.provenance.train_ig_before) << log;
  EXPECT_EQ(calibrate({"-d", (d / "nofix.yaml").string(), "--weights", weights().string()}, &log),
            4)
      << log;
  EXPECT_TRUE(has(log, "has no fixation maps for its training images")) << log;
}

}  // namespace
}  // namespace msinet
