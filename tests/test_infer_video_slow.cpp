// `msinet test` on videos, the checks that run the binary several times (label slow): the .npy
// frames are exactly the image job's maps of the same frames, and the video and PNG frames carry
// them; --smooth is the stated moving average; a damaged video is named with its frame and what
// came before stays playable.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "tools/video_support.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using testing::Npy;
using testing::play;
using testing::Played;
using testing::read_npy;
using testing::TempDir;
using testing::TestVideo;

TEST_F(TestVideo, NpyFramesAreExactlyTheImageJobOnEachFrame) {
  const fs::path clip = dir_.path() / "in" / "clip.avi";
  make_video(clip, /*frames=*/8, /*h=*/48, /*w=*/64, /*fps=*/10);
  const fs::path out = dir_.path() / "out";
  std::string log;
  ASSERT_EQ(test({"-p", clip.string(), "-o", out.string(), "--format", "npy"}, &log), 0) << log;
  const Npy video = read_npy(out / "clip.npy");
  ASSERT_EQ(video.shape, (std::vector<int64_t>{8, 48, 64})) << log;
  ASSERT_EQ(video.values.size(), 8u * 48 * 64);

  // The same frames as PNG images, through the image job.
  const fs::path frames = dir_.path() / "frames";
  fs::create_directories(frames);
  cv::VideoCapture capture(clip.string(), cv::CAP_FFMPEG);
  std::vector<cv::Mat> decoded;
  for (cv::Mat f; capture.read(f);) decoded.push_back(f.clone());
  ASSERT_EQ(decoded.size(), 8u);
  const std::vector<int> picked = {0, 3, 7};
  for (int k : picked) {
    ASSERT_TRUE(cv::imwrite((frames / ("f" + std::to_string(k) + ".png")).string(), decoded[k]));
  }
  const fs::path maps = dir_.path() / "maps";
  ASSERT_EQ(test({"-p", frames.string(), "-o", maps.string(), "--format", "npy"}, &log), 0) << log;
  for (int k : picked) {
    const Npy image = read_npy(maps / ("f" + std::to_string(k) + ".npy"));
    ASSERT_EQ(image.shape, (std::vector<int64_t>{48, 64}));
    const float* frame = video.values.data() + static_cast<size_t>(k) * 48 * 64;
    size_t differing = 0;
    for (size_t i = 0; i < image.values.size(); ++i) differing += image.values[i] != frame[i];
    EXPECT_EQ(differing, 0u) << "frame " << k;
  }

  // The map video (and the PNG frames) carry the same maps, within the codec's loss.
  const fs::path pngs = dir_.path() / "png";
  ASSERT_EQ(test({"-p", clip.string(), "-o", pngs.string(), "--format", "png"}, &log), 0) << log;
  const Played played = play(pngs / "clip.mp4");
  ASSERT_EQ(played.frames.size(), 8u);
  for (int k : picked) {
    char name[32];
    std::snprintf(name, sizeof name, "frame_%06d.png", k);
    const cv::Mat png = cv::imread((pngs / "clip" / name).string(), cv::IMREAD_UNCHANGED);
    ASSERT_EQ(png.type(), CV_8UC1) << name;
    const float* frame = video.values.data() + static_cast<size_t>(k) * 48 * 64;
    double png_error = 0;
    for (int i = 0; i < 48 * 64; ++i) {
      png_error = std::max(png_error, std::abs(png.data[i] - 255.0 * frame[i]));
    }
    EXPECT_LE(png_error, 0.5 + 1e-3) << name;
    cv::Mat grey;
    cv::cvtColor(played.frames[k], grey, cv::COLOR_BGR2GRAY);
    cv::Mat diff;
    cv::absdiff(grey, png, diff);
    EXPECT_LE(cv::mean(diff)[0], 3.0) << "frame " << k;
    EXPECT_LE(cv::norm(diff, cv::NORM_INF), 48) << "frame " << k;
  }
  EXPECT_FALSE(fs::exists(pngs / "clip" / "frame_000008.png"));
}

