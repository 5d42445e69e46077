// `msinet eval --pred A --pred B` end to end on tiny synthetic maps: the comparison table, the
// per-predictor CSV columns, the JSON, the plots beside the JSON, and the usage errors.

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "msinet/eval/metrics.h"
#include "test_support.h"

namespace fs = std::filesystem;
using msinet::testing::read_file_bytes;
using msinet::testing::run_msinet;

namespace {

constexpr int kImages = 8, kRows = 12, kCols = 16;

struct Folders {
  msinet::testing::TempDir tmp{"cli-eval-compare"};
  fs::path fix = tmp.path() / "fix", a = tmp.path() / "a", b = tmp.path() / "b",
           out = tmp.path() / "out";
  Folders() {
    for (const auto& d : {fix, a, b, out}) fs::create_directories(d);
    msinet::eval::Rng rng(1);
    for (int i = 0; i < kImages; ++i) {
      const std::string name = "img" + std::to_string(i) + ".png";
      cv::Mat f = cv::Mat::zeros(kRows, kCols, CV_8UC1);
      cv::Mat pa(kRows, kCols, CV_8UC1), pb(kRows, kCols, CV_8UC1);
      for (int p = 0; p < kRows * kCols; ++p) {
        pa.at<uint8_t>(p) = static_cast<uint8_t>(rng.below(200));
        pb.at<uint8_t>(p) = static_cast<uint8_t>(rng.below(100));
      }
      for (int k = 0; k < 4; ++k) {  // B sees the fixations brightly, A only by chance
        const int p = static_cast<int>(rng.below(kRows * kCols));
        f.at<uint8_t>(p) = 255;
        pb.at<uint8_t>(p) = 250;
      }
      cv::imwrite((fix / name).string(), f);
      cv::imwrite((a / name).string(), pa);
      cv::imwrite((b / name).string(), pb);
    }
  }
};

TEST(CliEvalCompare, TwoPredictionFoldersComparedImageByImage) {
  Folders f;
  std::string log;
  const int rc =
      run_msinet({"eval", "--pred", f.a.string(), "--pred", f.b.string(), "--fixations",
                  f.fix.string(), "--metrics", "auc_judd,nss", "--bootstrap", "300", "--seed", "5",
                  "--json", (f.out / "r.json").string(), "--csv", (f.out / "r.csv").string(), "-q"},
                 f.tmp.path(), &log);
  ASSERT_EQ(rc, 0) << log;
  EXPECT_NE(log.find("== pred2 (B) against pred1 (A)"), std::string::npos) << log;
  EXPECT_NE(log.find("95% interval: percentile bootstrap of the mean over images, 300 resamples, "
                     "seed 5"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("pred2 better"), std::string::npos) << log;
  const auto j = nlohmann::json::parse(read_file_bytes(f.out / "r.json"));
  const auto& nss = j["comparisons"][0]["metrics"]["nss"];
  EXPECT_EQ(nss["n"], kImages);
  EXPECT_EQ(nss["b_better"], kImages);
  EXPECT_EQ(nss["better"], "pred2");
  EXPECT_GT(nss["ci95"][0].get<double>(), 0.0);
  EXPECT_LT(nss["wilcoxon"]["p"].get<double>(), 0.05);  // 8 of 8 positive: p = 0.012
  EXPECT_EQ(j["predictors"][0]["report"]["predictor"], f.a.string());
  EXPECT_EQ(j["predictors"][0]["report"]["metrics"]["nss"]["ci95"].size(), 2u);
  const std::string csv = read_file_bytes(f.out / "r.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "image,pred1.auc_judd,pred1.nss,pred2.auc_judd,pred2.nss");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), kImages + 1);
  for (const char* png : {"roc_auc_judd.png", "hist_nss_pred1.png", "hist_auc_judd_pred2.png",
                          "scatter_nss_pred1_pred2.png", "scatter_auc_judd_pred1_pred2.png"}) {
    EXPECT_FALSE(cv::imread((f.out / png).string()).empty()) << png;
  }
}

TEST(CliEvalCompare, OnePredictorWithoutIntervalsAndPlotsWhereAsked) {
  Folders f;
  std::string log;
  ASSERT_EQ(run_msinet({"eval", "--pred", f.b.string(), "--fixations", f.fix.string(), "--metrics",
                        "nss", "--bootstrap", "0", "--plots", (f.out / "p").string()},
                       f.tmp.path(), &log),
            0)
      << log;
  EXPECT_NE(log.find("95% intervals: off (--bootstrap 0)"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(f.out / "p" / "hist_nss.png"));
  EXPECT_FALSE(fs::exists(f.out / "p" / "roc_auc_judd.png"));  // AUC-Judd not scored
}

TEST(CliEvalCompare, SeveralFoldersAreNotMixedWithABaseline) {
  Folders f;
  std::string log;
  EXPECT_EQ(run_msinet({"eval", "--pred", f.a.string(), "--pred", f.b.string(), "--baseline",
                        "center", "--fixations", f.fix.string()},
                       f.tmp.path(), &log),
            2);
  EXPECT_NE(log.find("several --pred folders are compared with each other"), std::string::npos)
      << log;
}

}  // namespace
