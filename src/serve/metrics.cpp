#include "msinet/serve/metrics.h"

#include <cmath>
#include <sstream>

namespace msinet::serve {

namespace {

// A value as Prometheus reads it: integers without a fraction, others with enough digits.
std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream s;
  s.precision(12);
  s << v;
  return s.str();
}

void header(std::ostringstream& out, const std::string& name, const std::string& type,
            const std::string& help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

std::string Histogram::render(const std::string& name) const {
  std::ostringstream out;
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? number(bounds_[i]) : "+Inf";
    out << name << "_bucket{le=\"" << le << "\"} " << cumulative << '\n';
  }
  out << name << "_sum " << number(sum_) << '\n' << name << "_count " << count_ << '\n';
  return out.str();
}

Metrics::Metrics()
    : latency_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
      batch_sizes_({1, 2, 4, 8, 16, 32, 64}) {}

void Metrics::count_request(const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, status}];
}

void Metrics::count_error(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++errors_[reason];
}

void Metrics::observe_latency(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  latency_.observe(seconds);
}

void Metrics::observe_batch_size(int size) {
  std::lock_guard<std::mutex> lock(mutex_);
  batch_sizes_.observe(size);
}

std::string Metrics::render(int64_t queue_depth, int64_t pipelines) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::ostringstream out;
  header(out, "msinet_requests_total", "counter", "HTTP requests answered, by route and status.");
  for (const auto& [key, n] : requests_) {
    out << "msinet_requests_total{route=\"" << key.first << "\",code=\"" << key.second << "\"} "
        << n << '\n';
  }
  header(out, "msinet_request_errors_total", "counter", "Requests refused or failed, by reason.");
  for (const auto& [reason, n] : errors_) {
    out << "msinet_request_errors_total{reason=\"" << reason << "\"} " << n << '\n';
  }
  header(out, "msinet_request_duration_seconds", "histogram",
         "Time from a POST /v1/saliency body read to its answer.");
  out << latency_.render("msinet_request_duration_seconds");
  header(out, "msinet_batch_size", "histogram",
         "Forward-pass batch size each answered saliency request ran in.");
  out << batch_sizes_.render("msinet_batch_size");
  header(out, "msinet_queue_depth", "gauge", "Saliency requests accepted and not answered yet.");
  out << "msinet_queue_depth " << queue_depth << '\n';
  header(out, "msinet_pipelines", "gauge", "Input sizes with a running pipeline.");
  out << "msinet_pipelines " << pipelines << '\n';
  return out.str();
}

}  // namespace msinet::serve
