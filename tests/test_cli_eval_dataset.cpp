// End-to-end: `msinet eval -d DATA` scores every validation image exactly as `msinet test
// --format npy` followed by `msinet eval --pred` on those maps (to 1e-6), in fp32 and, where the
// CPU has bfloat16 instructions, in bf16.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "msinet/bench/bench.h"
#include "msinet/eval/map_io.h"
#include "msinet/runtime/precision.h"
#include "test_support.h"
#include "tools/synthetic_photo.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using testing::read_lines;
using testing::run_msinet;
using testing::TempDir;

// A photo-like image, a blurred map and a binary fixation map around one bright disc.
void make_item(const fs::path& dir, const std::string& stem, int h, int w, int seed) {
  cv::RNG rng(seed);
  cv::Point c;
  const cv::Mat img = testing::synthetic_photo(h, w, rng, &c);
  cv::Mat fix(h, w, CV_8UC1, cv::Scalar(0));
  for (int k = 0; k < 12; ++k) {
    const int x = std::clamp(c.x + rng.uniform(-w / 8, w / 8 + 1), 0, w - 1);
    const int y = std::clamp(c.y + rng.uniform(-h / 8, h / 8 + 1), 0, h - 1);
    fix.at<uchar>(y, x) = 255;
  }
  fix.at<uchar>(rng.uniform(0, h), rng.uniform(0, w)) = 255;
  cv::Mat map;
  fix.convertTo(map, CV_32F);
  cv::GaussianBlur(map, map, cv::Size(0, 0), std::min(h, w) / 12.0);
  cv::normalize(map, map, 0, 255, cv::NORM_MINMAX);
  map.convertTo(map, CV_8U);
  for (const char* sub : {"stimuli", "maps", "fixations"}) fs::create_directories(dir / sub);
  ASSERT_TRUE(cv::imwrite((dir / "stimuli" / (stem + ".jpg")).string(), img));
  ASSERT_TRUE(cv::imwrite((dir / "maps" / (stem + ".png")).string(), map));
  ASSERT_TRUE(cv::imwrite((dir / "fixations" / (stem + ".png")).string(), fix));
}

// image -> metric -> value, from an eval CSV report.
std::map<std::string, std::map<std::string, double>> read_scores(const fs::path& csv) {
  std::map<std::string, std::map<std::string, double>> out;
  const std::vector<std::string> lines = read_lines(csv);
  EXPECT_FALSE(lines.empty()) << csv;
  if (lines.empty()) return out;
  std::vector<std::string> header;
  std::stringstream hs(lines[0]);
  for (std::string f; std::getline(hs, f, ',');) header.push_back(f);
  for (size_t i = 1; i < lines.size(); ++i) {
    std::stringstream ls(lines[i]);
    std::string image, f;
    std::getline(ls, image, ',');
    for (size_t k = 1; std::getline(ls, f, ','); ++k) {
      out[image][header.at(k)] = f.empty() || f == "nan" ? NAN : std::stod(f);
    }
  }
  return out;
}

