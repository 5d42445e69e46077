// `msinet test -d DATA` without weights trained here: the published model is downloaded through
// MSINET_MIRROR (a Google Drive confirmation page included), imported once, and reused.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "msinet/checkpoint/tf_names.h"
#include "msinet/model/msinet.h"
#include "msinet/weights/writers.h"
#include "test_support.h"
#include "tools/http_server.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using testing::run_msinet;
using testing::TempDir;

constexpr const char* kOsieCpuId =
    "1JD1tvAqZGxj_gEGmIfoxb9dTe5HOaHj1";  // reference-semantics.md §6

class Published : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(mirror() / "drive.google.com");
    cv::Mat img(60, 80, CV_8UC3, cv::Scalar(30, 120, 200));
    cv::circle(img, {50, 20}, 10, cv::Scalar(250, 250, 250), cv::FILLED);
    ASSERT_TRUE(cv::imwrite((dir() / "photo.jpg").string(), img));
  }
  fs::path dir() const { return tmp_.path(); }
  fs::path mirror() const { return tmp_.path() / "mirror"; }
  void serve_zip_of_random_model() {
    torch::manual_seed(3);
    model::MSINet net;
    const fs::path pb = dir() / "model_osie_cpu.pb";
    weights::write_frozen_graph(pb, checkpoint::export_tf_weights(net));
    const auto r = testing::run_command(
        {"/usr/bin/python3", "-c",
         "import sys, zipfile\n"
         "with zipfile.ZipFile(sys.argv[1], 'w') as z: z.write(sys.argv[2], 'model_osie_cpu.pb')",
         (mirror() / "drive.google.com" / kOsieCpuId).string(), pb.string()});
    ASSERT_EQ(r.status, 0) << r.out;
  }
  std::vector<std::string> test_args() const {
    return {"test",
            "-d",
            "osie",
            "-p",
            (dir() / "photo.jpg").string(),
            "--size",
            "48x64",
            "--results-dir",
            (dir() / "results").string(),
            "--weights-dir",
            (dir() / "weights").string(),
            "--device",
            "cpu"};
  }
  TempDir tmp_{"published"};
};

TEST_F(Published, DownloadedOnFirstUseImportedOnceThenReused) {
  serve_zip_of_random_model();
  const fs::path log = dir() / "requests.log";
  testing::HttpServer server(mirror(), log, "form");
  const std::vector<std::string> env = {"MSINET_MIRROR=" + server.base()};
  std::string out;
  ASSERT_EQ(run_msinet(test_args(), dir(), &out, env), 0) << out;
  EXPECT_TRUE(fs::exists(dir() / "weights" / "osie.msinet")) << out;
  const cv::Mat map =
      cv::imread((dir() / "results" / "images" / "photo.jpeg").string(), cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(map.empty()) << out;
  EXPECT_EQ(map.rows, 60);
  EXPECT_EQ(map.cols, 80);
  const size_t requests = testing::read_log_lines(log).size();
  EXPECT_GE(requests, 2u);  // the confirmation page, then the file
  ASSERT_EQ(run_msinet(test_args(), dir(), &out, env), 0) << out;
  EXPECT_EQ(testing::read_log_lines(log).size(), requests) << "the imported model must be reused";
}

TEST_F(Published, CorruptArchiveSaysWhereToPutTheFileByHand) {
  std::ofstream(mirror() / "drive.google.com" / kOsieCpuId) << "PK\x03\x04 this is not a zip";
  testing::HttpServer server(mirror(), {}, "direct");
  std::string out;
  const int rc = run_msinet(test_args(), dir(), &out, {"MSINET_MIRROR=" + server.base()});
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("model_osie_cpu.pb"), std::string::npos) << out;
  EXPECT_NE(out.find((dir() / "weights").string()), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir() / "weights" / "osie.msinet"));
  EXPECT_FALSE(fs::exists(dir() / "results" / "images" / "photo.jpeg"));
}

}  // namespace
}  // namespace msinet
