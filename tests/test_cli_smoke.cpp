// End-to-end: the real binary trains on a tiny dataset made here, is interrupted and resumes,
// then writes maps in every format.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_support.h"
#include "tools/synthetic_photo.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using testing::read_lines;
using testing::run_msinet;
using testing::TempDir;

// A small photo-like image (gradients and shapes) and a blob-shaped map.
void make_pair(const fs::path& dir, const std::string& stem, int h, int w, int seed) {
  cv::RNG rng(seed);
  cv::Point c;
  const cv::Mat img = testing::synthetic_photo(h, w, rng, &c);
  cv::Mat map(h, w, CV_8UC1, cv::Scalar(0));
  cv::circle(map, c, std::min(h, w) / 5, cv::Scalar(255), cv::FILLED);
  cv::GaussianBlur(map, map, cv::Size(0, 0), std::min(h, w) / 10.0);
  fs::create_directories(dir / "stimuli");
  fs::create_directories(dir / "maps");
  ASSERT_TRUE(cv::imwrite((dir / "stimuli" / (stem + ".jpg")).string(), img));
  ASSERT_TRUE(cv::imwrite((dir / "maps" / (stem + ".png")).string(), map));
}

class Smoke : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(testing::msinet_binary())) << "build the msinet target first";
    const int sizes[][2] = {{60, 80}, {48, 64}, {90, 60}, {40, 100},
                            {64, 64}, {50, 70}, {72, 96}, {30, 40}};
    for (int i = 0; i < 8; ++i)
      make_pair(dir(), "img" + std::to_string(i), sizes[i][0], sizes[i][1], i + 1);
    util_write(dir() / "tiny.yaml",
               "stimuli: stimuli\nsaliency: maps\nsize: 48x64\nvalid_fraction: 0.25\nseed: 7\n");
  }
  static void util_write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
  const fs::path& dir() const { return tmp_.path(); }
  std::vector<std::string> train_args(int epochs) const {
    return {"train",
            "-d",
            (dir() / "tiny.yaml").string(),
            "--init",
            "random",
            "--size",
            "48x64",
            "--epochs",
            std::to_string(epochs),
            "--results-dir",
            (dir() / "results").string(),
            "--threads",
            "2",
            "--device",
            "cpu"};
  }
  TempDir tmp_{"smoke"};
};

