#pragma once
// SIGINT and SIGTERM for a server: taken by one watcher thread instead of the process-wide flag
// (util/signals.h), so that the pipelines answering requests are never interrupted mid-way.

#include <atomic>
#include <thread>

namespace msinet::serve {

/// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts afterwards (so
/// construct it before any other thread, LibTorch's included), and waits for them on a thread
/// of its own: the first one is recorded (received()); a second one kills the process at once
/// (the default action).
class StopSignals {
 public:
  /// Starts watching.
  StopSignals();
  /// Stops watching (a signal still blocked stays pending).
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  /// The signal that asked for a stop; 0 while none did.
  int received() const { return received_; }

 private:
  std::atomic<bool> done_{false};
  std::atomic<int> received_{0};
  std::thread watcher_;
};

}  // namespace msinet::serve
