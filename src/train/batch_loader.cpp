#include "msinet/train/batch_loader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <new>
#include <thread>

#include "msinet/data/image.h"
#include "msinet/pipeline/tensors.h"
#include "msinet/util/error.h"

namespace msinet::train {

namespace {

using Pairs = std::vector<data::FilePair>;

// Maps whose size differs from their stimulus's train without complaint (both are resized to
// the network size), but usually mean a broken dataset: counted per batch, summed as next()
// returns the batches, reported once.
struct MapSizes {
  int64_t read = 0, mismatched = 0, transposed = 0;
  std::string first;

  void see(const data::FilePair& pair, const cv::Mat& stimulus, const cv::Mat& map) {
    ++read;
    if (stimulus.size() == map.size()) return;
    ++mismatched;
    transposed += stimulus.rows == map.cols && stimulus.cols == map.rows ? 1 : 0;
    if (first.empty()) {
      first = "'" + pair.second.string() + "' is " + std::to_string(map.rows) + "x" +
              std::to_string(map.cols) + ", its stimulus '" + pair.first.string() + "' " +
              std::to_string(stimulus.rows) + "x" + std::to_string(stimulus.cols);
    }
  }

  void add(const MapSizes& other) {
    read += other.read;
    mismatched += other.mismatched;
    transposed += other.transposed;
    if (first.empty()) first = other.first;
  }
};

// A batch read by a worker, or why it could not be.
struct Loaded {
  Batch batch;
  MapSizes sizes;
  std::exception_ptr error;
};

// One batch as tensors, as an Error when a pair cannot be read; gives up early on `stop`.
Loaded load(const Pairs& pairs, const std::vector<size_t>& indices, int h, int w,
            const std::atomic<bool>& stop) {
  Loaded out;
  out.batch.indices = indices;
  const data::FilePair* pair = nullptr;
  try {
    std::vector<cv::Mat> xs, ys;
    for (size_t i : indices) {
      if (stop) return out;
      pair = &pairs.at(i);
      const cv::Mat stimulus = data::decode_image(pair->first, 3);
      const cv::Mat map = data::decode_image(pair->second, 1);
      out.sizes.see(*pair, stimulus, map);
      xs.push_back(data::preprocess_stimulus(stimulus, h, w));
      ys.push_back(data::preprocess_map(map, h, w));
    }
    out.batch.stimuli = pipeline::images_to_batch(xs).contiguous();
    out.batch.maps = pipeline::images_to_batch(ys).contiguous();
  } catch (const Error&) {
    out.error = std::current_exception();
  } catch (const std::bad_alloc&) {
    out.error = std::make_exception_ptr(
        Error(ErrorCode::kOutOfMemory, "out of memory loading a training batch with '" +
                                           (pair ? pair->first.string() : std::string("?")) +
                                           "': try a smaller --batch-size"));
  } catch (const std::exception& e) {
    out.error = std::make_exception_ptr(
        Error(ErrorCode::kInput, "cannot load the training pair '" +
                                     (pair ? pair->first.string() : std::string("?")) +
                                     "': " + e.what()));
  }
  return out;
}

}  // namespace

struct BatchLoader::State {
  Pairs pairs;
  std::vector<std::vector<size_t>> batches;
  int height = 0, width = 0;
  size_t depth = 1;

  std::mutex mutex;
  std::condition_variable room;   // workers wait for fewer than `depth` batches held
  std::condition_variable ready;  // next() waits for its batch
  std::atomic<bool> stop{false};
  size_t claimed = 0;   // batches a worker has taken, in order
  size_t limit = 0;     // no batch from here on is taken (the failed one, or the end)
  size_t returned = 0;  // batches next() has returned
  std::map<size_t, Loaded> done;
  std::exception_ptr failure;  // the failure next() delivered; delivered again after
  MapSizes sizes;              // of the batches returned
  bool reported = false;
  std::vector<std::thread> threads;

  void work() {
    for (;;) {
      size_t k = 0;
      {
        std::unique_lock<std::mutex> lock(mutex);
        room.wait(lock, [this] { return stop || claimed >= limit || claimed < returned + depth; });
        if (stop || claimed >= limit) return;
        k = claimed++;
      }
      Loaded loaded = load(pairs, batches[k], height, width, stop);
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (loaded.error) limit = std::min(limit, k + 1);
        done.emplace(k, std::move(loaded));
      }
      ready.notify_all();
    }
  }
};

BatchLoader::BatchLoader(const std::vector<data::FilePair>& pairs,
                         std::vector<std::vector<size_t>> batches, int height, int width,
                         int workers, int depth)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  for (const auto& batch : batches) {
    if (batch.empty()) throw Error(ErrorCode::kInternal, "BatchLoader: a batch has no pairs");
    for (size_t i : batch) {
      if (i >= pairs.size()) {
        throw Error(ErrorCode::kInternal, "BatchLoader: pair " + std::to_string(i) + " of " +
                                              std::to_string(pairs.size()) + " does not exist");
      }
    }
  }
  s.pairs = pairs;
  s.batches = std::move(batches);
  s.height = height;
  s.width = width;
  s.depth = static_cast<size_t>(std::max(1, depth));
  s.limit = s.batches.size();
  // More threads than batches allowed in flight would only wait.
  const size_t threads =
      std::min({static_cast<size_t>(std::max(0, workers)), s.depth, s.batches.size()});
  try {
    for (size_t i = 0; i < threads; ++i) s.threads.emplace_back([&s] { s.work(); });
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(s.mutex);
      s.stop = true;
    }
    s.room.notify_all();
    for (auto& t : s.threads) t.join();
    throw;
  }
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stop = true;
  }
  state_->room.notify_all();
  for (auto& t : state_->threads) t.join();
}

std::optional<Batch> BatchLoader::next() {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mutex);
  if (s.failure) std::rethrow_exception(s.failure);
  if (s.returned >= s.batches.size()) return std::nullopt;
  Loaded loaded;
  if (s.threads.empty()) {
    lock.unlock();
    loaded = load(s.pairs, s.batches[s.returned], s.height, s.width, s.stop);
    lock.lock();
  } else {
    s.ready.wait(lock, [&s] { return s.done.count(s.returned) != 0; });
    auto it = s.done.find(s.returned);
    loaded = std::move(it->second);
    s.done.erase(it);
  }
  if (loaded.error) {
    s.failure = loaded.error;
    std::rethrow_exception(s.failure);
  }
  s.sizes.add(loaded.sizes);
  ++s.returned;
  lock.unlock();
  s.room.notify_all();
  return std::move(loaded.batch);
}

void BatchLoader::report_map_sizes(const std::string& dataset) {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.reported || s.sizes.mismatched == 0) return;
  s.reported = true;
  spdlog::warn(
      "dataset '{}': {} of the {} training pairs read have a map of another size than "
      "its stimulus ({} of them transposed), e.g. {}; check the dataset",
      dataset, s.sizes.mismatched, s.sizes.read, s.sizes.transposed, s.sizes.first);
}

}  // namespace msinet::train
