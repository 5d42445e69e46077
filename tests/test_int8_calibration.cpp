// The int8 calibration's file (round trip, malformed files), int8 against fp32 on real photos,
// and the binary's `bench --calibrate-int8` and `test --precision int8`.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "msinet/bench/bench.h"
#include "msinet/checkpoint/load.h"
#include "msinet/data/image.h"
#include "msinet/model/msinet.h"
#include "msinet/pipeline/tensors.h"
#include "msinet/runtime/inference.h"
#include "msinet/runtime/int8_calibration.h"
#include "msinet/util/error.h"
#include "test_support.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using testing::run_msinet;
using testing::TempDir;

const fs::path kPhotos = "/usr/share/doc/opencv-doc/examples/data";

runtime::Int8Calibration example() {
  runtime::Int8Calibration c;
  for (size_t i = 0; i < c.input_range.size(); ++i) c.input_range[i] = 0.5 + 1.37 * i;
  c.input_range[0] = 0;  // not measured: not written
  c.fingerprint = "0123456789abcdef";
  c.quantile = 0.999;
  c.images = 7;
  return c;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The message of the Error(kInput) reading `path` throws.
std::string read_error(const fs::path& path) {
  try {
    runtime::read_int8_calibration(path);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInput) << e.what();
    return e.what();
  }
  ADD_FAILURE() << path << " was accepted";
  return "";
}

TEST(Int8CalibrationFile, RoundTrips) {
  TempDir tmp("int8-file");
  const runtime::Int8Calibration c = example();
  runtime::write_int8_calibration(c, tmp.path() / "c.yaml");
  const runtime::Int8Calibration r = runtime::read_int8_calibration(tmp.path() / "c.yaml");
  EXPECT_EQ(r.fingerprint, c.fingerprint);
  EXPECT_EQ(r.images, 7);
  EXPECT_DOUBLE_EQ(r.quantile, 0.999);
  EXPECT_EQ(r.source, (tmp.path() / "c.yaml").string());
  for (size_t i = 0; i < c.input_range.size(); ++i) {
    EXPECT_NEAR(r.input_range[i], c.input_range[i], 1e-7 * c.input_range[i]) << i;
  }
  EXPECT_NE(testing::read_file_bytes(tmp.path() / "c.yaml").find("encoder.conv1_2:"),
            std::string::npos);
}

TEST(Int8CalibrationFile, MalformedFilesAreInputErrorsNamingTheFile) {
  TempDir tmp("int8-bad");
  const fs::path f = tmp.path() / "bad.yaml";
  EXPECT_NE(read_error(tmp.path() / "missing.yaml").find("missing.yaml"), std::string::npos);
  write_text(f, "format: [unclosed\n");
  EXPECT_NE(read_error(f).find(f.string()), std::string::npos);
  write_text(f, "just text\n");
  EXPECT_NE(read_error(f).find(f.string()), std::string::npos);
  write_text(f,
             "format: msinet-int8-calibration 1\nweights_fingerprint: x\ninput_range:\n"
             "  encoder.conv9_9: 1.0\n");
  EXPECT_NE(read_error(f).find("conv9_9"), std::string::npos);
  write_text(f,
             "format: msinet-int8-calibration 1\nweights_fingerprint: x\ninput_range:\n"
             "  encoder.conv1_2: -3\n");
  EXPECT_NE(read_error(f).find("positive"), std::string::npos);
  const std::string message = read_error(f);
  EXPECT_NE(message.find("--calibrate-int8"), std::string::npos) << message;
}

