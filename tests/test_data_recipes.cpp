// Preparation recipes end to end: archives in each dataset's original layout, built at test time
// by tests/tools/make_dataset_archives.py, served by tests/tools/http_server.py through the
// mirror; the resulting folders and every computed map are compared with the tool's
// expectations (numpy/scipy). Faults: a corrupt archive, an interruption, a stale temporary
// folder, a foreign folder in the way, a concurrent preparation.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <opencv2/imgcodecs.hpp>

#include <atomic>
#include <cstdlib>
#include <sstream>

#include "msinet/data/dataset.h"
#include "msinet/data/recipes.h"
#include "msinet/data/splits.h"
#include "msinet/util/error.h"
#include "test_support.h"
#include "tools/http_server.h"

namespace msinet::data {
namespace {

using msinet::testing::HttpServer;
using msinet::testing::run_command;
using msinet::testing::TempDir;

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> tree(const fs::path& root) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) files.push_back(e.path().lexically_relative(root).generic_string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> leftovers(const fs::path& data_root, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(data_root)) {
    const std::string f = e.path().filename().string();
    if (f.rfind("." + name + ".tmp-", 0) == 0) out.push_back(f);
  }
  return out;
}

class Recipes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::unsetenv("MSINET_MIRROR");
    dir_ = new TempDir("recipes");
    const auto r =
        run_command({"/usr/bin/python3",
                     std::string(MSINET_SOURCE_DIR) + "/tests/tools/make_dataset_archives.py",
                     "archives", (dir_->path() / "fixtures").string()});
    ASSERT_EQ(r.status, 0);
    server_ = new HttpServer(dir_->path() / "fixtures" / "mirror");
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  PrepareOptions options() const {
    PrepareOptions o;
    o.download.mirror = server_->base();
    o.download.progress = false;
    o.download.retries = 1;
    o.download.backoff_s = 0.05;
    o.threads = 2;
    return o;
  }

  // The produced folder holds exactly the expected files, and every computed map equals the
  // expected grey levels.
  static void expect_dataset(const std::string& name, const fs::path& dataset) {
    const fs::path expected = dir_->path() / "fixtures" / "expected";
    const auto listing =
        run_command({"/usr/bin/python3", "-c",
                     "import json,sys\nfor f in json.load(open(sys.argv[1]))['files']: print(f)",
                     (expected / (name + ".json")).string()});
    ASSERT_EQ(listing.status, 0);
    std::vector<std::string> files;
    std::istringstream in(listing.out);
    for (std::string line; std::getline(in, line);) files.push_back(line);
    EXPECT_EQ(tree(dataset), files) << name;
    size_t maps = 0;
    if (fs::exists(expected / name)) {
      for (const auto& e : fs::recursive_directory_iterator(expected / name)) {
        if (!e.is_regular_file()) continue;
        const fs::path rel = e.path().lexically_relative(expected / name);
        const fs::path produced = dataset / fs::path(rel).replace_extension(".png");
        const cv::Mat want = cv::imread(e.path().string(), cv::IMREAD_UNCHANGED);
        const cv::Mat got = cv::imread(produced.string(), cv::IMREAD_UNCHANGED);
        ASSERT_FALSE(got.empty()) << produced;
        ASSERT_EQ(got.type(), CV_8UC1) << produced;
        ASSERT_EQ(got.size(), want.size()) << produced;
        EXPECT_EQ(cv::countNonZero(got != want), 0) << produced;
        ++maps;
      }
    }
    RecordProperty("maps_compared", std::to_string(maps));
  }

  fs::path prepare(const std::string& name, const PrepareOptions& o) {
    const fs::path ds = prepare_dataset(name, data_.path(), o);
    EXPECT_EQ(ds, data_.path() / name);
    EXPECT_TRUE(dataset_ready(name, data_.path()));
    EXPECT_TRUE(leftovers(data_.path(), name).empty());
    EXPECT_FALSE(fs::exists(ds / ".work"));
    return ds;
  }

  static TempDir* dir_;
  static HttpServer* server_;
  TempDir data_{"recipes-data"};
};
TempDir* Recipes::dir_ = nullptr;
HttpServer* Recipes::server_ = nullptr;

