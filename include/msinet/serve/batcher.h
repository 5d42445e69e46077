#pragma once
// Dynamic batching for `msinet serve`: one inference pipeline per requested input size, created
// on demand, all sharing one Predictor; concurrent requests of one size share forward passes.

#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "msinet/pipeline/pipeline.h"
#include "msinet/pipeline/predictor.h"
#include "msinet/serve/refused.h"
#include "msinet/util/size.h"

namespace msinet::serve {

/// How requests are batched.
struct BatcherOptions {
  int batch_size = 8;  ///< requests per forward pass at most; 1 = no batching
  std::chrono::microseconds batch_wait{5000};  ///< how long a partial batch waits for more
  int queue = 64;     ///< requests accepted and not answered yet, all sizes together
  int max_sizes = 4;  ///< input sizes with a pipeline at once
  int workers = 2;    ///< decoding and restoring threads of each pipeline
  int64_t inflight_bytes = pipeline::kDefaultInflightBytes;  ///< per pipeline
};

/// The pipelines of the input sizes in use, fed by RequestSource queues.
class Batcher {
 public:
  /// Runs every pipeline on `predictor`, which must outlive this.
  Batcher(pipeline::Predictor& predictor, BatcherOptions options);
  /// close().
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  /// Queues an encoded image for the input size `size` (checked already). Throws Refused(503)
  /// when `queue` requests are unanswered, when `max_sizes` other sizes all have requests in
  /// flight, and once closed. An idle pipeline of another size makes room for a new size.
  std::future<pipeline::Result> submit(util::Size size, std::string bytes);

  /// Takes no more requests, lets every pipeline answer those it has, and joins them.
  void close();

  /// Requests accepted and not answered yet, all sizes together.
  int64_t unanswered() const;

  /// The input sizes that have a pipeline now, as "HxW".
  std::vector<std::string> sizes_in_use() const;

 private:
  struct Lane;
  std::shared_ptr<Lane> lane_for(util::Size size);
  int64_t unanswered_locked() const;

  pipeline::Predictor& predictor_;
  const BatcherOptions options_;
  mutable std::mutex mutex_;
  std::map<std::pair<int, int>, std::shared_ptr<Lane>> lanes_;
  bool closed_ = false;
};

}  // namespace msinet::serve
