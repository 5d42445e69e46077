#include "msinet/serve/batcher.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "msinet/serve/request_source.h"

namespace msinet::serve {

namespace {
std::string size_text(int h, int w) { return std::to_string(h) + "x" + std::to_string(w); }
}  // namespace

// One input size: its request queue and the thread running its pipeline over it.
struct Batcher::Lane {
  Lane(int h, int w) : source(h, w), sink(source) {}
  RequestSource source;
  RequestSink sink;
  std::thread thread;
  std::atomic<bool> stopped{false};  // the pipeline failed; the lane takes no more requests
  std::chrono::steady_clock::time_point last_used = std::chrono::steady_clock::now();
};

Batcher::Batcher(pipeline::Predictor& predictor, BatcherOptions options)
    : predictor_(predictor), options_(options) {
  if (options_.batch_size < 1) throw Error(ErrorCode::kUsage, "--batch-size must be at least 1");
  if (options_.queue < 1) throw Error(ErrorCode::kUsage, "--queue must be at least 1");
  if (options_.max_sizes < 1) throw Error(ErrorCode::kUsage, "--max-sizes must be at least 1");
  if (options_.batch_wait.count() < 0) {
    throw Error(ErrorCode::kUsage, "--batch-wait-ms must not be negative");
  }
}

Batcher::~Batcher() { close(); }

std::shared_ptr<Batcher::Lane> Batcher::lane_for(util::Size size) {
  const auto key = std::make_pair(size.h, size.w);
  if (auto it = lanes_.find(key); it != lanes_.end()) {
    if (!it->second->stopped) return it->second;
    it->second->thread.join();  // its pipeline failed and answered everything: start afresh
    lanes_.erase(it);
  }
  if (static_cast<int>(lanes_.size()) >= options_.max_sizes) {
    // Retire the idle lane used longest ago, if there is one.
    auto idle = lanes_.end();
    for (auto it = lanes_.begin(); it != lanes_.end(); ++it) {
      if (it->second->source.unanswered() == 0 &&
          (idle == lanes_.end() || it->second->last_used < idle->second->last_used)) {
        idle = it;
      }
    }
    if (idle == lanes_.end()) {
      std::string sizes;
      for (const auto& [k, lane] : lanes_) {
        sizes += (sizes.empty() ? "" : ", ") + size_text(k.first, k.second);
      }
      throw Refused(503, "too_many_sizes",
                    "requests of " + std::to_string(lanes_.size()) +
                        " other input sizes are in flight (" + sizes +
                        "), the most at once (--max-sizes); retry, or use one of those");
    }
    idle->second->source.close();
    idle->second->thread.join();
    spdlog::debug("serve: closed the idle pipeline of {}",
                  size_text(idle->first.first, idle->first.second));
    lanes_.erase(idle);
  }
  auto lane = std::make_shared<Lane>(size.h, size.w);
  pipeline::PipelineOptions po;
  po.height = size.h;
  po.width = size.w;
  po.batch_size = options_.batch_size;
  po.batch_wait = options_.batch_wait;
  po.workers = options_.workers;
  po.keep_images = true;  // for overlay=1
  po.inflight_bytes = options_.inflight_bytes;
  po.label = "serve " + size_text(size.h, size.w);
  pipeline::check_options(po);
  Lane* l = lane.get();
  lane->thread = std::thread([this, l, po] {
    try {
      while (l->source.begin_run()) pipeline::run_pipeline(l->source, predictor_, l->sink, po);
    } catch (...) {
      spdlog::error("serve: the pipeline of {}x{} stopped; it starts again with the next request",
                    po.height, po.width);
      l->stopped = true;
      l->source.close();
      l->source.fail_all(std::current_exception());
    }
  });
  spdlog::debug("serve: started a pipeline for {}", size_text(size.h, size.w));
  lanes_[key] = lane;
  return lane;
}

std::future<pipeline::Result> Batcher::submit(util::Size size, std::string bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) throw Refused(503, "stopping", "the server is stopping; no new requests are taken");
  if (unanswered_locked() >= options_.queue) {
    throw Refused(503, "queue_full",
                  "the queue is full (" + std::to_string(options_.queue) +
                      " requests waiting, --queue); retry in a moment");
  }
  const std::shared_ptr<Lane> lane = lane_for(size);
  lane->last_used = std::chrono::steady_clock::now();
  try {
    return lane->source.push(std::move(bytes));
  } catch (const Error& e) {
    throw Refused(503, "stopping", e.what());  // the lane's pipeline stopped a moment ago
  }
}

void Batcher::close() {
  std::map<std::pair<int, int>, std::shared_ptr<Lane>> lanes;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    lanes.swap(lanes_);
  }
  for (auto& [key, lane] : lanes) lane->source.close();
  for (auto& [key, lane] : lanes) {
    if (lane->thread.joinable()) lane->thread.join();
  }
}

int64_t Batcher::unanswered_locked() const {
  int64_t n = 0;
  for (const auto& [key, lane] : lanes_) n += lane->source.unanswered();
  return n;
}

int64_t Batcher::unanswered() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return unanswered_locked();
}

std::vector<std::string> Batcher::sizes_in_use() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> sizes;
  for (const auto& [key, lane] : lanes_) sizes.push_back(size_text(key.first, key.second));
  return sizes;
}

}  // namespace msinet::serve