TEST_F(Recipes, SaliconThroughGoogleDriveConfirmation) {
  const fs::path ds = prepare("salicon", options());
  expect_dataset("salicon", ds);
  const Split split = make_split(builtin_spec("salicon"), ds);
  EXPECT_EQ(split.train.size(), 2u);
  EXPECT_EQ(split.valid.size(), 1u);
  // Archives are removed once the dataset is in place.
  EXPECT_FALSE(fs::exists(data_.path() / "downloads" / "salicon-images.zip"));
}

TEST_F(Recipes, Mit1003) {
  const fs::path ds = prepare("mit1003", options());
  expect_dataset("mit1003", ds);
  EXPECT_EQ(make_split(builtin_spec("mit1003"), ds).valid.size(), 1u);
}

TEST_F(Recipes, Cat2000) { expect_dataset("cat2000", prepare("cat2000", options())); }

// A prepared dataset gets the user's umask, like any folder the user makes (not 0700).
TEST_F(Recipes, PreparedFoldersFollowTheUmask) {
  const mode_t previous = ::umask(022);
  const fs::path dir = prepare("fiwi", options());
  ::umask(previous);
  const fs::perms p = fs::status(dir).permissions() & fs::perms::all;
  EXPECT_EQ(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                   fs::perms::others_read | fs::perms::others_exec);
}

TEST_F(Recipes, DutOmronBlursFixationsFromMatFiles) {
  expect_dataset("dutomron", prepare("dutomron", options()));
}

TEST_F(Recipes, PascalSReadsMatlab73Files) {
  expect_dataset("pascals", prepare("pascals", options()));
}

TEST_F(Recipes, FiwiBlursFloat32MapsOfEveryBitDepth) {
  expect_dataset("fiwi", prepare("fiwi", options()));
}

TEST_F(Recipes, OsieLayoutThroughAnOverriddenUrl) {
  PrepareOptions o = options();
  o.urls["osie.archive"] = "https://example.org/osie-small.zip";
  o.keep_archives = true;
  expect_dataset("osie", prepare("osie", o));
  EXPECT_TRUE(fs::exists(data_.path() / "downloads" /
                         "osie-predicting-human-gaze-beyond-pixels-master.zip"));
  // Already prepared: nothing is fetched (an unreachable mirror would fail otherwise).
  PrepareOptions offline = o;
  offline.download.mirror = "http://127.0.0.1:1";
  EXPECT_EQ(prepare_dataset("osie", data_.path(), offline), data_.path() / "osie");
}

TEST_F(Recipes, CorruptArchiveLeavesNothingBehind) {
  PrepareOptions o = options();
  o.urls["osie.archive"] = "https://example.org/corrupt.zip";
  try {
    prepare_dataset("osie", data_.path(), o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kData) << e.what();
    EXPECT_TRUE(has(e.what(), "osie-predicting-human-gaze-beyond-pixels-master.zip") &&
                has(e.what(), "run the command again"))
        << e.what();
  }
  EXPECT_FALSE(fs::exists(data_.path() / "osie"));
  EXPECT_TRUE(leftovers(data_.path(), "osie").empty());
  EXPECT_FALSE(fs::exists(data_.path() / "downloads" /
                          "osie-predicting-human-gaze-beyond-pixels-master.zip"));
}

TEST_F(Recipes, InterruptedPreparationLeavesNoHalfDatasetAndResumes) {
  PrepareOptions o = options();
  o.urls["osie.archive"] = "https://example.org/osie-small.zip";
  std::atomic<int> polls{0};
  o.cancelled = [&polls] { return ++polls > 6; };  // stops while unpacking
  try {
    prepare_dataset("osie", data_.path(), o);
    FAIL() << "expected an interruption";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInterrupted) << e.what();
    EXPECT_TRUE(has(e.what(), "osie")) << e.what();
  }
  EXPECT_FALSE(fs::exists(data_.path() / "osie"));
  EXPECT_TRUE(leftovers(data_.path(), "osie").empty());
  // The download is kept for the next run.
  EXPECT_TRUE(fs::exists(data_.path() / "downloads" /
                         "osie-predicting-human-gaze-beyond-pixels-master.zip"));
  // A folder left by a killed run is removed before the next one starts.
  fs::create_directories(data_.path() / ".osie.tmp-Zq81xw" / "stimuli");
  std::ofstream(data_.path() / ".osie.tmp-Zq81xw" / "stimuli" / "1001.jpg") << "half";
  o.cancelled = [] { return false; };
  expect_dataset("osie", prepare("osie", o));
}

