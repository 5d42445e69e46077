#pragma once
// What the parts of `msinet bench` share: clocks, timed calls, result rows, text figures and map
// correlation.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "msinet/bench/bench.h"

namespace msinet::bench {

/// Seconds on a monotonic clock.
double wall_now();
/// CPU seconds of this process, all threads.
double cpu_now();
/// The 1-minute load average; -1 when unknown.
double load_average();
double median(std::vector<double> v);

/// "240x320".
std::string size_text(int h, int w);
/// `v` with `digits` decimals.
std::string fixed(double v, int digits);

/// Wall and CPU seconds of one call.
struct Sample {
  double wall = 0, cpu = 0;
};

/// One warm-up call, then `iters` timed calls; medians.
Sample time_calls(const std::function<void()>& f, int iters);

/// Each function warmed up once, then called round-robin `iters` times, so that a change in the
/// machine's load hits every variant alike; medians.
std::vector<Sample> time_interleaved(const std::vector<std::function<void()>>& fs, int iters);

/// A timed forward configuration; `peak` (GFLOP/s of the same precision, 0: none) gives its
/// fraction of the peak.
ForwardResult forward_row(const std::string& variant, const std::string& precision, int h, int w,
                          int batch, const Sample& s, double peak);

/// Pearson correlation of two maps (0 when either is constant).
double correlation(const torch::Tensor& a, const torch::Tensor& b);

/// Runs `argv` (no shell; argv[0] looked up in PATH) and returns what it wrote to stdout; its
/// stderr is ours. Throws Error(kInput) ending with `hint` when it cannot be started, and
/// Error(kInternal) when it does not exit with 0.
std::string run_capture(const std::vector<std::string>& argv, const std::string& hint);

/// The last non-empty line of `text` (a peer's JSON report), without its line end.
std::string last_line(const std::string& text);

inline torch::Tensor to_cpu(const torch::Tensor& t) { return t.to(torch::kCPU); }

}  // namespace msinet::bench
