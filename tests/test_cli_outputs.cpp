// `msinet test` never loses data through its outputs: an output that would replace an input or
// another output is refused before anything is written, the output folder inside the input is
// not read back as input, and a folder link cycle is listed once. The overlay pictures: their
// sizes and pixels against a blend worked out here from the map the run wrote.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "msinet/bench/bench.h"
#include "test_support.h"
#include "tools/synthetic_photo.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using testing::run_msinet;
using testing::TempDir;

class TestOutputs : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(testing::msinet_binary())) << "build the msinet target first";
    bench::write_random_weights(weights(), /*seed=*/3);
  }
  fs::path weights() const { return dir_.path() / "w.msinet"; }
  void photo(const fs::path& path, int seed) {
    fs::create_directories(path.parent_path());
    cv::RNG rng(seed);
    cv::Point c;
    ASSERT_TRUE(cv::imwrite(path.string(), testing::synthetic_photo(40, 56, rng, &c)));
  }
  int test(const std::vector<std::string>& extra, std::string* log) {
    std::vector<std::string> args = {"test", "--weights", weights().string(), "--size", "48x64"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_msinet(args, dir_.path(), log);
  }
  size_t files_under(const fs::path& d) {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(d)) n += e.is_regular_file() ? 1 : 0;
    return n;
  }
  TempDir dir_{"outputs"};
};

TEST_F(TestOutputs, AMapNeverReplacesItsInput) {
  const fs::path d = dir_.path() / "photos";
  photo(d / "x.jpeg", 1);
  photo(d / "y.png", 2);
  const std::string before = testing::read_file_bytes(d / "x.jpeg");
  std::string log;
  EXPECT_EQ(test({"-p", d.string(), "-o", d.string()}, &log), 2) << log;
  EXPECT_NE(log.find("would replace the input '" + (d / "x.jpeg").string() + "'"),
            std::string::npos)
      << log;
  EXPECT_EQ(testing::read_file_bytes(d / "x.jpeg"), before);
  EXPECT_FALSE(fs::exists(d / "y.jpeg")) << "nothing is written when one output is refused";
  EXPECT_EQ(test({"-p", d.string(), "-o", d.string(), "--format", "png"}, &log), 2) << log;
  EXPECT_NE(log.find("would replace the input '" + (d / "y.png").string() + "'"), std::string::npos)
      << log;
}

TEST_F(TestOutputs, CollidingNamesAreRefusedNamingBothInputs) {
  const fs::path d = dir_.path() / "photos";
  photo(d / "a.jpg", 1);
  photo(d / "a.png", 2);
  const fs::path out = dir_.path() / "maps";
  std::string log;
  EXPECT_EQ(test({"-p", d.string(), "-o", out.string()}, &log), 2) << log;
  EXPECT_NE(log.find("'" + (d / "a.jpg").string() + "' and '" + (d / "a.png").string() +
                     "' would both be written to '" + (out / "a.jpeg").string() + "'"),
            std::string::npos)
      << log;
  EXPECT_FALSE(fs::exists(out / "a.jpeg"));

  const fs::path e = dir_.path() / "overlays";
  photo(e / "x.jpg", 3);
  photo(e / "x_overlay.jpg", 4);
  EXPECT_EQ(test({"-p", e.string(), "-o", out.string(), "--overlay"}, &log), 2) << log;
  EXPECT_NE(log.find("would both be written to '" + (out / "x_overlay.jpeg").string() + "'"),
            std::string::npos)
      << log;
  EXPECT_EQ(test({"-p", e.string(), "-o", out.string()}, &log), 0) << log;  // no overlays: fine
}

TEST_F(TestOutputs, TheOutputFolderInsideTheInputIsNotReadBack) {
  const fs::path d = dir_.path() / "photos";
  photo(d / "a.jpg", 1);
  photo(d / "sub" / "b.png", 2);
  const fs::path out = d / "maps";
  std::string log;
  for (int run = 0; run < 3; ++run) {
    ASSERT_EQ(test({"-p", d.string(), "-o", out.string()}, &log), 0) << log;
    EXPECT_NE(log.find("wrote 2 map(s)"), std::string::npos) << log;
  }
  EXPECT_EQ(files_under(out), 2u);
  EXPECT_FALSE(fs::exists(out / "maps"));
}

