#pragma once
// Progress of a long job on stderr: a bar with rate and ETA when stderr is a terminal and the log
// is text; otherwise plain log lines (through spdlog, so JSON logs get structured fields) every
// progress_interval() seconds or every tenth of the work, whichever comes first.

#include <chrono>
#include <cstdint>
#include <string>

namespace msinet::util {

/// True when stderr is a terminal.
bool stderr_is_terminal();

/// True when progress is drawn as a bar (stderr is a terminal and the log is text); otherwise it
/// goes into the log as lines.
bool progress_draws_bar();

/// Seconds between progress lines in logs (the configuration key progress_interval); 0 = a
/// line at every update.
void set_progress_interval(double seconds);

/// The interval set by set_progress_interval (30 s before).
double progress_interval();

/// The progress of one job (`total` units of work) on stderr.
class Progress {
 public:
  /// `enabled` = false makes every call a no-op.
  Progress(std::string label, int64_t total, bool enabled = true);
  ~Progress();
  /// Reports `done` of `total` finished and an optional suffix (e.g. "loss 0.53").
  void update(int64_t done, const std::string& suffix = "");
  /// The rate counts from `done` units (a resumed job's earlier work took no time here).
  void resume_from(int64_t done);
  /// Work that follows this one (later epochs) for the ETA of the whole run: `seconds` when
  /// known (>= 0), else `units` at this job's rate.
  void set_work_after(int64_t units, double seconds = -1.0);
  /// Counts bytes: the lines show "1.5 MiB/3.0 MiB" and "MiB/s" (the fields stay in bytes).
  void count_bytes();
  /// Ends the bar's line.
  void finish();

 private:
  enum class Mode { kOff, kBar, kLines };
  void draw_bar(int64_t done, double rate, double eta, const std::string& suffix);
  void log_line(int64_t done, double elapsed, double rate, double eta, const std::string& suffix);

  std::string label_;
  int64_t total_;
  Mode mode_;
  bool finished_ = false;
  bool drawn_ = false;
  bool has_after_ = false;
  bool bytes_ = false;
  int64_t first_done_ = 0;
  int64_t after_units_ = 0;
  double after_seconds_ = -1.0;
  int last_tenth_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

/// "1h02m", "3m04s", "12s".
std::string format_duration(double seconds);

/// "512 B", "1.5 MiB", ...
std::string format_bytes(double bytes);

}  // namespace msinet::util