class EvalDataset : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(testing::msinet_binary())) << "build the msinet target first";
    const int sizes[][2] = {{60, 80}, {48, 64}, {90, 60}, {40, 100}, {64, 64},
                            {50, 70}, {72, 96}, {30, 40}, {80, 60},  {56, 72}};
    for (int i = 0; i < 10; ++i) {
      make_item(dir(), "img" + std::to_string(i), sizes[i][0], sizes[i][1], i + 11);
    }
    std::ofstream(dir() / "tiny.yaml") << "stimuli: stimuli\nsaliency: maps\nfixations: "
                                          "fixations\nsize: 48x64\nvalid_fraction: 0.3\nseed: 3\n";
    // Random weights with random biases, so that the maps differ from image to image.
    bench::write_random_weights(weights(), /*seed=*/17);
  }
  const fs::path& dir() const { return tmp_.path(); }
  fs::path weights() const { return dir() / "random.msinet"; }

  void expect_same_scores(const std::string& precision) {
    const fs::path out_dir = dir() / precision;
    std::string log;
    const std::vector<std::string> common = {"--weights",     weights().string(),
                                             "--device",      "cpu",
                                             "--threads",     "2",
                                             "--precision",   precision,
                                             "--results-dir", (out_dir / "results").string()};
    std::vector<std::string> by_dataset = {
        "eval", "-d",    (dir() / "tiny.yaml").string(),    "--batch-size",
        "2",    "--csv", (out_dir / "dataset.csv").string()};
    by_dataset.insert(by_dataset.end(), common.begin(), common.end());
    ASSERT_EQ(run_msinet(by_dataset, dir(), &log), 0) << log;
    // The plots beside the CSV, the ROC curve from the images' AUC-Judd curves.
    EXPECT_TRUE(fs::exists(out_dir / "roc_auc_judd.png")) << log;
    EXPECT_TRUE(fs::exists(out_dir / "hist_nss.png")) << log;

    // The same images on their own (sAUC draws its negatives from the other scored images), at
    // the same batch size (oneDNN's sums depend on the batch shape at the 1e-7 level).
    const auto scored = read_scores(out_dir / "dataset.csv");
    ASSERT_EQ(scored.size(), 3u) << "30% of 10 images are validation images";
    for (const auto& [image, metrics] : scored) {
      for (const char* sub : {"stimuli", "maps", "fixations"}) {
        fs::create_directories(out_dir / "valid" / sub);
        const std::string ext = std::string(sub) == "stimuli" ? ".jpg" : ".png";
        fs::copy_file(dir() / sub / (image + ext), out_dir / "valid" / sub / (image + ext));
      }
    }
    std::vector<std::string> test = {"test",
                                     "-d",
                                     (dir() / "tiny.yaml").string(),
                                     "-p",
                                     (out_dir / "valid" / "stimuli").string(),
                                     "--format",
                                     "npy",
                                     "--batch-size",
                                     "2",
                                     "-o",
                                     (out_dir / "valid" / "pred").string()};
    test.insert(test.end(), common.begin(), common.end());
    ASSERT_EQ(run_msinet(test, dir(), &log), 0) << log;
    ASSERT_EQ(run_msinet({"eval", "--pred", (out_dir / "valid" / "pred").string(), "--fixations",
                          (out_dir / "valid" / "fixations").string(), "--maps",
                          (out_dir / "valid" / "maps").string(), "--csv",
                          (out_dir / "files.csv").string()},
                         dir(), &log),
              0)
        << log;

    const auto files = read_scores(out_dir / "files.csv");
    EXPECT_EQ(files.size(), 3u);
    int compared = 0;
    for (const auto& [image, metrics] : scored) {
      ASSERT_EQ(files.count(image), 1u) << image;
      EXPECT_EQ(metrics.size(), 8u) << image;
      for (const auto& [metric, value] : metrics) {
        const double other = files.at(image).at(metric);
        ASSERT_TRUE(std::isfinite(value)) << image << " " << metric;
        EXPECT_NEAR(value, other, 1e-6) << precision << " " << image << " " << metric;
        ++compared;
      }
    }
    EXPECT_EQ(compared, 24);
  }

  TempDir tmp_{"eval-dataset"};
};

TEST_F(EvalDataset, ScoresEqualTestThenEvalPredInFloat32) { expect_same_scores("fp32"); }

// Exit 0 only when every image was scored: 7 when some were skipped, 4 when none was.
TEST_F(EvalDataset, TheExitCodeSaysWhetherEverythingWasScored) {
  const auto eval = [&](const fs::path& pred, std::string* log) {
    return run_msinet({"eval", "--pred", pred.string(), "--fixations",
                       (dir() / "fixations").string(), "--maps", (dir() / "maps").string()},
                      dir(), log);
  };
  std::string log;
  EXPECT_EQ(eval(dir() / "maps", &log), 0) << log;  // the ground truth itself: all 10 scored
  const fs::path some = dir() / "some";
  fs::create_directories(some);
  for (const char* stem : {"img0", "img1"}) {
    fs::copy_file(dir() / "maps" / (std::string(stem) + ".png"),
                  some / (std::string(stem) + ".png"));
  }
  EXPECT_EQ(eval(some, &log), static_cast<int>(ErrorCode::kPartial)) << log;
  EXPECT_NE(log.find("skipped entirely"), std::string::npos) << log;
  const fs::path none = dir() / "none";
  fs::create_directories(none);
  fs::copy_file(dir() / "maps" / "img0.png", none / "unrelated.png");
  EXPECT_EQ(eval(none, &log), static_cast<int>(ErrorCode::kInput)) << log;
  EXPECT_NE(log.find("no image was scored"), std::string::npos) << log;
}

