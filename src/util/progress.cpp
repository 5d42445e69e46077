#include "msinet/util/progress.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <vector>

#include "msinet/util/logging.h"

namespace msinet::util {

namespace {
std::atomic<double> g_interval{30.0};
// Lines at each tenth of the work wait this long after the start, so a job of a second or two
// (a few images) logs nothing; a shorter interval lowers it.
constexpr double kQuietStart = 1.0;
}  // namespace

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

bool progress_draws_bar() { return stderr_is_terminal() && log_format() == LogFormat::kText; }

void set_progress_interval(double seconds) { g_interval = std::max(0.0, seconds); }

double progress_interval() { return g_interval; }

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e8) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lds", s);
  }
  return buf;
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      mode_(!enabled               ? Mode::kOff
            : progress_draws_bar() ? Mode::kBar
                                   : Mode::kLines),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::resume_from(int64_t done) {
  first_done_ = done;
  if (total_ > 0) last_tenth_ = static_cast<int>(10 * done / total_);
}

void Progress::count_bytes() { bytes_ = true; }

void Progress::set_work_after(int64_t units, double seconds) {
  has_after_ = true;
  after_units_ = units;
  after_seconds_ = seconds;
}

void Progress::update(int64_t done, const std::string& suffix) {
  if (mode_ == Mode::kOff || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double since_draw = std::chrono::duration<double>(now - last_draw_).count();
  const int tenth = total_ > 0 ? static_cast<int>(10 * std::min(done, total_) / total_) : 0;
  if (mode_ == Mode::kBar) {
    if (done < total_ && drawn_ && since_draw < 0.1) return;
  } else {
    const double interval = progress_interval();
    const bool milestone = tenth > last_tenth_ && elapsed >= std::min(kQuietStart, interval);
    if (since_draw < interval && !milestone) return;
  }
  last_draw_ = now;
  last_tenth_ = tenth;
  drawn_ = true;
  const double rate = elapsed > 0 ? static_cast<double>(done - first_done_) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1.0;
  if (mode_ == Mode::kBar) {
    draw_bar(done, rate, eta, suffix);
  } else {
    log_line(done, elapsed, rate, eta, suffix);
  }
}

void Progress::draw_bar(int64_t done, double rate, double eta, const std::string& suffix) {
  const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 0.0;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<size_t>(std::clamp(filled, 0, kWidth)), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r%s [%s] %lld/%lld %.2f/s ETA %s %s\033[K", label_.c_str(), bar.c_str(),
               static_cast<long long>(done), static_cast<long long>(total_), rate,
               format_duration(eta).c_str(), suffix.c_str());
  std::fflush(stderr);
}

void Progress::log_line(int64_t done, double elapsed, double rate, double eta,
                        const std::string& suffix) {
  const bool has_after = has_after_;
  double run_eta = -1.0;
  if (has_after && eta >= 0) {
    run_eta = eta + (after_seconds_ >= 0 ? after_seconds_
                     : after_units_ > 0  ? static_cast<double>(after_units_) / rate
                                         : 0.0);
  }
  char percent[32];
  std::snprintf(percent, sizeof percent, " (%.0f%%), ",
                total_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 0.0);
  char speed[32];
  std::snprintf(speed, sizeof speed, "%.2f/s", rate);
  std::string message = label_ + ": " +
                        (bytes_ ? format_bytes(static_cast<double>(done)) + "/" +
                                      format_bytes(static_cast<double>(total_))
                                : std::to_string(done) + "/" + std::to_string(total_)) +
                        percent + (bytes_ ? format_bytes(rate) + "/s" : std::string(speed)) +
                        ", ETA " + format_duration(eta);
  if (has_after) message += ", run ETA " + format_duration(run_eta);
  if (!suffix.empty()) message += ", " + suffix;
  std::vector<LogField> fields = {
      {"event", std::string("progress")},
      {"label", label_},
      {"done", done},
      {"total", total_},
      {"rate", rate},
      {"elapsed_s", elapsed},
      {"eta_s", eta >= 0 ? eta : NAN},
  };
  if (has_after) fields.push_back({"run_eta_s", run_eta >= 0 ? run_eta : NAN});
  if (bytes_) fields.push_back({"unit", std::string("bytes")});
  if (!suffix.empty()) fields.push_back({"detail", suffix});
  log_with_fields(spdlog::level::info, message, fields);
}

void Progress::finish() {
  if (mode_ == Mode::kOff || finished_) return;
  finished_ = true;
  if (mode_ == Mode::kBar && drawn_) {
    std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }
}

}  // namespace msinet::util
