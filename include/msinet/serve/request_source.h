#pragma once
// Requests of one input size as a pipeline Source (a bounded blocking queue of encoded images)
// and the Sink that hands each map back to the request waiting for it (a promise).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "msinet/pipeline/pipeline.h"

namespace msinet::serve {

/// Encoded images waiting for the pipeline of one input size, and the promises of their maps.
class RequestSource : public pipeline::Source {
 public:
  /// Requests for the network input `height` x `width`; one pipeline run ends after
  /// `inputs_per_run` inputs (see next()), so that its failure list stays bounded.
  RequestSource(int height, int width, int64_t inputs_per_run = 10'000);

  /// Queues encoded JPEG or PNG bytes; the future gets the restored map (with the decoded image
  /// and the batch size) or the Error that stopped the request (Error(kInput) for bytes that
  /// cannot be decoded). Throws Error(kUsage) once closed.
  std::future<pipeline::Result> push(std::string bytes);

  /// Takes no more requests; next() gives those already queued, then the end.
  void close();

  /// The oldest request (blocks until there is one), or nothing when closed and empty, or when
  /// this run has had `inputs_per_run` inputs (begin_run() starts the next run).
  std::optional<pipeline::Input> next() override;
  /// Whether next() would return at once, waiting until `deadline` at most.
  bool wait_ready(std::chrono::steady_clock::time_point deadline) override;

  /// Starts a pipeline run: next() gives `inputs_per_run` inputs again. False when closed and
  /// empty, i.e. when no run is needed any more.
  bool begin_run();

  /// Hands a map to the request Result::name names.
  void answer(pipeline::Result&& result);
  /// Fails the request `name` with `error` (nothing happens when it was answered already).
  void fail(const std::string& name, const std::exception_ptr& error);
  /// Fails every request not answered yet, queued ones included (the pipeline stopped).
  void fail_all(const std::exception_ptr& error);

  /// Requests queued or in the pipeline, not answered yet.
  int64_t unanswered() const;

 private:
  struct Queued {
    std::string name;
    std::shared_ptr<const std::string> bytes;
  };
  pipeline::Input input_for(Queued&& queued);

  const int height_, width_;
  const int64_t inputs_per_run_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Queued> queue_;
  std::map<std::string, std::promise<pipeline::Result>> waiting_;
  bool closed_ = false;
  int64_t given_this_run_ = 0;
  uint64_t next_id_ = 0;
};

/// Hands each map of a pipeline run over a RequestSource back to its request.
class RequestSink : public pipeline::Sink {
 public:
  /// Answers the requests of `source`.
  explicit RequestSink(RequestSource& source) : source_(source) {}
  /// Fulfils the promise of the request `result` belongs to.
  void consume(pipeline::Result&& result) override { source_.answer(std::move(result)); }

 private:
  RequestSource& source_;
};

}  // namespace msinet::serve
