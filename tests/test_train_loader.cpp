// The training batch loader: batches in the order given, bit for bit what the data functions make
// of each pair, failures delivered in order, at most `depth` batches held, a prompt stop, and the
// map-size warning.
#include <fcntl.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <thread>

#include "msinet/data/image.h"
#include "msinet/pipeline/tensors.h"
#include "msinet/train/batch_loader.h"
#include "test_support.h"
#include "tools/synthetic_photo.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using data::FilePair;
using train::Batch;
using train::BatchLoader;
using Batches = std::vector<std::vector<size_t>>;

constexpr int kHeight = 32, kWidth = 40;

// A stimulus of h x w and a map of mh x mw (the stimulus's size unless given), as PNG files.
FilePair write_pair(const fs::path& dir, int index, int h, int w, int mh = 0, int mw = 0) {
  cv::RNG rng(static_cast<uint64>(100 + index));
  cv::Point centre;
  const cv::Mat stimulus = testing::synthetic_photo(h, w, rng, &centre);
  cv::Mat map(mh ? mh : h, mw ? mw : w, CV_8UC1);
  rng.fill(map, cv::RNG::UNIFORM, 0, 256);
  const FilePair pair{dir / ("s" + std::to_string(index) + ".png"),
                      dir / ("m" + std::to_string(index) + ".png")};
  EXPECT_TRUE(cv::imwrite(pair.first.string(), stimulus));
  EXPECT_TRUE(cv::imwrite(pair.second.string(), map));
  return pair;
}

// The batch built directly from the data functions, as training has always read it.
Batch expected_batch(const std::vector<FilePair>& pairs, const std::vector<size_t>& indices) {
  std::vector<cv::Mat> xs, ys;
  for (size_t i : indices) {
    xs.push_back(data::preprocess_stimulus(data::decode_image(pairs[i].first, 3), kHeight, kWidth));
    ys.push_back(data::preprocess_map(data::decode_image(pairs[i].second, 1), kHeight, kWidth));
  }
  return {pipeline::images_to_batch(xs).contiguous(), pipeline::images_to_batch(ys).contiguous(),
          indices};
}

void expect_same(const Batch& got, const Batch& want) {
  EXPECT_EQ(got.indices, want.indices);
  ASSERT_TRUE(got.stimuli.defined() && got.maps.defined());
  const auto n = static_cast<int64_t>(want.indices.size());
  EXPECT_EQ(got.stimuli.sizes(), (std::vector<int64_t>{n, 3, kHeight, kWidth}));
  EXPECT_EQ(got.maps.sizes(), (std::vector<int64_t>{n, 1, kHeight, kWidth}));
  EXPECT_EQ(got.stimuli.scalar_type(), torch::kFloat32);
  EXPECT_EQ(got.maps.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(got.stimuli.is_contiguous() && got.maps.is_contiguous());
  EXPECT_TRUE(torch::equal(got.stimuli, want.stimuli));
  EXPECT_TRUE(torch::equal(got.maps, want.maps));
}

class BatchLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int sizes[][2] = {{40, 60}, {50, 30}, {33, 47}, {60, 60},
                            {24, 80}, {45, 45}, {70, 20}, {32, 40}};
    for (int i = 0; i < 8; ++i)
      pairs_.push_back(write_pair(dir_.path(), i, sizes[i][0], sizes[i][1]));
  }

  testing::TempDir dir_{"train-loader"};
  std::vector<FilePair> pairs_;
};

TEST_F(BatchLoaderTest, GivesTheBatchesInOrderAsTheDataFunctionsMakeThem) {
  const Batches order = {{3, 0}, {5}, {1, 2, 7}, {6, 4}, {0, 0}};
  std::vector<Batch> want;
  for (const auto& b : order) want.push_back(expected_batch(pairs_, b));
  for (int workers : {0, 1, 3}) {
    for (int depth : {1, 4}) {
      SCOPED_TRACE("workers " + std::to_string(workers) + ", depth " + std::to_string(depth));
      BatchLoader loader(pairs_, order, kHeight, kWidth, workers, depth);
      for (const Batch& w : want) {
        std::optional<Batch> got = loader.next();
        ASSERT_TRUE(got.has_value());
        expect_same(*got, w);
      }
      EXPECT_FALSE(loader.next().has_value());
      EXPECT_FALSE(loader.next().has_value());
    }
  }
}

