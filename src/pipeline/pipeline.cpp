#include "msinet/pipeline/pipeline.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <utility>

#include "msinet/data/image.h"
#include "msinet/util/error.h"
#include "msinet/util/progress.h"
#include "msinet/util/signals.h"
#include "msinet/util/size.h"
#include "msinet/util/task_pool.h"

namespace msinet::pipeline {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// An input decoded and preprocessed, or why it could not be.
struct Prepared {
  std::string name;
  int64_t cost = 0;           // bytes charged to the in-flight budget until consumed
  int height = 0, width = 0;  // of the decoded image, for restoring
  cv::Mat image;              // the decoded RGB image, only when the sink asked for it
  cv::Mat stimulus;
  int batch_size = 0;  // inputs in its forward pass
  ErrorCode code = ErrorCode::kOk;
  std::string error;
};

// Outcome of restoring and consuming one map.
struct Consumed {
  std::string name;
  int64_t cost = 0;
  ErrorCode code = ErrorCode::kOk;
  std::string error;
};

// What an input is charged against PipelineOptions::inflight_bytes; one of unknown size is
// charged as if it had the network's input size.
int64_t inflight_cost(const Input& input, const PipelineOptions& o) {
  const int64_t pixels = input.pixels > 0 ? input.pixels : int64_t{o.height} * o.width;
  return pixels * kInflightBytesPerPixel;
}

Prepared prepare(const Input& input, int64_t cost, const PipelineOptions& o) {
  Prepared p;
  p.name = input.name;
  p.cost = cost;
  try {
    cv::Mat image = input.decode();
    p.height = image.rows;
    p.width = image.cols;
    p.stimulus = data::preprocess_stimulus(image, o.height, o.width);
    if (o.keep_images) p.image = std::move(image);
  } catch (const Error& e) {
    p.code = e.code();
    p.error = e.what();
  }
  return p;
}

// Input order for a sink that is not concurrent: each result takes a ticket as it leaves the
// network (batches leave in input order), is restored on any worker, and then waits for its turn
// to be consumed. The pool runs tasks first come, first served, so the ticket before a waiting
// one is always running or done: the wait ends.
class Turns {
 public:
  int64_t take() { return next_++; }
  std::unique_lock<std::mutex> wait_for(int64_t ticket) {
    std::unique_lock<std::mutex> lock(mutex_);
    turn_.wait(lock, [&] { return serving_ == ticket; });
    return lock;
  }
  void served(std::unique_lock<std::mutex> lock) {
    ++serving_;
    lock.unlock();
    turn_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable turn_;
  int64_t next_ = 0;     // tickets handed out (only by the network's thread)
  int64_t serving_ = 0;  // the ticket whose consume() may run
};

}  // namespace

void check_options(const PipelineOptions& o) {
  util::check_input_size({o.height, o.width}, "the input size");
  if (o.batch_size < 1) throw Error(ErrorCode::kUsage, "--batch-size must be at least 1");
  if (o.workers < 1) throw Error(ErrorCode::kUsage, "workers must be at least 1");
  if (o.inflight_bytes < 1) throw Error(ErrorCode::kUsage, "the in-flight memory must be positive");
}

PipelineResult run_pipeline(Source& source, Predictor& predictor, Sink& sink,
                            const PipelineOptions& o) {
  check_options(o);
  const auto t0 = std::chrono::steady_clock::now();
  PipelineResult result;
  util::Progress progress(o.label, source.size(), o.progress);
  int64_t finished = 0;
  auto fail = [&](const std::string& name, const std::string& why) {
    spdlog::error("{}", why);
    result.failures.push_back({name, why});
    ++result.failed;
    progress.update(++finished);
  };
  // At most `depth` inputs decoded ahead of the network and `depth` maps waiting behind it.
  const size_t depth = static_cast<size_t>(2 * o.batch_size + 2);
  std::deque<std::future<Prepared>> ahead;
  std::deque<std::future<Consumed>> behind;
  Turns turns;  // input order for a sink that is not concurrent
  util::TaskPool pool(o.workers);
  bool exhausted = false;
  std::optional<Input> pending;  // taken from the source, waiting for room in the budget
  int64_t inflight = 0;          // bytes charged by inputs between decoding and consuming

  auto collect = [&]() {
    const Consumed c = behind.front().get();
    behind.pop_front();
    inflight -= c.cost;
    if (c.code == ErrorCode::kOk) {
      ++result.done;
      progress.update(++finished);
      return;
    }
    if (c.code == ErrorCode::kIo) throw Error(c.code, c.error);  // a full disk stops the run
    fail(c.name, c.error);
  };
  std::vector<Prepared> batch;
  auto flush = [&]() {
    if (batch.empty()) return;
    std::vector<cv::Mat> stimuli;
    for (const auto& b : batch) stimuli.push_back(b.stimulus);
    const auto f0 = std::chrono::steady_clock::now();
    const std::vector<cv::Mat> maps = predictor.predict(stimuli);
    result.forward_seconds += seconds_since(f0);
    for (auto& b : batch) b.batch_size = static_cast<int>(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      behind.push_back(
          pool.submit([&, ticket = turns.take(), p = std::move(batch[i]), map = maps[i]]() {
            Consumed c;
            c.name = p.name;
            c.cost = p.cost;
            std::optional<Result> r;
            std::exception_ptr unexpected;  // not an Error: passed on once the turn is served
            auto attempt = [&](auto&& f) {
              try {
                f();
              } catch (const Error& e) {
                c.code = e.code();
                c.error = e.what();
              } catch (...) {
                unexpected = std::current_exception();
              }
            };
            attempt([&] {
              r = Result{p.name, p.image,
                         o.restore ? data::restore_map(map, p.height, p.width) : map, p.batch_size};
              if (sink.concurrent()) sink.consume(std::move(*std::exchange(r, std::nullopt)));
            });
            if (!sink.concurrent()) {
              // Served even when restoring failed, so the results after this one go on.
              std::unique_lock<std::mutex> lock = turns.wait_for(ticket);
              if (r) attempt([&] { sink.consume(std::move(*r)); });
              turns.served(std::move(lock));
            }
            if (unexpected) std::rethrow_exception(unexpected);
            return c;
          }));
    }
    batch.clear();
    while (behind.size() > depth) collect();
  };
  // Decodes ahead while there is room in depth and in bytes; with nothing in flight, any input
  // has room. While a batch fills or inputs decode, only a ready source is asked for more.
  auto decode_ahead = [&]() {
    while (ahead.size() < depth) {
      if (!pending && !exhausted) {
        if ((!ahead.empty() || !batch.empty()) &&
            !source.wait_ready(std::chrono::steady_clock::now())) {
          return;
        }
        pending = source.next();
        exhausted = !pending;
      }
      if (!pending) return;
      const int64_t cost = inflight_cost(*pending, o);
      if (inflight > 0 && inflight + cost > o.inflight_bytes) return;
      inflight += cost;
      ahead.push_back(
          pool.submit([in = std::move(*pending), cost, &o]() { return prepare(in, cost, o); }));
      pending.reset();
    }
  };
  auto batch_deadline = std::chrono::steady_clock::now();  // when a partial batch runs
  for (;;) {
    decode_ahead();
    if (ahead.empty()) {
      if (!batch.empty() && !pending && !exhausted) {
        // A partial batch and a source with nothing ready: more may come until the deadline.
        if (!source.wait_ready(batch_deadline)) flush();
        continue;
      }
      if (!pending) break;
      // The budget is held by the batch and the maps behind the network: finish those first.
      flush();
      while (!behind.empty()) collect();
      continue;
    }
    if (util::interrupt_requested()) {
      for (auto& consumed : behind) consumed.wait();
      throw Error(ErrorCode::kInterrupted, o.label + " interrupted after " +
                                               std::to_string(result.done) +
                                               " result(s); those written so far are complete");
    }
    Prepared p = ahead.front().get();
    ahead.pop_front();
    if (p.code != ErrorCode::kOk) {
      inflight -= p.cost;
      if (p.code == ErrorCode::kIo) throw Error(p.code, p.error);
      fail(p.name, p.error);
      continue;
    }
    if (batch.empty()) batch_deadline = std::chrono::steady_clock::now() + o.batch_wait;
    batch.push_back(std::move(p));
    if (static_cast<int>(batch.size()) >= o.batch_size) flush();
  }
  flush();
  while (!behind.empty()) collect();
  progress.finish();
  result.total_seconds = seconds_since(t0);
  return result;
}

ImageFiles::ImageFiles(std::vector<std::string> paths) : paths_(std::move(paths)) {}

std::optional<Input> ImageFiles::next() {
  if (next_ >= paths_.size()) return std::nullopt;
  const std::string path = paths_[next_++];
  const data::Size2 size = data::read_image_dimensions(path);
  return Input{path, [path] { return data::decode_image(path, 3); },
               static_cast<int64_t>(size.h) * size.w};
}

int64_t ImageFiles::size() const { return static_cast<int64_t>(paths_.size()); }

}  // namespace msinet::pipeline