TEST_F(TestVideo, SmoothIsTheExponentialMovingAverage) {
  const fs::path clip = dir_.path() / "in" / "clip.mp4";
  make_video(clip, /*frames=*/8, /*h=*/48, /*w=*/64, /*fps=*/10);
  std::string log;
  const fs::path raw = dir_.path() / "raw", smooth = dir_.path() / "smooth";
  ASSERT_EQ(test({"-p", clip.string(), "-o", raw.string(), "--format", "npy"}, &log), 0) << log;
  ASSERT_EQ(test({"-p", clip.string(), "-o", smooth.string(), "--format", "npy", "--smooth", "0.3",
                  "--batch-size", "3"},
                 &log),
            0)
      << log;
  const Npy a = read_npy(raw / "clip.npy"), b = read_npy(smooth / "clip.npy");
  ASSERT_EQ(a.shape, (std::vector<int64_t>{8, 48, 64}));
  ASSERT_EQ(b.shape, a.shape);
  const size_t n = 48 * 64;
  std::vector<double> m(a.values.begin(), a.values.begin() + n);  // m_0 = map_0
  double worst = 0, moved = 0;
  for (size_t t = 0; t < 8; ++t) {
    for (size_t i = 0; i < n; ++i) {
      if (t > 0) m[i] = 0.3 * a.values[t * n + i] + 0.7 * m[i];
      worst = std::max(worst, std::abs(m[i] - b.values[t * n + i]));
      moved = std::max(moved, std::abs(double{a.values[t * n + i]} - b.values[t * n + i]));
    }
  }
  EXPECT_LE(worst, 1e-5);
  EXPECT_GT(moved, 1e-3) << "the smoothing changed nothing: a test video that does not move?";
  for (const char* bad : {"0", "1.5", "-0.2"}) {
    EXPECT_EQ(test({"-p", clip.string(), "-o", smooth.string(), "--smooth", bad}, &log), 2) << bad;
    EXPECT_NE(log.find("ALPHA must be in (0, 1]"), std::string::npos) << log;
  }
}

// A damaged video is one failed input (exit 7) named with the frame reached; the frames before
// it are a complete, playable video.
TEST_F(TestVideo, ATruncatedOrCorruptVideoIsNamedAndWhatCameBeforeStaysPlayable) {
  const fs::path in = dir_.path() / "in";
  make_video(in / "whole.avi", /*frames=*/12, /*h=*/96, /*w=*/128, /*fps=*/10);
  const std::string bytes = testing::read_file_bytes(in / "whole.avi");
  std::ofstream(in / "cut.avi", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  std::string corrupt = bytes;
  std::mt19937 rng(5);
  for (size_t i = bytes.size() / 2; i < bytes.size() * 5 / 8; ++i) {
    corrupt[i] = static_cast<char>(rng());
  }
  std::ofstream(in / "corrupt.avi", std::ios::binary) << corrupt;
  make_video(dir_.path() / "mp4" / "whole.mp4", 12, 96, 128, 10);
  const std::string mp4 = testing::read_file_bytes(dir_.path() / "mp4" / "whole.mp4");
  std::ofstream(in / "halfmp4.mp4", std::ios::binary) << mp4.substr(0, mp4.size() / 2);
  std::ofstream(in / "junk.mkv") << "not a video at all";
  fs::remove(in / "whole.avi");

  const fs::path out = dir_.path() / "out";
  std::string log;
  ASSERT_EQ(test({"-p", in.string(), "-o", out.string()}, &log), 7) << log;
  EXPECT_NE(log.find("4 input(s) could not be processed"), std::string::npos) << log;
  for (const char* name : {"cut.avi", "corrupt.avi"}) {
    const std::string path = (in / name).string();
    const size_t at = log.find("video '" + path + "' is damaged at frame ");
    ASSERT_NE(at, std::string::npos) << name << "\n" << log;
    const int reached = std::stoi(log.substr(log.find("frame ", at) + 6));
    EXPECT_GT(reached, 0) << name;
    EXPECT_LT(reached, 12) << name;
    EXPECT_NE(log.find("of the 12 it declares: truncated or corrupt"), std::string::npos) << log;
    const fs::path written = out / (fs::path(name).stem().string() + ".mp4");
    EXPECT_NE(log.find("the " + std::to_string(reached) + " frame(s) before it were written to '" +
                       written.string() + "'"),
              std::string::npos)
        << log;
    const Played p = play(written);
    ASSERT_TRUE(p.opened) << written;
    EXPECT_EQ(p.frames.size(), static_cast<size_t>(reached)) << written;
  }
  // An MP4 cut before its index cannot be opened at all; neither can bytes that are no video.
  EXPECT_NE(
      log.find("cannot read video '" + (in / "halfmp4.mp4").string() + "': FFmpeg cannot open"),
      std::string::npos)
      << log;
  EXPECT_NE(log.find("cannot read video '" + (in / "junk.mkv").string() + "'"), std::string::npos)
      << log;
  EXPECT_FALSE(fs::exists(out / "halfmp4.mp4"));
  EXPECT_FALSE(fs::exists(out / "junk.mp4"));
  EXPECT_EQ(log.find("[mjpeg @"), std::string::npos) << "FFmpeg printed on its own:\n" << log;
}

}  // namespace
}  // namespace msinet