TEST_F(BatchLoaderTest, AFailedReadComesAfterTheEarlierBatchesAndNamesTheFile) {
  // A PNG cut to half its length.
  const fs::path broken = dir_.path() / "broken.png";
  {
    std::ifstream in(pairs_[3].first, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(broken, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  pairs_.push_back({broken, pairs_[3].second});
  const Batches order = {{0, 1}, {2}, {4, 8}, {5, 6}};
  for (int workers : {0, 1, 3}) {
    for (int depth : {1, 4}) {
      SCOPED_TRACE("workers " + std::to_string(workers) + ", depth " + std::to_string(depth));
      BatchLoader loader(pairs_, order, kHeight, kWidth, workers, depth);
      for (size_t b = 0; b < 2; ++b) {
        std::optional<Batch> got = loader.next();
        ASSERT_TRUE(got.has_value());
        expect_same(*got, expected_batch(pairs_, order[b]));
      }
      try {
        loader.next();
        ADD_FAILURE() << "batch 2 has a truncated PNG but next() returned";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(broken.string()), std::string::npos) << e.what();
        EXPECT_EQ(e.code(), ErrorCode::kInput) << e.what();
      }
      // The failure stays: the batches after it are never delivered.
      EXPECT_THROW(loader.next(), Error);
    }
  }
}

TEST_F(BatchLoaderTest, StopsPromptlyWithWorkersWaitingForRoom) {
  Batches order;
  for (size_t i = 0; i < 20; ++i) order.push_back({i % 8, (i + 3) % 8});
  for (bool take_one : {true, false}) {
    SCOPED_TRACE(take_one ? "after one batch" : "before any batch");
    const auto t0 = std::chrono::steady_clock::now();
    {
      BatchLoader loader(pairs_, order, kHeight, kWidth, /*workers=*/3, /*depth=*/2);
      if (take_one) {
        ASSERT_TRUE(loader.next().has_value());
      }
      // Let the workers fill the two places and wait for room.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // 20 batches of these images load in well under a second here; a loader that read them
    // all before stopping, or never stopped, would not be done in 0.2 s plus one batch.
    EXPECT_LT(s, 2.0);
  }
}

// Stimuli that are named pipes: a worker reading one blocks until the test writes it, and the
// test sees which ones a worker has opened, so the number of batches held is observed from
// outside. Destruction turns every pipe into a regular file, so no worker stays blocked.
class Pipes {
 public:
  Pipes(const fs::path& dir, int n) {
    for (int i = 0; i < n; ++i) {
      paths_.push_back(dir / ("pipe" + std::to_string(i) + ".png"));
      EXPECT_EQ(::mkfifo(paths_.back().c_str(), 0600), 0);
    }
  }
  ~Pipes() {
    for (const auto& p : paths_) {
      const int fd = ::open(p.c_str(), O_RDWR | O_NONBLOCK);
      std::ofstream(p.string() + ".tmp") << "not a pipe";
      fs::rename(p.string() + ".tmp", p);
      if (fd >= 0) ::close(fd);
    }
  }
  const fs::path& path(size_t i) const { return paths_[i]; }
  /// Whether a reader has pipe i open now (then it is fed `bytes`, so that it does not wait).
  bool opened(size_t i, const std::string& bytes) {
    const int fd = ::open(paths_[i].c_str(), O_WRONLY | O_NONBLOCK);
    if (fd < 0) return false;
    write_all(fd, bytes);
    return true;
  }
  /// Waits up to 10 s for a reader of pipe i, then feeds it `bytes`.
  bool feed(size_t i, const std::string& bytes) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < end) {
      if (opened(i, bytes)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

 private:
  static void write_all(int fd, const std::string& bytes) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  }

  std::vector<fs::path> paths_;
};

TEST_F(BatchLoaderTest, HoldsAtMostDepthBatchesNotYetReturned) {
  constexpr size_t n = 6;
  std::string png;
  {
    std::ifstream in(pairs_[7].first, std::ios::binary);
    png.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::vector<FilePair> pairs;
  Batches order;
  std::unique_ptr<BatchLoader> loader;
  Pipes pipes(dir_.path(), n);  // destroyed before the loader, which it unblocks
  for (size_t i = 0; i < n; ++i) {
    pairs.push_back({pipes.path(i), pairs_[7].second});
    order.push_back({i});
  }
  const Batch want = expected_batch(pairs_, {7});
  const auto settle = [] { std::this_thread::sleep_for(std::chrono::milliseconds(300)); };
  loader = std::make_unique<BatchLoader>(pairs, order, kHeight, kWidth, /*workers=*/3,
                                         /*depth=*/2);
  // Three workers, two places: batches 0 and 1 are read, batch 2 waits, also once 0 and 1 are
  // read and held.
  ASSERT_TRUE(pipes.feed(0, png));
  ASSERT_TRUE(pipes.feed(1, png));
  settle();
  EXPECT_FALSE(pipes.opened(2, png)) << "a third batch was read with two not returned";
  for (size_t b = 0; b < n; ++b) {
    std::optional<Batch> got = loader->next();
    ASSERT_TRUE(got.has_value());
    expect_same(*got, {want.stimuli, want.maps, {b}});
    // Returning batch b makes room for batch b + 2, and for no other.
    if (b + 2 < n) {
      ASSERT_TRUE(pipes.feed(b + 2, png)) << "batch " << b + 2 << " never read";
    }
    settle();
    if (b + 3 < n) {
      EXPECT_FALSE(pipes.opened(b + 3, png)) << "batch " << b + 3 << " read early";
    }
  }
  EXPECT_FALSE(loader->next().has_value());
}

TEST_F(BatchLoaderTest, WarnsOnceAboutMapsOfAnotherSize) {
  pairs_.push_back(write_pair(dir_.path(), 8, 30, 50, /*mh=*/50, /*mw=*/30));  // transposed
  pairs_.push_back(write_pair(dir_.path(), 9, 30, 50, /*mh=*/20, /*mw=*/20));  // just another
  std::ostringstream log;
  const auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  for (int workers : {0, 3}) {
    log.str("");
    BatchLoader loader(pairs_, {{0, 8, 1}, {2, 9}, {3}}, kHeight, kWidth, workers, /*depth=*/2);
    while (loader.next()) {
    }
    loader.report_map_sizes("toy");
    loader.report_map_sizes("toy");
    const std::string text = log.str();
    EXPECT_NE(text.find("dataset 'toy': 2 of the 6 training pairs read have a map of another "
                        "size than its stimulus (1 of them transposed)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(pairs_[8].second.string() + "' is 50x30"), std::string::npos) << text;
    EXPECT_EQ(text.find("dataset 'toy'", text.find("dataset 'toy'") + 1), std::string::npos)
        << "warned twice: " << text;
  }
  log.str("");
  {
    BatchLoader loader(pairs_, {{0, 1}, {2}}, kHeight, kWidth, /*workers=*/1, /*depth=*/1);
    while (loader.next()) {
    }
    loader.report_map_sizes("fine");
  }
  spdlog::set_default_logger(previous);
  EXPECT_EQ(log.str(), "");
}

}  // namespace
}  // namespace msinet
