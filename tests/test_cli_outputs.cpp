// `msinet test` never loses data through its outputs: an output that would replace an input or
// another output is refused before anything is written, the output folder inside the input is
// not read back as input, and a folder link cycle is listed once.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>
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

}  // namespace
}  // namespace msinet
