#pragma once
// One process at a time on a resource (a training run's results, a dataset being prepared): an
// exclusive flock on a lock file that holds the holder's PID.

#include <filesystem>
#include <string>

#include "msinet/util/error.h"

namespace msinet::util {

/// Holds `file` locked for its lifetime and removes it at the end. A second holder gets
/// Error(`busy`) naming `what` and the PID that holds it. A lock left by a process that is gone
/// (kill -9) is free again, as the kernel releases flock locks; taking it over is logged with the
/// old PID. With `wait`, a second holder waits until the first is done instead.
class ProcessLock {
 public:
  ProcessLock(const std::filesystem::path& file, const std::string& what,
              ErrorCode busy = ErrorCode::kIo, bool wait = false);
  ~ProcessLock();
  ProcessLock(const ProcessLock&) = delete;
  ProcessLock& operator=(const ProcessLock&) = delete;

 private:
  std::filesystem::path file_;
  int fd_ = -1;
};

}  // namespace msinet::util
