// What `train` and `download` check before anything is fetched, their --dry-run plans, and the
// warning of `test` for a checkpoint run at another size than it was trained at; all through the
// real binary. A download would be visible: the mirror is a loopback server that logs every
// request (tests/tools/http_server.py), and the data folders are listed before and after.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "test_support.h"
#include "tools/http_server.h"
#include "tools/synthetic_photo.h"

namespace fs = std::filesystem;

namespace {

using msinet::testing::HttpServer;
using msinet::testing::listing;
using msinet::testing::run_msinet;
using msinet::testing::TempDir;

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void write_photo(const fs::path& file, int seed) {
  cv::RNG rng(seed);
  cv::Point centre;
  fs::create_directories(file.parent_path());
  ASSERT_TRUE(cv::imwrite(file.string(), msinet::testing::synthetic_photo(48, 64, rng, &centre)));
}

void write_map(const fs::path& file, int seed) {
  cv::Mat map(48, 64, CV_8UC1, cv::Scalar(0));
  cv::circle(map, cv::Point(10 + 5 * seed, 24), 8, cv::Scalar(255), cv::FILLED);
  cv::GaussianBlur(map, map, cv::Size(0, 0), 4.0);
  fs::create_directories(file.parent_path());
  ASSERT_TRUE(cv::imwrite(file.string(), map));
}

class CliPreflight : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("MSINET_MIRROR");
    ::unsetenv("MSINET_SIZE");
    ::unsetenv("MSINET_INIT");
    fs::create_directories(root() / "served");
    server_ = std::make_unique<HttpServer>(root() / "served", log());
    std::ofstream(config()) << "mirror: " << server_->base() << "\nthreads: 2\n";
  }

  const fs::path& root() const { return tmp_.path(); }
  fs::path log() const { return root() / "requests.log"; }
  fs::path config() const { return root() / "config.yaml"; }
  fs::path results() const { return root() / "results"; }
  fs::path weights() const { return root() / "weights"; }
  size_t requests() const { return msinet::testing::read_log_lines(log()).size(); }

  // msinet COMMAND ARGS with this test's configuration (the logging mirror) and folders.
  int msinet(const std::vector<std::string>& args, std::string* out) const {
    std::vector<std::string> full = args;
    full.insert(full.end(),
                {"--config", config().string(), "--data-dir", (root() / "data").string(),
                 "--results-dir", results().string(), "--weights-dir", weights().string()});
    return run_msinet(full, root(), out);
  }

  // A dataset YAML file: 7 pairs, the 2 named in `valid` validate, at 32x32.
  fs::path make_yaml_dataset() const {
    const fs::path dir = root() / "mine";
    for (int i = 0; i < 7; ++i) {
      write_photo(dir / "images" / ("img" + std::to_string(i) + ".png"), i);
      write_map(dir / "maps" / ("img" + std::to_string(i) + ".png"), i);
    }
    const fs::path yaml = dir / "mine.yaml";
    std::ofstream(yaml) << "name: mine\nstimuli: images\nsaliency: maps\nsize: 32x32\n"
                           "valid: [img2.png, img5.png]\n";
    return yaml;
  }

  TempDir tmp_{"cli-preflight"};
  std::unique_ptr<HttpServer> server_;
};

