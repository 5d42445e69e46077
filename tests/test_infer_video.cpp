// `msinet test` on videos and cameras, the quick checks: the map video keeps the input's frame
// count, size and rate; the side-by-side video is three frames wide; a missing camera is a clear
// error; images and videos mix in one folder; an interrupted video leaves nothing; the writers
// leave nothing until finished.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "msinet/data/video.h"
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

TEST_F(TestVideo, TheMapVideoKeepsFrameCountSizeAndRate) {
  const fs::path clip = dir_.path() / "in" / "clip.avi";
  make_video(clip, /*frames=*/9, /*h=*/48, /*w=*/64, /*fps=*/12.5);
  const fs::path out = dir_.path() / "out";
  std::string log;
  ASSERT_EQ(test({"-p", clip.string(), "-o", out.string(), "--overlay"}, &log), 0) << log;
  for (const char* name : {"clip.mp4", "clip_overlay.mp4"}) {
    const Played p = play(out / name);
    ASSERT_TRUE(p.opened) << name << "\n" << log;
    ASSERT_EQ(p.frames.size(), 9u) << name;
    EXPECT_EQ(p.frames[0].rows, 48) << name;
    EXPECT_EQ(p.frames[0].cols, 64) << name;
    EXPECT_NEAR(p.fps, 12.5, 1e-6) << name;
  }
  // The map video is grey: its three channels agree (up to the codec's chroma).
  const Played p = play(out / "clip.mp4");
  std::vector<cv::Mat> ch;
  cv::split(p.frames[3], ch);
  EXPECT_LE(cv::norm(ch[0], ch[2], cv::NORM_INF), 12);
  // Nothing temporary is left beside the outputs.
  for (const auto& e : fs::directory_iterator(out)) {
    EXPECT_EQ(e.path().extension() == ".tmp", false) << e.path();
  }
}

TEST_F(TestVideo, TheSideBySideVideoIsThreeFramesWide) {
  const fs::path clip = dir_.path() / "in" / "clip.avi";
  make_video(clip, /*frames=*/4, /*h=*/48, /*w=*/64, /*fps=*/10);
  const fs::path out = dir_.path() / "out";
  std::string log;
  ASSERT_EQ(test({"-p", clip.string(), "-o", out.string(), "--side-by-side"}, &log), 0) << log;
  EXPECT_FALSE(fs::exists(out / "clip_overlay.mp4")) << "--side-by-side alone";
  const Played p = play(out / "clip_side.mp4");
  ASSERT_TRUE(p.opened) << log;
  ASSERT_EQ(p.frames.size(), 4u);
  EXPECT_EQ(p.frames[0].rows, 48);
  EXPECT_EQ(p.frames[0].cols, 3 * 64) << "frame | coloured map | overlay";
  // The left third is the input frame (within the codecs' loss), not a coloured one.
  const Played in = play(clip);
  ASSERT_EQ(in.frames.size(), 4u);
  cv::Mat d;
  cv::absdiff(p.frames[1].colRange(0, 64), in.frames[1], d);
  const cv::Scalar m = cv::mean(d);
  EXPECT_LT((m[0] + m[1] + m[2]) / 3, 12.0);
}

TEST_F(TestVideo, ACameraThatCannotBeOpenedIsAClearError) {
  std::string log;
  EXPECT_EQ(test({"--camera", "63"}, &log), 4) << log;
  EXPECT_NE(log.find("cannot open camera 63 (/dev/video63): no such device"), std::string::npos)
      << log;
  EXPECT_EQ(test({"--camera", (dir_.path() / "no-such-camera").string()}, &log), 4) << log;
  EXPECT_NE(log.find("cannot open camera '" + (dir_.path() / "no-such-camera").string() + "'"),
            std::string::npos)
      << log;
  EXPECT_FALSE(fs::exists(dir_.path() / "results" / "videos")) << "nothing is written";
  // The options that go with a camera, and the choice between it and files.
  EXPECT_EQ(test({"-p", dir_.path().string(), "--show"}, &log), 2) << log;
  EXPECT_NE(log.find("--show needs --camera"), std::string::npos) << log;
  EXPECT_EQ(test({"-p", dir_.path().string(), "--camera", "0"}, &log), 2) << log;
  EXPECT_EQ(test({}, &log), 2) << log;
  EXPECT_NE(log.find("give either -p PATH"), std::string::npos) << log;
}

