// The real OSIE archive (../shared/data/osie), served at its mirror path through the mirror option:
// the full recipe, checked against scipy.io.loadmat / numpy / scipy run on the same archive.

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <chrono>
#include <cstdlib>
#include <sstream>

#include "msinet/data/dataset.h"
#include "msinet/data/recipes.h"
#include "msinet/data/splits.h"
#include "msinet/util/fs.h"
#include "test_support.h"
#include "tools/http_server.h"

namespace msinet::data {
namespace {

using msinet::testing::HttpServer;
using msinet::testing::run_command;
using msinet::testing::TempDir;

// For every image of fixations.mat: the number of distinct integer points (int(y), int(x)),
// computed from the archive with scipy.io.loadmat; then numpy's P(700); then the grey levels of
// a few maps (scipy gaussian_filter, matplotlib's quantisation written out) as PGM files.
constexpr const char* kExpectations = R"(
import io, sys, zipfile
import numpy as np
from scipy.io import loadmat
from scipy.ndimage import gaussian_filter
z = zipfile.ZipFile(sys.argv[1])
name = [n for n in z.namelist() if n.endswith("/data/eye/fixations.mat")][0]
fix = loadmat(io.BytesIO(z.read(name)))["fixations"]
def levels(m):
    mn, mx = m.min(), m.max()
    if mn == mx:
        return np.zeros(m.shape, np.uint8)
    xa = (m - mn) / (mx - mn) * 256.0
    xa[xa == 256] = 255
    return np.trunc(np.linspace(0.0, 1.0, 256) * 255.0).astype(np.uint8)[xa.astype(int)]
counts = []
for idx, value in enumerate(fix):
    points = set()
    m = np.zeros((600, 800))
    for subject in value[0][0][0][1]:
        xs = subject[0][0][0][0][0]
        ys = subject[0][0][0][1][0]
        for x, y in zip(xs, ys):
            points.add((int(y), int(x)))
            m[int(y), int(x)] = 1
    counts.append(len(points))
    if idx in (0, 347, 699):
        for sub, lv in (("fixations", levels(m)), ("saliency", levels(gaussian_filter(m, 16)))):
            with open("%s/%s-%d.pgm" % (sys.argv[2], sub, 1001 + idx), "wb") as f:
                f.write(b"P5\n800 600\n255\n" + lv.tobytes())
print(" ".join(map(str, counts)))
p = np.arange(700)
np.random.RandomState(42).shuffle(p)
print(" ".join(map(str, p)))
)";

std::vector<int64_t> numbers(const std::string& line) {
  std::istringstream in(line);
  std::vector<int64_t> v;
  for (int64_t x; in >> x;) v.push_back(x);
  return v;
}

TEST(RealOsie, FullRecipeThroughTheMirror) {
  const fs::path zip =
      fs::path(MSINET_SHARED_DIR) / "data/osie/predicting-human-gaze-beyond-pixels-master.zip";
  ASSERT_TRUE(fs::exists(zip)) << zip << " is missing (read-only shared data)";
  TempDir dir("osie-real");
  const fs::path served =
      dir.path() /
      "mirror/github.com/NUS-VIP/predicting-human-gaze-beyond-pixels/archive/master.zip";
  fs::create_directories(served.parent_path());
  fs::copy_file(zip, served);
  fs::create_directories(dir.path() / "expected");
  const auto expected = run_command(
      {"/usr/bin/python3", "-c", kExpectations, zip.string(), (dir.path() / "expected").string()});
  ASSERT_EQ(expected.status, 0);
  std::istringstream lines(expected.out);
  std::string line;
  std::getline(lines, line);
  const auto counts = numbers(line);
  std::getline(lines, line);
  const auto perm = numbers(line);
  ASSERT_EQ(counts.size(), 700u);
  ASSERT_EQ(perm.size(), 700u);

  HttpServer server(dir.path() / "mirror");
  PrepareOptions options;
  options.download.mirror = server.base();
  options.download.progress = false;
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path ds = prepare_dataset("osie", dir.path() / "data", options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("prepare_seconds", std::to_string(seconds));
  std::printf("OSIE prepared in %.1f s\n", seconds);
  EXPECT_LT(seconds, 120.0);

  const auto stimuli = util::list_images(ds / "stimuli");
  const auto saliency = util::list_images(ds / "saliency");
  const auto fixations = util::list_images(ds / "fixations");
  ASSERT_EQ(stimuli.size(), 700u);
  ASSERT_EQ(saliency.size(), 700u);
  ASSERT_EQ(fixations.size(), 700u);
  for (size_t i = 0; i < 700; ++i) {
    const std::string stem = std::to_string(1001 + i);
    ASSERT_EQ(stimuli[i].filename().string(), stem + ".jpg");
    ASSERT_EQ(fixations[i].filename().string(), stem + ".png");
    const cv::Mat f = cv::imread(fixations[i].string(), cv::IMREAD_UNCHANGED);
    ASSERT_EQ(f.type(), CV_8UC1) << fixations[i];
    ASSERT_EQ(f.size(), cv::Size(800, 600)) << fixations[i];
    EXPECT_EQ(cv::countNonZero(f), counts[i]) << fixations[i];
  }
  for (const int idx : {0, 347, 699}) {
    for (const char* sub : {"fixations", "saliency"}) {
      const std::string stem = std::to_string(1001 + idx);
      const cv::Mat want =
          cv::imread((dir.path() / "expected" / (std::string(sub) + "-" + stem + ".pgm")).string(),
                     cv::IMREAD_UNCHANGED);
      const cv::Mat got = cv::imread((ds / sub / (stem + ".png")).string(), cv::IMREAD_UNCHANGED);
      ASSERT_EQ(got.size(), want.size());
      EXPECT_EQ(cv::countNonZero(got != want), 0) << sub << "/" << stem;
    }
  }

  const Split split = make_split(builtin_spec("osie"), ds);
  EXPECT_TRUE(split.warnings.empty());
  ASSERT_EQ(split.train.size(), 500u);
  ASSERT_EQ(split.valid.size(), 200u);
  for (size_t i = 0; i < 500; ++i) {
    EXPECT_EQ(split.train[i].first.stem().string(), std::to_string(1001 + perm[i]));
  }
  for (size_t i = 0; i < 200; ++i) {
    EXPECT_EQ(split.valid[i].first.stem().string(), std::to_string(1001 + perm[500 + i]));
    EXPECT_EQ(split.valid[i].second.filename().string(),
              std::to_string(1001 + perm[500 + i]) + ".png");
  }
  EXPECT_FALSE(fs::exists(dir.path() / "data" / "downloads" /
                          "osie-predicting-human-gaze-beyond-pixels-master.zip"));
}

}  // namespace
}  // namespace msinet::data