// Fine-tuning mit1003 needs the best SALICON checkpoint: without it the run stops with that
// message before a byte of MIT1003 is requested or a folder is made.
TEST_F(CliPreflight, MissingSaliconCheckpointStopsBeforeTheDownload) {
  fs::create_directories(root() / "data");
  std::string out;
  EXPECT_EQ(msinet({"train", "-d", "mit1003"}, &out), 5) << out;
  EXPECT_TRUE(has(out, "starts from the best SALICON checkpoint '" +
                           (results() / "ckpts" / "best" / "salicon.msinet").string() +
                           "', which does not exist"))
      << out;
  EXPECT_TRUE(has(out, "--init random")) << out;
  EXPECT_EQ(requests(), 0u);
  EXPECT_TRUE(listing(root() / "data").empty());
  EXPECT_FALSE(fs::exists(results()));

  EXPECT_EQ(msinet({"train", "-d", "mit1003", "--init", "salicon"}, &out), 5) << out;
  EXPECT_TRUE(has(out, "which does not exist")) << out;
  const std::string missing = (root() / "nowhere.msinet").string();
  EXPECT_EQ(msinet({"train", "-d", "mit1003", "--init", missing}, &out), 5) << out;
  EXPECT_TRUE(has(out, "--init '" + missing + "' does not exist")) << out;
  EXPECT_EQ(msinet({"train", "-d", "mit1003", "--dry-run"}, &out), 5) << out;
  EXPECT_TRUE(has(out, "which does not exist")) << out;
  EXPECT_EQ(requests(), 0u);
  EXPECT_TRUE(listing(root() / "data").empty());
}

// A folder of photos given as -p is refused (usage, exit 2) by train and download, with what to
// do instead; nothing is requested and the folder is left as it was.
TEST_F(CliPreflight, FolderOfImagesIsNotADownloadTarget) {
  const fs::path photos = root() / "photos";
  write_photo(photos / "holiday" / "beach.jpg", 1);
  write_photo(photos / "deep" / "er" / "cat.jpeg", 2);
  fs::rename(photos / "deep" / "er" / "cat.jpeg", photos / "deep" / "er" / "cat.JPEG");
  const auto before = listing(photos);
  // train is given an initialisation that needs nothing, so that only the folder can stop it.
  const std::vector<std::vector<std::string>> commands = {
      {"train", "-d", "osie", "-p", photos.string(), "--init", "random"},
      {"download", "-d", "osie", "-p", photos.string()}};
  for (std::vector<std::string> command : commands) {
    std::string out;
    EXPECT_EQ(msinet(command, &out), 2) << out;
    EXPECT_TRUE(has(out, "'" + photos.string() + "' is a folder of images")) << out;
    EXPECT_TRUE(has(out, "not a dataset")) << out;
    EXPECT_TRUE(has(out, "msinet test -p " + photos.string())) << out;
    EXPECT_TRUE(has(out, "\"Your own data\"")) << out;
    EXPECT_TRUE(has(out, "give -p an empty or another folder")) << out;
    command.push_back("--dry-run");
    EXPECT_EQ(msinet(command, &out), 2) << out;
    EXPECT_TRUE(has(out, "is a folder of images")) << out;
  }
  EXPECT_EQ(listing(photos), before);
  EXPECT_EQ(requests(), 0u);

  // A folder that holds a prepared dataset beside its photos is a data folder.
  write_photo(photos / "salicon" / "stimuli" / "a.jpg", 3);
  fs::create_directories(photos / "salicon" / "saliency");
  std::string out;
  EXPECT_EQ(msinet({"download", "-d", "osie", "-p", photos.string(), "--dry-run"}, &out), 0) << out;
}