TEST_F(Recipes, InterruptedWhileConvertingMaps) {
  PrepareOptions o = options();
  o.urls["osie.archive"] = "https://example.org/osie-small.zip";
  o.threads = 1;
  bool maps_started = false;
  o.cancelled = [&] {  // stops once the first fixation map is written
    for (const auto& tmp : leftovers(data_.path(), "osie")) {
      maps_started = maps_started || fs::exists(data_.path() / tmp / "fixations" / "1001.png");
    }
    return maps_started;
  };
  try {
    prepare_dataset("osie", data_.path(), o);
    ADD_FAILURE() << "expected an interruption";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInterrupted) << e.what();
  }
  EXPECT_TRUE(maps_started);
  EXPECT_FALSE(fs::exists(data_.path() / "osie"));
  EXPECT_TRUE(leftovers(data_.path(), "osie").empty());
}

TEST_F(Recipes, FixationOutsideTheImageNamesTheMatFile) {
  PrepareOptions o = options();
  o.urls["dutomron.fixations"] = "https://example.org/dut-bad-fixations.zip";
  try {
    prepare_dataset("dutomron", data_.path(), o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kData) << e.what();
    EXPECT_TRUE(has(e.what(), "im005.mat") && has(e.what(), "variable 's'") &&
                has(e.what(), "outside the map"))
        << e.what();
    // The temporary folder is gone: the message names the archive kept in downloads/.
    EXPECT_TRUE(has(
        e.what(),
        "MAT file 'im005.mat' from archive '" +
            (data_.path() / "downloads" / "dutomron-DUT-OMRON-eye-fixations.zip").string() + "'"))
        << e.what();
    EXPECT_FALSE(has(e.what(), ".tmp-")) << e.what();
  }
  EXPECT_FALSE(fs::exists(data_.path() / "dutomron"));
  EXPECT_TRUE(leftovers(data_.path(), "dutomron").empty());
}

TEST_F(Recipes, ForeignFolderInTheWayIsNotTouched) {
  fs::create_directories(data_.path() / "mit1003");
  std::ofstream(data_.path() / "mit1003" / "notes.txt") << "mine";
  try {
    prepare_dataset("mit1003", data_.path(), options());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInput);
    EXPECT_TRUE(has(e.what(), (data_.path() / "mit1003").string()) &&
                has(e.what(), "no stimuli/ and saliency/"))
        << e.what();
  }
  EXPECT_TRUE(fs::exists(data_.path() / "mit1003" / "notes.txt"));
}

TEST_F(Recipes, ConcurrentPreparationIsRefused) {
  const fs::path lock = data_.path() / ".cat2000.lock";
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  try {
    prepare_dataset("cat2000", data_.path(), options());
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNetwork);  // the download cannot happen now
    EXPECT_TRUE(has(e.what(), "another msinet process")) << e.what();
  }
  ::close(fd);
  EXPECT_FALSE(fs::exists(data_.path() / "cat2000"));
}

TEST_F(Recipes, UnpairedStimuliLeaveTheDatasetNotReady) {
  // Three fixation records make maps 1001..1003; the stimuli are 1001, 1002 and 1005.
  PrepareOptions o = options();
  o.urls["osie.archive"] = "https://example.org/osie-unpaired.zip";
  try {
    prepare_dataset("osie", data_.path(), o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kData) << e.what();
    EXPECT_TRUE(has(e.what(),
                    "osie: the archives do not make a complete dataset: stimulus "
                    "'stimuli/1005.jpg' does not match saliency map "
                    "'saliency/1003.png'"))
        << e.what();
    EXPECT_TRUE(has(e.what(), "Nothing was installed")) << e.what();
  }
  EXPECT_FALSE(dataset_ready("osie", data_.path()));
  EXPECT_FALSE(fs::exists(data_.path() / "osie"));
  EXPECT_TRUE(leftovers(data_.path(), "osie").empty());
}

