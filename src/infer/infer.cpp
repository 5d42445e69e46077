#include "msinet/infer/infer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "msinet/data/image.h"
#include "msinet/infer/predictor.h"
#include "msinet/infer/published.h"
#include "msinet/train/checkpoint.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/util/progress.h"
#include "msinet/util/signals.h"

namespace msinet::infer {

namespace fs = std::filesystem;

namespace {

// The output path of `image`: its path relative to the input folder, under `out_dir`, with
// the format's extension (the original writes <stem>.jpeg into results/images/).
fs::path output_path(const fs::path& input_root, const fs::path& image, const fs::path& out_dir,
                     const std::string& suffix) {
  fs::path rel = image.filename();
  std::error_code ec;
  if (fs::is_directory(input_root, ec)) rel = image.lexically_relative(input_root);
  rel.replace_extension();
  return out_dir / (rel.string() + suffix);
}

// A decoded and preprocessed image, or why it could not be.
struct Prepared {
  fs::path path;
  cv::Mat original;  // RGB, only kept when an overlay is wanted
  int h = 0, w = 0;
  cv::Mat stimulus;
  bool ok = false;
  ErrorCode code = ErrorCode::kOk;
  std::string error;
};

// Outcome of restoring and writing one map.
struct Written {
  fs::path path;
  bool ok = false;
  ErrorCode code = ErrorCode::kOk;
  std::string error;
};

// A fixed set of threads running queued tasks in order. Destruction drops the tasks not yet
// started and waits for the running ones.
class TaskPool {
 public:
  explicit TaskPool(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }
  ~TaskPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      tasks_.clear();
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  template <typename F>
  auto submit(F f) -> std::future<decltype(f())> {
    auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::move(f));
    auto future = task->get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.emplace_back([task] { (*task)(); });
    }
    wake_.notify_one();
    return future;
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
        if (stop_) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  bool stop_ = false;
};

Prepared prepare(const fs::path& path, int height, int width, bool keep_original) {
  Prepared p;
  p.path = path;
  try {
    cv::Mat rgb = data::decode_image(path, 3);
    p.h = rgb.rows;
    p.w = rgb.cols;
    p.stimulus = data::preprocess_stimulus(rgb, height, width);
    if (keep_original) p.original = rgb;
    p.ok = true;
  } catch (const Error& e) {
    p.code = e.code();
    p.error = e.what();
  }
  return p;
}

}  // namespace

fs::path resolve_weights(const std::string& dataset, const fs::path& results_dir,
                         const fs::path& weights_dir) {
  const fs::path best = results_dir / "ckpts" / "best" / (dataset + train::kCheckpointSuffix);
  std::error_code ec;
  if (fs::is_regular_file(best, ec)) return best;
  return ensure_published_weights(dataset, weights_dir);
}

InferResult run_test(const InferOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  InferResult result;
  const data::MapFormat format = data::parse_map_format(o.format);
  if (o.height <= 0 || o.width <= 0 || o.height % 8 != 0 || o.width % 8 != 0) {
    throw Error(ErrorCode::kUsage, "input size " + std::to_string(o.height) + "x" +
                                       std::to_string(o.width) + " must be multiples of 8");
  }
  if (o.batch_size < 1) throw Error(ErrorCode::kUsage, "--batch-size must be at least 1");
  const std::vector<fs::path> images = util::list_images(o.input);
  if (images.empty()) {
    throw Error(ErrorCode::kInput,
                "no .png, .jpg or .jpeg images under '" + o.input.string() + "'");
  }
  result.weights =
      o.weights.empty() ? resolve_weights(o.dataset, o.results_dir, o.weights_dir) : o.weights;
  result.output_dir = o.output_dir.empty() ? o.results_dir / "images" : o.output_dir;
  spdlog::info("test: {} image(s) from '{}', input {}x{}, weights '{}'", images.size(),
               o.input.string(), o.height, o.width, result.weights.string());
  Predictor predictor(result.weights, o.device, o.precision);
  spdlog::info("device: {} ({})", predictor.device_name(), predictor.describe());

  util::Progress progress("test", static_cast<int64_t>(images.size()),
                          o.progress && util::stderr_is_terminal());
  int64_t done = 0;
  auto fail = [&](const fs::path& p, const std::string& why) {
    spdlog::error("{}", why);
    result.failures.push_back(p.string() + ": " + why);
    ++result.failed;
    progress.update(++done);
  };
  // At most `depth` images decoded ahead of the network and `depth` maps waiting to be written.
  const size_t depth = static_cast<size_t>(2 * o.batch_size + 2);
  const int workers = o.workers > 0 ? o.workers : 2;
  std::deque<std::future<Prepared>> ahead;
  std::deque<std::future<Written>> behind;
  size_t next = 0;
  TaskPool pool(workers);

  auto collect_write = [&]() {
    const Written w = behind.front().get();
    behind.pop_front();
    if (w.ok) {
      ++result.written;
      progress.update(++done);
      return;
    }
    if (w.code == ErrorCode::kIo) throw Error(w.code, w.error);  // a full disk stops the run
    fail(w.path, w.error);
  };
  std::vector<Prepared> batch;
  auto flush = [&]() {
    if (batch.empty()) return;
    std::vector<cv::Mat> stimuli;
    for (const auto& b : batch) stimuli.push_back(b.stimulus);
    const auto f0 = std::chrono::steady_clock::now();
    const std::vector<cv::Mat> maps = predictor.predict(stimuli);
    result.forward_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - f0).count();
    for (size_t i = 0; i < batch.size(); ++i) {
      const fs::path map_path =
          output_path(o.input, batch[i].path, result.output_dir, data::map_file_extension(format));
      const fs::path overlay_path =
          output_path(o.input, batch[i].path, result.output_dir, "_overlay.jpeg");
      behind.push_back(pool.submit([p = std::move(batch[i]), map = maps[i], map_path, overlay_path,
                                    format, overlay = o.overlay]() {
        Written w;
        w.path = p.path;
        try {
          const cv::Mat restored = data::restore_map(map, p.h, p.w);
          data::write_map(map_path, restored, format);
          if (overlay) data::write_overlay(overlay_path, data::make_overlay(p.original, restored));
          w.ok = true;
        } catch (const Error& e) {
          w.code = e.code();
          w.error = e.what();
        }
        return w;
      }));
    }
    batch.clear();
    while (behind.size() > depth) collect_write();
  };
  for (;;) {
    while (ahead.size() < depth && next < images.size()) {
      ahead.push_back(pool.submit([path = images[next++], h = o.height, w = o.width,
                                   keep = o.overlay]() { return prepare(path, h, w, keep); }));
    }
    if (ahead.empty()) break;
    if (util::interrupt_requested()) {
      throw Error(ErrorCode::kInterrupted, "interrupted after " + std::to_string(result.written) +
                                               " map(s); the maps written so far are complete");
    }
    Prepared p = ahead.front().get();
    ahead.pop_front();
    if (!p.ok) {
      if (p.code == ErrorCode::kIo) throw Error(p.code, p.error);
      fail(p.path, p.error);
      continue;
    }
    batch.push_back(std::move(p));
    if (static_cast<int>(batch.size()) >= o.batch_size) flush();
  }
  flush();
  while (!behind.empty()) collect_write();
  progress.finish();
  result.total_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info("test: wrote {} map(s) to '{}' ({} failed) in {:.2f} s ({:.2f} s in the network)",
               result.written, result.output_dir.string(), result.failed, result.total_seconds,
               result.forward_seconds);
  return result;
}

}  // namespace msinet::infer