// The plan of a run on a dataset that is present: its counts (7 pairs, 2 named for validation,
// so 5 train; batch 2 -> ceil(5 / 2) = 3 steps), the initialisation, the device and the files it
// would write, and nothing written.
TEST_F(CliPreflight, DryRunOfAPresentDatasetCountsIt) {
  const fs::path yaml = make_yaml_dataset();
  const auto before = listing(root() / "mine");
  std::string out;
  ASSERT_EQ(msinet({"train", "-d", yaml.string(), "--init", "random", "--epochs", "4",
                    "--batch-size", "2", "--lr", "0.001", "--device", "cpu", "--dry-run"},
                   &out),
            0)
      << out;
  EXPECT_TRUE(has(out, "nothing is downloaded or written")) << out;
  EXPECT_TRUE(has(out, "dataset: mine (dataset file '" + yaml.string() + "')")) << out;
  EXPECT_TRUE(has(out, "images: 5 train / 2 valid (7 pairs)")) << out;
  EXPECT_TRUE(has(out, "train: 32x32, 4 epoch(s), batch size 2, lr 0.001, accumulate 1")) << out;
  EXPECT_TRUE(has(out, "steps: 3 per epoch (5 train images, 2 per step, the last one shorter)"))
      << out;
  EXPECT_TRUE(has(out, "init: random")) << out;
  EXPECT_TRUE(has(out, "device: cpu, 2 thread(s)")) << out;
  EXPECT_TRUE(has(out, "resume: none")) << out;
  EXPECT_TRUE(has(out, "'" + (results() / "ckpts" / "latest" / "mine.msinet").string() + "'"))
      << out;
  EXPECT_TRUE(has(out, "'" + (results() / "history" / "mine").string() + "/'")) << out;
  EXPECT_FALSE(fs::exists(results()));
  EXPECT_EQ(listing(root() / "mine"), before);

  // --accumulate 2 takes 2 x 2 = 4 images a step: ceil(5 / 4) = 2 steps.
  ASSERT_EQ(msinet({"train", "-d", yaml.string(), "--init", "random", "--batch-size", "2",
                    "--accumulate", "2", "--dry-run"},
                   &out),
            0)
      << out;
  EXPECT_TRUE(has(out, "steps: 2 per epoch (5 train images, 4 per step, the last one shorter)"))
      << out;

  // A built-in dataset already prepared: download's plan counts its files and fetches nothing.
  for (int i = 0; i < 4; ++i) {
    write_photo(root() / "data" / "osie" / "stimuli" / (std::to_string(i) + ".jpg"), i);
    write_map(root() / "data" / "osie" / "saliency" / (std::to_string(i) + ".png"), i);
  }
  write_map(root() / "data" / "osie" / "fixations" / "0.png", 0);
  ASSERT_EQ(msinet({"download", "-d", "osie", "--dry-run"}, &out), 0) << out;
  EXPECT_TRUE(has(out, "present: nothing to download or prepare")) << out;
  EXPECT_TRUE(has(out, "images: 4 in stimuli/, 4 in saliency/, 1 in fixations/")) << out;
  EXPECT_EQ(requests(), 0u);
}

// The plan for a dataset that is missing names every URL it would fetch (through the mirror, or
// an override) and where to; the data folder stays empty and the server hears nothing.
TEST_F(CliPreflight, DryRunOfAMissingDatasetNamesItsDownloads) {
  const fs::path data = root() / "empty";
  fs::create_directories(data);
  std::string out;
  ASSERT_EQ(msinet({"train", "-d", "mit1003", "-p", data.string(), "--init", "random", "--dry-run"},
                   &out),
            0)
      << out;
  const std::string base = server_->base();
  EXPECT_TRUE(has(out, "download: mit1003.stimuli " + base +
                           "/people.csail.mit.edu/tjudd/WherePeopleLook/ALLSTIMULI.zip"))
      << out;
  EXPECT_TRUE(has(out, "download: mit1003.maps " + base +
                           "/people.csail.mit.edu/tjudd/WherePeopleLook/ALLFIXATIONMAPS.zip"))
      << out;
  EXPECT_TRUE(has(out, "-> '" + (data / "downloads" / "mit1003-ALLSTIMULI.zip").string() + "'"))
      << out;
  EXPECT_TRUE(has(out, "images: 803 train / 200 valid (the published split")) << out;
  EXPECT_TRUE(has(out, "steps: 803 per epoch")) << out;
  EXPECT_TRUE(listing(data).empty());
  EXPECT_FALSE(fs::exists(results()));
  EXPECT_EQ(requests(), 0u);

  // salicon's plan adds the VGG16 initialisation it would fetch.
  ASSERT_EQ(msinet({"train", "-d", "salicon", "-p", data.string(), "--dry-run"}, &out), 0) << out;
  EXPECT_TRUE(has(out, "init: VGG16 encoder from '" + (weights() / "vgg16_hybrid.ckpt").string()))
      << out;
  EXPECT_TRUE(has(out, "download: vgg16_hybrid " + base + "/drive.google.com/")) << out;
  EXPECT_FALSE(fs::exists(weights()));

  // download's plan, without the mirror: OSIE's own URL and the size of the archive whose
  // checksum is known (the real archive in ../shared, where it is present).
  const fs::path plain = root() / "plain.yaml";
  std::ofstream(plain) << "threads: 2\n";
  ASSERT_EQ(run_msinet({"download", "-d", "osie", "-p", data.string(), "--dry-run", "--config",
                        plain.string()},
                       root(), &out),
            0)
      << out;
  EXPECT_TRUE(has(out,
                  "download: osie.archive "
                  "https://github.com/NUS-VIP/predicting-human-gaze-beyond-pixels/archive/"
                  "master.zip (50056635 bytes"))
      << out;
  const fs::path shared = fs::path(MSINET_SHARED_DIR) / "data" / "osie" /
                          "predicting-human-gaze-beyond-pixels-master.zip";
  if (fs::exists(shared)) {
    EXPECT_EQ(fs::file_size(shared), 50056635u);
  }
  EXPECT_TRUE(has(out, "(published: 700 images, split 500 train / 200 valid)")) << out;
  EXPECT_TRUE(listing(data).empty());
  EXPECT_EQ(requests(), 0u);
}

