#pragma once
// Shared test helpers: temporary folders and running the real msinet binary without a shell.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "msinet/util/error.h"

extern char** environ;

namespace msinet::testing {

namespace fs = std::filesystem;

/// A fresh folder under the build tree, removed at destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    std::random_device rd;
    path_ = fs::path(MSINET_BINARY_DIR) / "test-tmp" /
            (tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// A child process started with posix_spawn (argv, no shell); stdout and stderr go to files.
class Process {
 public:
  Process(const std::vector<std::string>& args, const fs::path& log_dir,
          const std::vector<std::string>& extra_env = {}) {
    out_ = log_dir / ("proc-" + std::to_string(counter()++) + ".log");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    // An extra entry replaces an inherited one of the same name (getenv takes the first).
    std::vector<std::string> env_store = extra_env;
    const auto named_in_extra = [&](const std::string& entry) {
      const std::string name = entry.substr(0, entry.find('=') + 1);
      for (const auto& e : extra_env)
        if (e.compare(0, name.size(), name) == 0) return true;
      return false;
    };
    for (char** e = environ; *e; ++e)
      if (!named_in_extra(*e)) env_store.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : env_store) envp.push_back(e.data());
    envp.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  /// Waits and returns the exit code (128 + signal when killed).
  int wait() {
    if (pid_ <= 0) return -1;
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  std::string output() const {
    std::ifstream in(out_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  static int& counter() {
    static int c = 0;
    return c;
  }
  pid_t pid_ = -1;
  fs::path out_;
};

/// Path of the msinet executable in the build tree.
inline std::string msinet_binary() { return std::string(MSINET_BINARY_DIR) + "/msinet"; }

/// Runs msinet to completion; returns the exit code and fills `output`.
inline int run_msinet(const std::vector<std::string>& args, const fs::path& log_dir,
                      std::string* output = nullptr,
                      const std::vector<std::string>& extra_env = {}) {
  std::vector<std::string> full = {msinet_binary()};
  full.insert(full.end(), args.begin(), args.end());
  Process p(full, log_dir, extra_env);
  const int rc = p.wait();
  if (output) *output = p.output();
  return rc;
}

/// The msinet::Error that `f` throws; a test failure (and an Error with code kOk) when none.
template <typename F>
Error thrown_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no msinet::Error thrown";
  return Error(ErrorCode::kOk, "");
}

/// The whole of a file (empty when it cannot be read).
inline std::string read_file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Lines of a text file.
inline std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// Every path under `root`, folders with a trailing '/', sorted; empty when it does not exist.
inline std::vector<std::string> listing(const fs::path& root) {
  std::vector<std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    out.push_back(e.path().lexically_relative(root).generic_string() +
                  (e.is_directory() ? "/" : ""));
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Limits this process's address space to what it maps now plus `extra` bytes, so that
/// allocations for sizes a damaged file declares fail as they do where memory is short.
inline void limit_address_space_to_current_plus(rlim_t extra) {
  long pages = 0;
  std::ifstream("/proc/self/statm") >> pages;
  const rlim_t limit = static_cast<rlim_t>(pages) * sysconf(_SC_PAGESIZE) + extra;
  const rlimit as{limit, limit};
  setrlimit(RLIMIT_AS, &as);
}

}  // namespace msinet::testing
