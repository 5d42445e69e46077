#pragma once
// Progress reporting: a bar with rate and ETA when stderr is a terminal, nothing otherwise
// (callers log one plain line per epoch or file instead).

#include <chrono>
#include <cstdint>
#include <string>

namespace msinet::util {

/// True when stderr is a terminal.
bool stderr_is_terminal();

/// A single-line progress bar on stderr.
class Progress {
 public:
  /// `enabled` = false makes every call a no-op (use stderr_is_terminal() by default).
  Progress(std::string label, int64_t total, bool enabled = stderr_is_terminal());
  ~Progress();
  /// Redraws with `done` of `total` finished and an optional suffix (e.g. "loss 0.53").
  void update(int64_t done, const std::string& suffix = "");
  /// Ends the line.
  void finish();

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

/// "1h02m", "3m04s", "12s".
std::string format_duration(double seconds);

}  // namespace msinet::util