// eval -d under the Tuebingen protocol: the model's maps as the densities `test --output
// logdensity` writes (identity calibration) and the training split's fixations as the centre bias,
// the same numbers as writing those densities and scoring them with --pred and --train-fixations.
TEST_F(EvalDataset, TuebingenScoresTheModelsMapsAsDensities) {
  const fs::path out = dir() / "tueb";
  std::string log;
  const std::vector<std::string> common = {
      "--weights",     weights().string(),        "--device", "cpu", "--threads", "2",
      "--results-dir", (out / "results").string()};
  std::vector<std::string> by_dataset = {"eval",
                                         "-d",
                                         (dir() / "tiny.yaml").string(),
                                         "--protocol",
                                         "tuebingen",
                                         "--kernel-size",
                                         "3",
                                         "--csv",
                                         (out / "dataset.csv").string(),
                                         "--json",
                                         (out / "dataset.json").string()};
  by_dataset.insert(by_dataset.end(), common.begin(), common.end());
  ASSERT_EQ(run_msinet(by_dataset, dir(), &log), 0) << log;
  const auto scored = read_scores(out / "dataset.csv");
  ASSERT_EQ(scored.size(), 3u);
  const std::string json = testing::read_file_bytes(out / "dataset.json");
  EXPECT_NE(json.find("\"training_images\": 7.0"), std::string::npos) << json;
  for (const char* sub : {"stimuli", "fixations", "train"}) fs::create_directories(out / sub);
  for (int i = 0; i < 10; ++i) {
    const std::string stem = "img" + std::to_string(i);
    if (scored.count(stem)) {
      fs::copy_file(dir() / "stimuli" / (stem + ".jpg"), out / "stimuli" / (stem + ".jpg"));
      fs::copy_file(dir() / "fixations" / (stem + ".png"), out / "fixations" / (stem + ".png"));
    } else {
      fs::copy_file(dir() / "fixations" / (stem + ".png"), out / "train" / (stem + ".png"));
    }
  }
  // The densities `test --output logdensity` writes (float32 .npy), scored from files.
  std::vector<std::string> test = {"test",
                                   "-d",
                                   (dir() / "tiny.yaml").string(),
                                   "-p",
                                   (out / "stimuli").string(),
                                   "--output",
                                   "logdensity",
                                   "-o",
                                   (out / "densities").string()};
  test.insert(test.end(), common.begin(), common.end());
  ASSERT_EQ(run_msinet(test, dir(), &log), 0) << log;
  ASSERT_EQ(run_msinet({"eval", "--protocol", "tuebingen", "--kernel-size", "3", "--pred",
                        (out / "densities").string(), "--fixations", (out / "fixations").string(),
                        "--train-fixations", (out / "train").string(), "--csv",
                        (out / "files.csv").string()},
                       dir(), &log),
            0)
      << log;
  const auto files = read_scores(out / "files.csv");
  int compared = 0;
  for (const auto& [image, metrics] : scored) {
    ASSERT_EQ(files.count(image), 1u) << image;
    EXPECT_EQ(metrics.size(), 8u) << image;
    for (const auto& [metric, value] : metrics) {
      ASSERT_TRUE(std::isfinite(value)) << image << " " << metric;
      // float32 files: log-densities of about -10 are stored to about 1e-6
      EXPECT_NEAR(value, files.at(image).at(metric), 1e-5) << image << " " << metric;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 24);
}

TEST_F(EvalDataset, ScoresEqualTestThenEvalPredInBfloat16) {
  if (!runtime::cpu_has_bf16()) {
    GTEST_SKIP() << "this CPU has no bfloat16 instructions: the bf16 path is NOT checked here";
  }
  expect_same_scores("bf16");
}

}  // namespace
}  // namespace msinet