TEST_F(Smoke, TrainInterruptResumeThenTestEveryFormat) {
  std::string out;
  ASSERT_EQ(run_msinet(train_args(2), dir(), &out), 0) << out;
  const fs::path results = dir() / "results";
  const fs::path hist = results / "history" / "tiny";
  ASSERT_EQ(read_lines(hist / "train_loss.txt").size(), 2u) << out;
  ASSERT_EQ(read_lines(hist / "valid_loss.txt").size(), 2u);
  for (const auto& line : read_lines(hist / "train_loss.txt")) EXPECT_GT(std::stod(line), 0.0);
  const cv::Mat curve = cv::imread((hist / "loss_curve.png").string());
  EXPECT_FALSE(curve.empty());
  EXPECT_EQ(read_lines(hist / "valid_files.txt").size(), 2u);  // 25% of 8
  const fs::path best = results / "ckpts" / "best" / "tiny.msinet";
  ASSERT_TRUE(fs::exists(best));
  ASSERT_TRUE(fs::exists(results / "ckpts" / "latest" / "tiny.msinet"));

  // Running again with the same epoch count resumes and has nothing left to do.
  ASSERT_EQ(run_msinet(train_args(2), dir(), &out), 0) << out;
  EXPECT_NE(out.find("resuming"), std::string::npos) << out;
  EXPECT_EQ(read_lines(hist / "train_loss.txt").size(), 2u);

  // Interrupt a longer run once its third epoch is under way; it saves and exits with 130.
  {
    std::vector<std::string> args = {testing::msinet_binary()};
    for (const auto& a : train_args(40)) args.push_back(a);
    testing::Process p(args, dir());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    while (read_lines(hist / "train_loss.txt").size() < 3 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    p.signal(SIGINT);
    EXPECT_EQ(p.wait(), 130) << p.output();
    EXPECT_NE(p.output().find("run the same command again to resume"), std::string::npos)
        << p.output();
  }
  const auto before = read_lines(hist / "train_loss.txt");
  ASSERT_GE(before.size(), 3u);
  ASSERT_LT(before.size(), 40u);
  // Resume to one more epoch than was finished: history grows by exactly one line and keeps its
  // past.
  const int target = static_cast<int>(before.size()) + 1;
  ASSERT_EQ(run_msinet(train_args(target), dir(), &out), 0) << out;
  const auto after = read_lines(hist / "train_loss.txt");
  ASSERT_EQ(after.size(), before.size() + 1);
  EXPECT_TRUE(std::equal(before.begin(), before.end(), after.begin()));

  // Test on the stimuli plus one corrupt file: every good image gets a map of its own size.
  const fs::path images = dir() / "stimuli";
  std::ofstream(images / "broken.jpg") << "this is not a JPEG";
  for (const std::string fmt : {"jpg", "png", "npy"}) {
    const fs::path o = dir() / ("maps-" + fmt);
    const int rc = run_msinet({"test", "-d", (dir() / "tiny.yaml").string(), "-p", images.string(),
                               "-o", o.string(), "--weights", best.string(), "--format", fmt,
                               "--batch-size", "3", "--overlay", "--device", "cpu"},
                              dir(), &out);
    EXPECT_EQ(rc, 7) << out;  // some images failed
    EXPECT_NE(out.find("broken.jpg"), std::string::npos) << out;
    for (int i = 0; i < 8; ++i) {
      const std::string stem = "img" + std::to_string(i);
      const cv::Mat src = cv::imread((images / (stem + ".jpg")).string());
      const std::string ext = fmt == "jpg" ? ".jpeg" : "." + fmt;
      const fs::path map = o / (stem + ext);
      ASSERT_TRUE(fs::exists(map)) << map;
      if (fmt == "npy") {
        // NumPy v1.0 header: shape (h, w), little-endian float32.
        std::ifstream in(map, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        ASSERT_EQ(bytes.substr(0, 6), "\x93NUMPY");
        const std::string shape =
            "(" + std::to_string(src.rows) + ", " + std::to_string(src.cols) + ")";
        EXPECT_NE(bytes.find(shape), std::string::npos) << bytes.substr(0, 128);
        EXPECT_NE(bytes.find("'<f4'"), std::string::npos);
      } else {
        const cv::Mat m = cv::imread(map.string(), cv::IMREAD_UNCHANGED);
        ASSERT_FALSE(m.empty()) << map;
        EXPECT_EQ(m.channels(), 1);
        EXPECT_EQ(m.rows, src.rows);
        EXPECT_EQ(m.cols, src.cols);
      }
      const cv::Mat ov = cv::imread((o / (stem + "_overlay.jpeg")).string());
      EXPECT_EQ(ov.rows, src.rows);
      EXPECT_EQ(ov.cols, src.cols);
    }
  }
}

// A non-finite loss stops with exit 9 and says what is really kept; temporaries that a killed
// run left beside the checkpoints are removed at the next start.
TEST_F(Smoke, DivergenceSaysWhatIsKept) {
  std::vector<std::string> diverging = train_args(1);
  diverging.insert(diverging.end(), {"--lr", "1e12"});  // weights overflow after one step
  std::string out;
  EXPECT_EQ(run_msinet(diverging, dir(), &out), 9) << out;
  EXPECT_NE(out.find("no checkpoint was kept"), std::string::npos) << out;
  const fs::path latest = dir() / "results" / "ckpts" / "latest" / "tiny.msinet";
  EXPECT_FALSE(fs::exists(latest));

  const fs::path stale = latest.parent_path() / ".tiny.msinet.999999999.0.tmp";  // no such PID
  const fs::path live =
      latest.parent_path() / (".tiny.msinet." + std::to_string(::getpid()) + ".0.tmp");
  fs::create_directories(latest.parent_path());
  std::ofstream(stale) << "left by kill -9";
  std::ofstream(live) << "being written by a live process";
  ASSERT_EQ(run_msinet(train_args(1), dir(), &out), 0) << out;
  EXPECT_NE(out.find("removed '" + stale.string() + "'"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
  const std::string saved = testing::read_file_bytes(latest);

  diverging = train_args(2);
  diverging.insert(diverging.end(), {"--lr", "1e12"});
  EXPECT_EQ(run_msinet(diverging, dir(), &out), 9) << out;
  EXPECT_NE(out.find("the last good state is kept in '" + latest.string() + "'"), std::string::npos)
      << out;
  EXPECT_EQ(testing::read_file_bytes(latest), saved);
}

// Two runs on one results folder would overwrite each other's checkpoints: the second is refused
// naming the first's PID; after a kill -9 the next run takes the lock over and says so.
TEST_F(Smoke, ASecondRunOnTheSameResultsIsRefused) {
  std::vector<std::string> args = {testing::msinet_binary()};
  for (const auto& a : train_args(40)) args.push_back(a);
  testing::Process first(args, dir());
  const fs::path lock = dir() / "results" / ".tiny.train.lock";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (testing::read_lines(lock).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::vector<std::string> holder = testing::read_lines(lock);
  ASSERT_EQ(holder.size(), 1u) << first.output();
  std::string out;
  EXPECT_EQ(run_msinet(train_args(1), dir(), &out), 8) << out;
  EXPECT_NE(out.find("another msinet process (PID " + holder[0] + ") is training 'tiny'"),
            std::string::npos)
      << out;
  first.signal(SIGKILL);
  EXPECT_EQ(first.wait(), 128 + SIGKILL);
  ASSERT_EQ(testing::read_lines(lock), holder) << "kill -9 leaves the lock file behind";
  EXPECT_EQ(run_msinet(train_args(1), dir(), &out), 0) << out;
  EXPECT_NE(out.find("took over the lock '" + lock.string() + "' of PID " + holder[0]),
            std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(lock)) << "a run that ends removes its lock";
}

// Maps of another size than their stimuli (here transposed) train, as in the original, but are
// reported once per dataset with the count.
TEST_F(Smoke, MapsOfAnotherSizeAreReportedOnce) {
  // Every map changes size: the non-square ones are transposed, img4's (64x64) is shrunk.
  for (int i = 0; i < 8; ++i) {
    const fs::path map = dir() / "maps" / ("img" + std::to_string(i) + ".png");
    cv::Mat m = cv::imread(map.string(), cv::IMREAD_GRAYSCALE), t;
    if (i == 4) {
      cv::resize(m, t, cv::Size(48, 32));
    } else {
      cv::transpose(m, t);
    }
    ASSERT_TRUE(cv::imwrite(map.string(), t));
  }
  std::string out;
  ASSERT_EQ(run_msinet(train_args(2), dir(), &out), 0) << out;
  // 6 of the 8 pairs train (valid_fraction 0.25); all are transposed unless img4 is among them.
  bool img4_validates = false;
  for (const std::string& line :
       read_lines(dir() / "results" / "history" / "tiny" / "valid_files.txt")) {
    img4_validates = img4_validates || line.find("img4.") != std::string::npos;
  }
  const std::string message =
      "6 of the 6 training pairs read have a map of another size than "
      "its stimulus (" +
      std::to_string(img4_validates ? 6 : 5) + " of them transposed)";
  const size_t at = out.find(message);
  EXPECT_NE(at, std::string::npos) << out;
  EXPECT_EQ(out.find(message, at + 1), std::string::npos) << "reported once, not per epoch";
}

TEST_F(Smoke, CommandLineErrorsHaveTheirExitCodes) {
  std::string out;
  EXPECT_EQ(run_msinet({"test"}, dir(), &out), 2) << out;  // -p missing
  EXPECT_EQ(run_msinet({"frobnicate"}, dir(), &out), 2) << out;
  EXPECT_EQ(run_msinet({"test", "-p", dir().string(), "--size", "50x50"}, dir(), &out), 3) << out;
  EXPECT_NE(out.find("size"), std::string::npos) << out;
  EXPECT_EQ(run_msinet({"test", "-p", (dir() / "stimuli").string(), "--weights",
                        (dir() / "w.msinet").string()},
                       dir(), &out),
            5)
      << out;
  EXPECT_NE(out.find("w.msinet"), std::string::npos) << out;
  const fs::path bad = dir() / "bad.yaml";
  util_write(bad, "epochs: 2\nmystery: 1\n");
  EXPECT_EQ(run_msinet({"train", "-d", "osie", "--config", bad.string()}, dir(), &out), 3) << out;
  EXPECT_NE(out.find("mystery"), std::string::npos) << out;
  EXPECT_EQ(run_msinet({"train", "-d", "osie", "--device", "cuda", "--print-config"}, dir(), &out),
            0)
      << out;
  EXPECT_NE(out.find("device: cuda  # flag"), std::string::npos) << out;
  // Fine-tuning refuses to start without the SALICON checkpoint.
  EXPECT_EQ(run_msinet({"train", "-d", (dir() / "tiny.yaml").string(), "--init", "salicon",
                        "--results-dir", (dir() / "r2").string()},
                       dir(), &out),
            5)
      << out;
  EXPECT_NE(out.find("msinet train -d salicon"), std::string::npos) << out;
}

TEST_F(Smoke, HelpShowsDefaults) {
  std::string out;
  EXPECT_EQ(run_msinet({"train", "--help"}, dir(), &out), 0);
  EXPECT_NE(out.find("--epochs"), std::string::npos);
  EXPECT_NE(out.find("default: 10"), std::string::npos) << out;
}

}  // namespace
}  // namespace msinet
