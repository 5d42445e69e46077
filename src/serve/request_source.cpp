#include "msinet/serve/request_source.h"

#include <new>
#include <utility>

#include "msinet/data/image.h"
#include "msinet/util/error.h"

namespace msinet::serve {

RequestSource::RequestSource(int height, int width, int64_t inputs_per_run)
    : height_(height), width_(width), inputs_per_run_(inputs_per_run) {}

std::future<pipeline::Result> RequestSource::push(std::string bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) throw Error(ErrorCode::kUsage, "the server is stopping; no new requests are taken");
  Queued q{"request-" + std::to_string(next_id_++),
           std::make_shared<const std::string>(std::move(bytes))};
  std::future<pipeline::Result> answer = waiting_[q.name].get_future();
  queue_.push_back(std::move(q));
  changed_.notify_all();
  return answer;
}

void RequestSource::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
  changed_.notify_all();
}

pipeline::Input RequestSource::input_for(Queued&& q) {
  const data::Size2 size = data::image_dimensions(*q.bytes);
  pipeline::Input in;
  in.name = q.name;
  in.pixels = static_cast<int64_t>(size.h) * size.w;
  // A request that cannot be decoded, or is too thin for the input size (what
  // preprocess_stimulus would refuse), is answered here: the pipeline only counts it.
  in.decode = [this, name = q.name, bytes = q.bytes]() -> cv::Mat {
    try {
      cv::Mat image = data::decode_image_bytes(*bytes, /*channels=*/3, "the request body");
      data::aspect_size(image.rows, image.cols, height_, width_, /*overfull=*/false);
      return image;
    } catch (const Error&) {
      fail(name, std::current_exception());
      throw;
    } catch (const std::bad_alloc&) {
      const Error e(ErrorCode::kOutOfMemory, "out of memory decoding the request body");
      fail(name, std::make_exception_ptr(e));
      throw e;
    }
  };
  return in;
}

std::optional<pipeline::Input> RequestSource::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock,
                [&] { return !queue_.empty() || closed_ || given_this_run_ >= inputs_per_run_; });
  if (queue_.empty() || given_this_run_ >= inputs_per_run_) return std::nullopt;
  Queued q = std::move(queue_.front());
  queue_.pop_front();
  ++given_this_run_;
  return input_for(std::move(q));
}

bool RequestSource::wait_ready(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_until(lock, deadline, [&] {
    return !queue_.empty() || closed_ || given_this_run_ >= inputs_per_run_;
  });
}

bool RequestSource::begin_run() {
  std::lock_guard<std::mutex> lock(mutex_);
  given_this_run_ = 0;
  return !(closed_ && queue_.empty());
}

void RequestSource::answer(pipeline::Result&& result) {
  std::promise<pipeline::Result> promise;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = waiting_.find(result.name);
    if (it == waiting_.end()) return;
    promise = std::move(it->second);
    waiting_.erase(it);
  }
  promise.set_value(std::move(result));
}

void RequestSource::fail(const std::string& name, const std::exception_ptr& error) {
  std::promise<pipeline::Result> promise;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = waiting_.find(name);
    if (it == waiting_.end()) return;
    promise = std::move(it->second);
    waiting_.erase(it);
  }
  promise.set_exception(error);
}

void RequestSource::fail_all(const std::exception_ptr& error) {
  std::map<std::string, std::promise<pipeline::Result>> failed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    failed.swap(waiting_);
    queue_.clear();
  }
  for (auto& [name, promise] : failed) promise.set_exception(error);
}

int64_t RequestSource::unanswered() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(waiting_.size());
}

}  // namespace msinet::serve