TEST_F(TestOutputs, AFolderLinkCycleIsListedOnce) {
  const fs::path d = dir_.path() / "photos";
  photo(d / "a.jpg", 1);
  photo(d / "sub" / "b.jpg", 2);
  fs::create_directory_symlink("..", d / "sub" / "up");
  fs::create_directory_symlink("../sub", d / "sub" / "again");
  const fs::path out = dir_.path() / "maps";
  std::string log;
  ASSERT_EQ(test({"-p", d.string(), "-o", out.string()}, &log), 0) << log;
  EXPECT_NE(log.find("wrote 2 map(s)"), std::string::npos) << log;
  EXPECT_NE(log.find("skipped '" + (d / "sub" / "up").string() + "'"), std::string::npos) << log;
  EXPECT_NE(log.find("skipped '" + (d / "sub" / "again").string() + "'"), std::string::npos) << log;
  EXPECT_EQ(files_under(out), 2u);
}

TEST_F(TestOutputs, ATruncatedJpegIsReportedNotMapped) {
  const fs::path d = dir_.path() / "photos";
  photo(d / "good.jpg", 1);
  photo(d / "cut.jpg", 2);
  const std::string whole = testing::read_file_bytes(d / "cut.jpg");
  std::ofstream(d / "cut.jpg", std::ios::binary) << whole.substr(0, whole.size() / 2);
  const fs::path out = dir_.path() / "maps";
  std::string log;
  EXPECT_EQ(test({"-p", d.string(), "-o", out.string()}, &log), 7) << log;
  EXPECT_NE(log.find((d / "cut.jpg").string() + "': truncated JPEG"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(out / "good.jpeg"));
  EXPECT_FALSE(fs::exists(out / "cut.jpeg"));
}

// A PNG whose header declares width x height, with no image data after it: only a decoder that
// trusts the header would allocate width x height pixels for it.
std::string png_declaring(uint32_t width, uint32_t height) {
  std::string bytes;
  const unsigned char signature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  bytes.append(reinterpret_cast<const char*>(signature), 8);
  auto be32 = [&bytes](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(v >> shift));
  };
  be32(13);
  bytes += "IHDR";
  be32(width);
  be32(height);
  bytes += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB
  be32(0);                                          // CRC, not reached
  return bytes;
}

TEST_F(TestOutputs, AnImageOverThePixelLimitIsRefusedFromItsHeader) {
  const fs::path d = dir_.path() / "photos";
  photo(d / "good.jpg", 1);
  std::ofstream(d / "huge.png", std::ios::binary) << png_declaring(30000, 30000);
  const fs::path out = dir_.path() / "maps";
  std::string log;
  EXPECT_EQ(test({"-p", d.string(), "-o", out.string()}, &log), 7) << log;
  EXPECT_NE(log.find((d / "huge.png").string() +
                     "': it declares 30000x30000 pixels (900.0 megapixels), over the limit of "
                     "100 megapixels; raise the key max_image_megapixels"),
            std::string::npos)
      << log;
  EXPECT_TRUE(fs::exists(out / "good.jpeg"));
  // The limit is a configuration key (here from the environment): 1200x1000 is over 1 megapixel.
  cv::RNG rng(4);
  cv::Point c;
  ASSERT_TRUE(cv::imwrite((d / "big.png").string(), testing::synthetic_photo(1200, 1000, rng, &c)));
  EXPECT_EQ(run_msinet({"test", "--weights", weights().string(), "--size", "48x64", "-p",
                        (d / "big.png").string(), "-o", out.string()},
                       dir_.path(), &log, {"MSINET_MAX_IMAGE_MEGAPIXELS=1"}),
            7)
      << log;
  EXPECT_NE(log.find("it declares 1200x1000 pixels (1.2 megapixels), over the limit of 1 "
                     "megapixels"),
            std::string::npos)
      << log;
}

TEST_F(TestOutputs, ACorruptPngIsReportedInMsinetsWordsOnly) {
  const fs::path d = dir_.path() / "photos";
  photo(d / "bad.png", 1);
  std::string bytes = testing::read_file_bytes(d / "bad.png");
  const size_t idat = bytes.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  std::ofstream(d / "bad.png", std::ios::binary) << bytes.substr(0, idat + 40);  // cut in IDAT
  std::string log;
  EXPECT_EQ(test({"-p", d.string(), "-o", (dir_.path() / "maps").string()}, &log), 7) << log;
  EXPECT_NE(log.find((d / "bad.png").string() + "': corrupt or truncated PNG data ("),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("libpng"), std::string::npos) << "libpng printed on its own:\n" << log;
}

