#include "msinet/util/process_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "msinet/util/error.h"

namespace msinet::util {

namespace fs = std::filesystem;

namespace {

std::string read_all(int fd) {
  std::string text;
  char buf[64];
  ::lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  return text;
}

// The path still names the file `fd` has open (the last holder did not remove it meanwhile).
bool same_file(int fd, const fs::path& file) {
  struct stat open_st {
  }, path_st{};
  return ::fstat(fd, &open_st) == 0 && ::stat(file.c_str(), &path_st) == 0 &&
         open_st.st_dev == path_st.st_dev && open_st.st_ino == path_st.st_ino;
}

}  // namespace

ProcessLock::ProcessLock(const fs::path& file, const std::string& what, ErrorCode busy, bool wait)
    : file_(file) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  for (int attempt = 0; attempt < 5; ++attempt) {
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      throw Error(ErrorCode::kIo,
                  "cannot create the lock file '" + file.string() + "': " + std::strerror(errno));
    }
    if (wait && ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      spdlog::info("waiting for another msinet process (PID {}) that is {}", read_all(fd_), what);
      while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const std::string holder = read_all(fd_);
      ::close(fd_);
      fd_ = -1;
      throw Error(busy, "another msinet process" +
                            (holder.empty() ? std::string() : " (PID " + holder + ")") + " is " +
                            what + " (lock '" + file.string() +
                            "'); wait for it to finish or stop it");
    }
    if (same_file(fd_, file)) break;
    ::close(fd_);  // removed by its last holder between open and flock: lock the new one
    fd_ = -1;
  }
  if (fd_ < 0) throw Error(ErrorCode::kIo, "cannot lock '" + file.string() + "'");
  const std::string previous = read_all(fd_);
  if (!previous.empty()) {
    spdlog::info("took over the lock '{}' of PID {}, which is no longer running", file.string(),
                 previous);
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    spdlog::warn("could not record this process in the lock '{}'", file.string());
  }
}

ProcessLock::~ProcessLock() {
  if (fd_ < 0) return;
  ::unlink(file_.c_str());
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

}  // namespace msinet::util
