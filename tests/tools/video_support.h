#pragma once
// Shared by the video tests: videos made at test time, read back with cv::VideoCapture, .npy
// arrays read back, and `msinet test` with small random weights at 48x64.

#include <gtest/gtest.h>

#include <cstring>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "msinet/bench/bench.h"
#include "test_support.h"
#include "tools/synthetic_photo.h"

namespace msinet::testing {

namespace fs = std::filesystem;

/// A float32 .npy array read back: its shape and values.
struct Npy {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

inline Npy read_npy(const fs::path& path) {
  const std::string bytes = read_file_bytes(path);
  Npy npy;
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) return npy;
  const size_t header_len = static_cast<uint8_t>(bytes[8]) + 256u * static_cast<uint8_t>(bytes[9]);
  const std::string header = bytes.substr(10, header_len);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
  EXPECT_EQ((10 + header_len) % 64, 0u) << header;
  const size_t open = header.find("'shape': (");
  const size_t close = header.find(')', open);
  std::stringstream dims(header.substr(open + 10, close - open - 10));
  for (std::string item; std::getline(dims, item, ',');) {
    if (item.find_first_not_of(' ') != std::string::npos) npy.shape.push_back(std::stoll(item));
  }
  npy.values.resize((bytes.size() - 10 - header_len) / 4);
  std::memcpy(npy.values.data(), bytes.data() + 10 + header_len, npy.values.size() * 4);
  return npy;
}

/// What cv::VideoCapture reads back from a video.
struct Played {
  bool opened = false;
  std::vector<cv::Mat> frames;  // BGR
  double fps = 0;
};

inline Played play(const fs::path& path) {
  Played p;
  cv::VideoCapture capture(path.string(), cv::CAP_FFMPEG);
  p.opened = capture.isOpened();
  if (!p.opened) return p;
  p.fps = capture.get(cv::CAP_PROP_FPS);
  for (cv::Mat f; capture.read(f);) p.frames.push_back(f.clone());
  return p;
}

/// Random weights in a fresh folder, videos made there, and `msinet test` at 48x64 on the CPU.
class TestVideo : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(msinet_binary())) << "build the msinet target first";
    bench::write_random_weights(weights(), /*seed=*/7);
  }
  /// The random weights.
  fs::path weights() const { return dir_.path() / "w.msinet"; }

  /// `frames` frames of a photo-like picture whose disc moves, MJPG (.avi) or mp4v (.mp4).
  void make_video(const fs::path& path, int frames, int h, int w, double fps) {
    fs::create_directories(path.parent_path());
    const bool avi = path.extension() == ".avi";
    cv::VideoWriter writer(path.string(), cv::CAP_FFMPEG,
                           avi ? cv::VideoWriter::fourcc('M', 'J', 'P', 'G')
                               : cv::VideoWriter::fourcc('m', 'p', '4', 'v'),
                           fps, cv::Size(w, h));
    ASSERT_TRUE(writer.isOpened()) << path;
    cv::RNG rng(11);
    cv::Point c;
    const cv::Mat base = synthetic_photo(h, w, rng, &c);
    for (int i = 0; i < frames; ++i) {
      cv::Mat f = base.clone();
      cv::circle(f, cv::Point((i * 7) % w, h / 2), h / 5, cv::Scalar(240, 240, 30), cv::FILLED);
      writer.write(f);
    }
    writer.release();
  }
  /// Runs `msinet test` with the weights, 48x64, on the CPU, with `extra`; returns the exit code.
  int test(const std::vector<std::string>& extra, std::string* log) {
    std::vector<std::string> args = {"test",
                                     "--weights",
                                     weights().string(),
                                     "--size",
                                     "48x64",
                                     "--device",
                                     "cpu",
                                     "--threads",
                                     "2",
                                     "--results-dir",
                                     (dir_.path() / "results").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_msinet(args, dir_.path(), log);
  }
  TempDir dir_{"video"};
};

}  // namespace msinet::testing