// Out of memory has its own exit code: the address space is limited to 6 GiB, and an input
// size of 4096x4096 needs about 4 GiB for the first layer's output alone, more for the rest.
TEST_F(TestOutputs, OutOfMemoryIsExitElevenWithAMessage) {
  const fs::path d = dir_.path() / "photos";
  photo(d / "a.jpg", 1);
  testing::Process p(
      {"/bin/sh", "-c", "ulimit -v 6291456 && exec \"$0\" \"$@\"", testing::msinet_binary(), "test",
       "--weights", weights().string(), "--size", "4096x4096", "--threads", "1", "-p", d.string(),
       "-o", (dir_.path() / "maps").string()},
      dir_.path());
  const int rc = p.wait();
  EXPECT_EQ(rc, 11) << p.output();
  EXPECT_NE(p.output().find("error: out of memory"), std::string::npos) << p.output();
}

TEST_F(TestOutputs, AFifoIsNotAnImageOrAFolder) {
  const fs::path fifo = dir_.path() / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string log;
  EXPECT_EQ(test({"-p", fifo.string()}, &log), 4) << log;
  EXPECT_NE(log.find("is not an image or a folder"), std::string::npos) << log;
}

TEST_F(TestOutputs, TemporariesOfKilledRunsAreRemoved) {
  const fs::path d = dir_.path() / "photos";
  photo(d / "a.jpg", 1);
  const fs::path out = dir_.path() / "maps";
  fs::create_directories(out);
  const fs::path stale = out / ".a.jpeg.999999999.3.tmp";  // no process has this PID
  const fs::path live = out / (".b.jpeg." + std::to_string(::getpid()) + ".0.tmp");
  std::ofstream(stale) << "left by kill -9";
  std::ofstream(live) << "being written";
  std::string log;
  ASSERT_EQ(test({"-p", d.string(), "-o", out.string()}, &log), 0) << log;
  EXPECT_NE(log.find("removed '" + stale.string() + "'"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live)) << "a live process's temporary is left alone";
}

// Mean absolute difference of two 8-bit images of one size (JPEG outputs: small, not zero).
double mean_difference(const cv::Mat& a, const cv::Mat& b) {
  EXPECT_EQ(a.size(), b.size());
  EXPECT_EQ(a.type(), b.type());
  if (a.size() != b.size() || a.type() != b.type()) return 255;
  cv::Mat d;
  cv::absdiff(a, b, d);
  const cv::Scalar m = cv::mean(d);
  return (m[0] + m[1] + m[2]) / 3;
}