TEST_F(Recipes, MissingFixationMapLeavesTheDatasetNotReady) {
  PrepareOptions o = options();
  o.urls["mit1003.maps"] = "https://example.org/mit1003-missing-fixpts.zip";
  try {
    prepare_dataset("mit1003", data_.path(), o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kData) << e.what();
    EXPECT_TRUE(has(e.what(),
                    "mit1003: the archives do not make a complete dataset: stimulus "
                    "'stimuli/i1000978.jpeg' does not match fixation map "
                    "'fixations/i102423191_fixPts.jpg'"))
        << e.what();
  }
  EXPECT_FALSE(dataset_ready("mit1003", data_.path()));
  EXPECT_TRUE(leftovers(data_.path(), "mit1003").empty());
}

TEST_F(Recipes, FolderLinkInTheArchiveIsRefusedAndNothingEscapes) {
  PrepareOptions o = options();
  o.urls["osie.archive"] = "https://example.org/osie-link.zip";
  try {
    prepare_dataset("osie", data_.path(), o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kData) << e.what();
    EXPECT_TRUE(has(e.what(), "data/stimuli' (a symbolic link)")) << e.what();
  }
  EXPECT_FALSE(fs::exists(data_.path() / "osie"));
  EXPECT_TRUE(leftovers(data_.path(), "osie").empty());
  // Wherever the link would have led (../../../escaped-stimuli from the entry's folder), nothing
  // was made; the unsafe archive was removed (its checksum, unknown to the registry, stays
  // recorded).
  EXPECT_FALSE(fs::exists(data_.path() / "escaped-stimuli"));
  EXPECT_FALSE(fs::exists(data_.path().parent_path() / "escaped-stimuli"));
  EXPECT_FALSE(fs::exists(data_.path().parent_path().parent_path() / "escaped-stimuli"));
  EXPECT_EQ(tree(data_.path()), std::vector<std::string>{"downloads/checksums.local.yaml"});
}

TEST_F(Recipes, UnknownUrlKeyIsAConfigErrorBeforeAnyDownload) {
  PrepareOptions o = options();
  o.urls["osie.archiv"] = "https://example.org/osie-small.zip";
  try {
    prepare_dataset("osie", data_.path(), o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kConfig) << e.what();
    EXPECT_TRUE(has(e.what(), "unknown download source 'urls: osie.archiv'") &&
                has(e.what(), "osie.archive"))
        << e.what();
  }
  EXPECT_TRUE(fs::is_empty(data_.path()));
}

TEST_F(Recipes, FailedDownloadLeavesNoEmptyFolderOrLock) {
  PrepareOptions o = options();
  o.urls["osie.archive"] = "https://example.org/not-there.zip";
  try {
    prepare_dataset("osie", data_.path(), o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNetwork) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(data_.path())) << tree(data_.path()).size();
}

TEST(RecipeSources, NamesKeysAndMirrorPaths) {
  const auto osie = dataset_sources("osie");
  ASSERT_EQ(osie.size(), 1u);
  EXPECT_EQ(osie[0].key, "osie.archive");
  EXPECT_EQ(resolve_url(osie[0].source, "http://127.0.0.1:9"),
            "http://127.0.0.1:9/github.com/NUS-VIP/predicting-human-gaze-beyond-pixels/archive/"
            "master.zip");
  EXPECT_EQ(dataset_sources("salicon").size(), 3u);
  EXPECT_EQ(dataset_sources("salicon")[2].source.gdrive_id, "1PnO7szbdub1559LfjYHMy65EDC4VhJC8");
  EXPECT_EQ(dataset_sources("mit1003").size(), 2u);
  EXPECT_EQ(dataset_sources("dutomron").size(), 2u);
  for (const auto& d : builtin_datasets()) EXPECT_FALSE(dataset_sources(d.name).empty()) << d.name;
  try {
    prepare_dataset("imagenet", "/nonexistent", {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUsage);
  }
}

}  // namespace
}  // namespace msinet::data