// A short real run (1 epoch at 32x32), then: the plan of a longer one resumes it; a run at
// another size is refused before anything else; `test` at another size warns once, and at the
// training size does not.
TEST_F(CliPreflight, ResumeAndTrainingSizeAreReported) {
  const fs::path yaml = make_yaml_dataset();
  std::string out;
  ASSERT_EQ(msinet({"train", "-d", yaml.string(), "--init", "random", "--epochs", "1",
                    "--batch-size", "2"},
                   &out),
            0)
      << out;
  const fs::path latest = results() / "ckpts" / "latest" / "mine.msinet";
  const fs::path best = results() / "ckpts" / "best" / "mine.msinet";
  ASSERT_TRUE(fs::exists(latest)) << out;
  const auto before = listing(results());

  ASSERT_EQ(msinet({"train", "-d", yaml.string(), "--epochs", "3", "--dry-run"}, &out), 0) << out;
  EXPECT_TRUE(has(
      out, "resume: from '" + latest.string() + "': 1 epoch(s) done, continues in epoch 2 of 3"))
      << out;
  EXPECT_TRUE(has(out, "init: not used (resuming)")) << out;
  ASSERT_EQ(msinet({"train", "-d", yaml.string(), "--epochs", "1", "--dry-run"}, &out), 0) << out;
  EXPECT_TRUE(has(out, "1 of 1 epoch(s) done, nothing left to train")) << out;
  EXPECT_EQ(msinet({"train", "-d", yaml.string(), "--size", "64x64", "--epochs", "3"}, &out), 2)
      << out;
  EXPECT_TRUE(has(out, "'" + latest.string() + "' was trained at 32x32, not 64x64")) << out;
  EXPECT_EQ(listing(results()), before);

  const fs::path images = root() / "mine" / "images";
  const std::string warning =
      "checkpoint '" + best.string() + "' was trained at 32x32; running at 64x64 (--size)";
  ASSERT_EQ(msinet({"test", "-p", images.string(), "--weights", best.string(), "--size", "64x64",
                    "-o", (root() / "maps64").string()},
                   &out),
            0)
      << out;
  EXPECT_TRUE(has(out, warning)) << out;
  EXPECT_EQ(out.find(warning), out.rfind(warning)) << "warned more than once:\n" << out;
  EXPECT_TRUE(has(out, "give --size 32x32")) << out;
  ASSERT_EQ(msinet({"test", "-p", images.string(), "--weights", best.string(), "--size", "32x32",
                    "-o", (root() / "maps32").string()},
                   &out),
            0)
      << out;
  EXPECT_FALSE(has(out, "was trained at")) << out;
}

}  // namespace