TEST_F(TestVideo, AFolderMixesImagesAndVideos) {
  const fs::path in = dir_.path() / "in";
  make_video(in / "clip.mp4", /*frames=*/6, /*h=*/48, /*w=*/64, /*fps=*/8);
  cv::RNG rng(2);
  cv::Point c;
  fs::create_directories(in / "sub");
  ASSERT_TRUE(cv::imwrite((in / "a.png").string(), testing::synthetic_photo(40, 56, rng, &c)));
  ASSERT_TRUE(
      cv::imwrite((in / "sub" / "b.jpg").string(), testing::synthetic_photo(30, 50, rng, &c)));
  std::string log;
  ASSERT_EQ(test({"-p", in.string()}, &log), 0) << log;
  const fs::path results = dir_.path() / "results";
  EXPECT_TRUE(fs::exists(results / "images" / "a.jpeg")) << log;
  EXPECT_TRUE(fs::exists(results / "images" / "sub" / "b.jpeg")) << log;
  EXPECT_EQ(play(results / "videos" / "clip.mp4").frames.size(), 6u) << log;
  EXPECT_FALSE(fs::exists(results / "images" / "clip.jpeg"));
  // With -o, everything goes to that folder; an output never replaces an input.
  ASSERT_EQ(test({"-p", in.string(), "-o", in.string()}, &log), 2) << log;
  EXPECT_NE(log.find("'" + (in / "clip.mp4").string() + "' (from '" + (in / "clip.mp4").string() +
                     "') would replace the input"),
            std::string::npos)
      << log;
  EXPECT_EQ(play(in / "clip.mp4").frames.size(), 6u) << "the input is untouched";
  std::ofstream(in / "clip.jpg") << "x";  // clip.jpg's map and clip.mp4's array: clip.npy
  ASSERT_EQ(test({"-p", in.string(), "-o", (dir_.path() / "o").string(), "--format", "npy"}, &log),
            2)
      << log;
  EXPECT_NE(log.find("would both be written to '" + (dir_.path() / "o" / "clip.npy").string()),
            std::string::npos)
      << log;
}

// Ctrl-C in the middle of a video leaves neither its .mp4 nor a temporary: nothing, not half.
TEST_F(TestVideo, AnInterruptedVideoLeavesNothing) {
  const fs::path clip = dir_.path() / "in" / "long.avi";
  make_video(clip, /*frames=*/400, /*h=*/48, /*w=*/64, /*fps=*/25);
  const fs::path out = dir_.path() / "out";
  testing::Process p(
      {testing::msinet_binary(), "test", "--weights", weights().string(), "--size", "48x64",
       "--device", "cpu", "--threads", "2", "-p", clip.string(), "-o", out.string()},
      dir_.path());
  // The temporary folder appears with the first frame written.
  bool started = false;
  for (int i = 0; i < 600 && !started; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(out, ec)) {
      started = started || e.path().extension() == ".tmp";
    }
  }
  ASSERT_TRUE(started) << p.output();
  p.signal(SIGINT);
  const int rc = p.wait();
  if (rc == 0) GTEST_SKIP() << "the 400 frames were done before the signal arrived";
  EXPECT_EQ(rc, 130) << p.output();
  EXPECT_NE(p.output().find("test interrupted in '" + clip.string() + "' after "),
            std::string::npos)
      << p.output();
  EXPECT_TRUE(fs::is_empty(out)) << "an interrupted video leaves no file and no temporary";
}

// The writers in process: nothing is left without finish(); finish() gives a complete file.
TEST(VideoWriters, NothingWithoutFinishACompleteFileWithIt) {
  TempDir dir("video-writers");
  const fs::path path = dir.path() / "v.mp4", npy = dir.path() / "m.npy";
  {
    data::VideoFileWriter writer(path, /*fps=*/5);
    data::NpyFramesWriter maps(npy);
    for (int i = 0; i < 3; ++i) {
      writer.write(cv::Mat(16, 24, CV_8UC3, cv::Scalar(10 * i, 20, 30)));
      maps.write(cv::Mat(16, 24, CV_32FC1, cv::Scalar(0.25f * i)));
    }
  }
  EXPECT_TRUE(fs::is_empty(dir.path())) << "an unfinished writer leaves nothing behind";
  data::VideoFileWriter writer(path, /*fps=*/5);
  data::NpyFramesWriter maps(npy);
  for (int i = 0; i < 3; ++i) {
    writer.write(cv::Mat(16, 24, CV_8UC3, cv::Scalar(10 * i, 20, 30)));
    maps.write(cv::Mat(16, 24, CV_32FC1, cv::Scalar(0.25f * i)));
  }
  writer.finish();
  maps.finish();
  EXPECT_EQ(play(path).frames.size(), 3u);
  const Npy m = read_npy(npy);
  EXPECT_EQ(m.shape, (std::vector<int64_t>{3, 16, 24}));
  ASSERT_EQ(m.values.size(), 3u * 16 * 24);
  EXPECT_EQ(m.values[2 * 16 * 24 + 5], 0.5f);
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) entries += e.is_directory() ? 100 : 1;
  EXPECT_EQ(entries, 2u) << "the two files, no temporary folder";
  // The count field is as wide for one frame as for billions: the header never moves.
  EXPECT_EQ(data::npy_frames_header(1, 16, 24).size(),
            data::npy_frames_header(int64_t{1} << 40, 16, 24).size());
  EXPECT_EQ(data::npy_frames_header(7, 480, 640).size() % 64, 0u);
}

}  // namespace
}  // namespace msinet