// Real photos (the OpenCV samples; generated ones where they are absent), random weights (no
// trained weights are part of the tests): calibrated on half, compared on the other half.
TEST(Int8Network, CloseToFloat32OnPhotos) {
  torch::set_num_threads(2);
  std::vector<fs::path> files = bench::list_photos(kPhotos);
  std::vector<torch::Tensor> images;
  for (size_t i = 0; i < files.size() && images.size() < 8; i += 3) {
    const cv::Mat s = data::preprocess_stimulus(data::decode_image(files[i], 3), 240, 320);
    images.push_back(pipeline::images_to_batch({s}));
  }
  if (images.size() < 4) {
    for (int i = 0; i < 6; ++i) images.push_back(torch::rand({1, 3, 240, 320}) * 255);
  }
  TempDir tmp("int8-net");
  bench::write_random_weights(tmp.path() / "w.msinet", /*seed=*/11);
  model::MSINet net;
  checkpoint::load_weights_file(net, tmp.path() / "w.msinet");
  net->eval();
  const size_t half = images.size() / 2;
  runtime::InferenceOptions o;
  o.precision = runtime::Precision::kInt8;
  o.int8_calibration = std::make_shared<runtime::Int8Calibration>(runtime::measure_int8_calibration(
      net, std::vector<torch::Tensor>(images.begin(), images.begin() + half)));
  runtime::InferenceNet int8(net, torch::kCPU, o);
  runtime::InferenceNet fp32(net, torch::kCPU, runtime::plain_options());
  for (size_t i = half; i < images.size(); ++i) {
    const torch::Tensor want = fp32.forward(images[i]).to(torch::kFloat64).flatten();
    const torch::Tensor got = int8.forward(images[i]).to(torch::kFloat64).flatten();
    const torch::Tensor x = want - want.mean(), y = got - got.mean();
    const double cc = ((x * y).sum() / (x.norm() * y.norm())).item<double>();
    EXPECT_GE(cc, 0.995) << "photo " << i;
    EXPECT_LT((got - want).abs().max().item<double>(), 0.1) << "photo " << i;
  }
}

TEST(CliInt8, BenchCalibratesAndTestRunsInt8WithIt) {
  ASSERT_TRUE(fs::exists(testing::msinet_binary())) << "build the msinet target first";
  TempDir tmp("cli-int8");
  bench::write_random_weights(tmp.path() / "w.msinet", /*seed=*/3);
  fs::create_directories(tmp.path() / "photos");
  cv::Mat img(60, 80, CV_8UC3);
  cv::randu(img, 0, 255);
  ASSERT_TRUE(cv::imwrite((tmp.path() / "photos" / "a.jpg").string(), img));
  std::string log;
  ASSERT_EQ(run_msinet({"bench", "--calibrate-int8", (tmp.path() / "photos").string(), "--weights",
                        (tmp.path() / "w.msinet").string(), "--sizes", "32x48", "--iters", "1"},
                       tmp.path(), &log),
            0)
      << log;
  const fs::path cal = tmp.path() / "w.int8.yaml";  // the default: beside the weights
  ASSERT_TRUE(fs::exists(cal)) << log;
  EXPECT_NE(log.find("CC mean"), std::string::npos) << log;
  EXPECT_NE(log.find("max abs"), std::string::npos) << log;

  const std::vector<std::string> test = {"test",        "-v",
                                         "--weights",   (tmp.path() / "w.msinet").string(),
                                         "-p",          (tmp.path() / "photos").string(),
                                         "-o",          (tmp.path() / "maps").string(),
                                         "--size",      "32x48",
                                         "--precision", "int8"};
  EXPECT_EQ(run_msinet(test, tmp.path(), &log), 2) << "int8 without a calibration:\n" << log;
  EXPECT_NE(log.find("--calibrate-int8"), std::string::npos) << log;
  std::vector<std::string> with = test;
  with.insert(with.end(), {"--int8-calibration", cal.string()});
  ASSERT_EQ(run_msinet(with, tmp.path(), &log), 0) << log;
  EXPECT_TRUE(fs::exists(tmp.path() / "maps" / "a.jpeg")) << log;
  EXPECT_NE(log.find("int8"), std::string::npos) << log;

  // A calibration of other weights: an input error naming the file.
  bench::write_random_weights(tmp.path() / "other.msinet", /*seed=*/4);
  with[3] = (tmp.path() / "other.msinet").string();
  EXPECT_EQ(run_msinet(with, tmp.path(), &log), 4) << log;
  EXPECT_NE(log.find(cal.string()), std::string::npos) << log;
}

}  // namespace
}  // namespace msinet