TEST_F(TestOutputs, OverlaySideBySideAndColourBarPictures) {
  // Smooth gradients (no noise, which JPEG would not keep).
  constexpr int kH = 120, kW = 168;
  const fs::path d = dir_.path() / "photos";
  fs::create_directories(d);
  cv::Mat bgr(kH, kW, CV_8UC3);
  for (int y = 0; y < kH; ++y) {
    for (int x = 0; x < kW; ++x) {
      bgr.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uchar>(60 + x), static_cast<uchar>(50 + y), 140);
    }
  }
  ASSERT_TRUE(cv::imwrite((d / "x.png").string(), bgr));
  const fs::path out = dir_.path() / "maps";
  std::string log;
  ASSERT_EQ(test({"-p", d.string(), "-o", out.string(), "--format", "png", "--overlay",
                  "--colormap", "jet", "--alpha", "0.5", "--side-by-side", "--colorbar"},
                 &log),
            0)
      << log;
  const cv::Mat map = cv::imread((out / "x.png").string(), cv::IMREAD_GRAYSCALE);
  const cv::Mat overlay = cv::imread((out / "x_overlay.jpeg").string());
  const cv::Mat side = cv::imread((out / "x_side.jpeg").string());
  ASSERT_EQ(map.size(), cv::Size(kW, kH));
  ASSERT_EQ(overlay.rows, kH);
  ASSERT_GT(overlay.cols, kW + 8) << "the overlay and its colour bar";
  ASSERT_EQ(side.rows, kH);
  EXPECT_EQ(side.cols, overlay.cols + 2 * kW) << "image | map | overlay, then the same bar";
  // The blend, from the written map: image * (1 - 0.5 s) + jet(map) * 0.5 s, s = map / 255; and
  // the flat blend image * 0.5 + jet(map) * 0.5 it must not be.
  cv::Mat jet, flat;
  cv::applyColorMap(map, jet, cv::COLORMAP_JET);
  cv::addWeighted(bgr, 0.5, jet, 0.5, 0.0, flat);
  cv::Mat want(bgr.size(), CV_8UC3);
  for (int y = 0; y < kH; ++y) {
    for (int x = 0; x < kW; ++x) {
      const double a = 0.5 * map.at<uchar>(y, x) / 255.0;
      for (int k = 0; k < 3; ++k) {
        want.at<cv::Vec3b>(y, x)[k] = cv::saturate_cast<uchar>(
            bgr.at<cv::Vec3b>(y, x)[k] * (1 - a) + jet.at<cv::Vec3b>(y, x)[k] * a);
      }
    }
  }
  const cv::Mat panel_overlay = side.colRange(2 * kW, 3 * kW);
  // Measured JPEG (quality 95) loss here: 0.7 on the photo, 1.5 on the overlay, 3.9 on the
  // saturated jet map; the flat blend is 22 away.
  EXPECT_LT(mean_difference(overlay.colRange(0, kW), want), 3.0);
  EXPECT_GT(mean_difference(overlay.colRange(0, kW), flat), 10.0) << "not a flat blend";
  EXPECT_LT(mean_difference(side.colRange(0, kW), bgr), 2.0) << "the photo on the left";
  EXPECT_LT(mean_difference(side.colRange(kW, 2 * kW), jet), 6.0) << "the coloured map";
  EXPECT_LT(mean_difference(panel_overlay, want), 3.0) << "the overlay on the right";
  // The bar: some column right of the image runs from jet(255) at the top to jet(0) below.
  const cv::Vec3b high(0, 0, 128), low(128, 0, 0);  // OpenCV's jet ends, BGR
  auto near = [](const cv::Vec3b& p, const cv::Vec3b& q) { return cv::norm(p, q) < 60; };
  int strip = 0;
  for (int x = kW; x < overlay.cols; ++x) {
    if (near(overlay.at<cv::Vec3b>(0, x), high) && near(overlay.at<cv::Vec3b>(kH - 1, x), low)) {
      ++strip;
    }
  }
  EXPECT_GE(strip, 4) << "within JPEG's loss";

  // The same from a configuration file: gray, alpha 1, the side-by-side image without --overlay.
  const fs::path cfg = dir_.path() / "overlay.yaml";
  std::ofstream(cfg) << "overlay_colormap: gray\noverlay_alpha: 1\noverlay_side_by_side: \"on\"\n";
  const fs::path out2 = dir_.path() / "maps2";
  ASSERT_EQ(test({"-p", d.string(), "-o", out2.string(), "--config", cfg.string()}, &log), 0)
      << log;
  EXPECT_FALSE(fs::exists(out2 / "x_overlay.jpeg"));
  const cv::Mat side2 = cv::imread((out2 / "x_side.jpeg").string());
  ASSERT_EQ(side2.size(), cv::Size(3 * kW, kH));
  cv::Mat grey;
  cv::cvtColor(map, grey, cv::COLOR_GRAY2BGR);
  EXPECT_LT(mean_difference(side2.colRange(kW, 2 * kW), grey), 2.0) << "gray: the map as grey";

  EXPECT_EQ(test({"-p", d.string(), "-o", out2.string(), "--alpha", "0"}, &log), 3) << log;
  EXPECT_NE(log.find("overlay_alpha"), std::string::npos) << log;
  EXPECT_NE(log.find("(0, 1]"), std::string::npos) << log;
  EXPECT_EQ(test({"-p", d.string(), "-o", out2.string(), "--colormap", "hot"}, &log), 3) << log;
  EXPECT_NE(log.find("overlay_colormap"), std::string::npos) << log;
}

}  // namespace
}  // namespace msinet
