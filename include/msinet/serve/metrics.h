#pragma once
// Counters and histograms of `msinet serve`, rendered in the Prometheus text format (0.0.4).

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace msinet::serve {

/// A Prometheus histogram: cumulative buckets, a sum and a count.
class Histogram {
 public:
  /// Buckets with these upper bounds (ascending); +Inf is added.
  explicit Histogram(std::vector<double> bounds);
  /// Counts one observation.
  void observe(double value);
  /// `name`_bucket{le=...}, `name`_sum and `name`_count lines.
  std::string render(const std::string& name) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

/// What the server counts. Thread-safe.
class Metrics {
 public:
  Metrics();
  /// One answered request: its route ("other" for unknown paths) and status code.
  void count_request(const std::string& route, int status);
  /// One refused or failed request, by reason (e.g. "bad_image", "queue_full").
  void count_error(const std::string& reason);
  /// Seconds a POST /v1/saliency request took, from its body read to its answer.
  void observe_latency(double seconds);
  /// The forward-pass batch size an answered saliency request ran in.
  void observe_batch_size(int size);
  /// The whole exposition: every metric with HELP and TYPE; `queue_depth` and `pipelines` are
  /// the current gauges.
  std::string render(int64_t queue_depth, int64_t pipelines) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, uint64_t> errors_;
  Histogram latency_;
  Histogram batch_sizes_;
};

}  // namespace msinet::serve
