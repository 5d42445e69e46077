#pragma once
// Helpers of the tests that train through the real binary: a learnable dataset made at test
// time, a child process whose raw wait status is kept, and checkpoint contents read with
// LibTorch alone.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "msinet/model/msinet.h"
#include "test_support.h"
#include "tools/synthetic_photo.h"

namespace msinet::testing {

// A photo with a bright disc at a random place, and a map with a blob on the disc: a network
// that learns finds the blob where the disc is.
inline void make_training_pair(const fs::path& dir, const std::string& stem, int seed) {
  cv::RNG rng(seed);
  cv::Point c;
  const cv::Mat img = synthetic_photo(64, 64, rng, &c);
  cv::Mat map(64, 64, CV_8UC1, cv::Scalar(0));
  cv::circle(map, c, 10, cv::Scalar(255), cv::FILLED);
  cv::GaussianBlur(map, map, cv::Size(0, 0), 5.0);
  ASSERT_TRUE(cv::imwrite((dir / "stimuli" / (stem + ".png")).string(), img));
  ASSERT_TRUE(cv::imwrite((dir / "maps" / (stem + ".png")).string(), map));
}

// A child process whose raw wait status is kept: a process that exited with 130 and one that a
// SIGINT killed are told apart (testing::Process reports both as 130). `extra_env` ("NAME=value")
// is added to this process's environment; "NAME=" without a value removes NAME.
class Child {
 public:
  Child(const std::vector<std::string>& args, const fs::path& log,
        const std::vector<std::string>& extra_env = {})
      : log_(log) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    for (const std::string& x : extra_env) {
      const std::string name = x.substr(0, x.find('=') + 1);
      env.erase(std::remove_if(env.begin(), env.end(),
                               [&](const std::string& e) { return e.rfind(name, 0) == 0; }),
                env.end());
      if (x.size() > name.size()) env.push_back(x);
    }
    std::vector<char*> envp;
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const { ::kill(pid_, sig); }
  /// Waits; the raw status of waitpid.
  int wait() {
    int status = 0;
    if (pid_ > 0) waitpid(pid_, &status, 0);
    pid_ = 0;
    status_ = status;
    return status;
  }
  /// 0..255 for an exit, 128 + N for a kill by signal N.
  int code() const { return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_); }
  bool killed_by(int sig) const { return WIFSIGNALED(status_) && WTERMSIG(status_) == sig; }
  std::string output() const { return read_file_bytes(log_); }
  /// False once the process has ended (it is not reaped: wait() still reports how).
  bool running() const {
    siginfo_t info{};
    return pid_ > 0 &&
           ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == 0;
  }
  /// Waits (up to `limit`) until the log holds `text`; false when the process ended first.
  bool wait_for_output(const std::string& text, std::chrono::seconds limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (running() && std::chrono::steady_clock::now() < deadline) {
      if (output().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return output().find(text) != std::string::npos;
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  fs::path log_;
};

// Whether the process still catches `sig` (bit sig-1 of SigCgt in /proc/PID/status).
inline bool catches(pid_t pid, int sig) {
  for (const std::string& line : read_lines("/proc/" + std::to_string(pid) + "/status")) {
    if (line.rfind("SigCgt:", 0) == 0) {
      return ((std::stoull(line.substr(7), nullptr, 16) >> (sig - 1)) & 1) != 0;
    }
  }
  return false;
}

inline bool bits_equal(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  const torch::Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) == 0;
}

// The tensors of a model archive by name, read with LibTorch alone.
inline std::map<std::string, torch::Tensor> model_tensors(const std::string& bytes) {
  torch::serialize::InputArchive archive;
  archive.load_from(bytes.data(), bytes.size(), torch::Device(torch::kCPU));
  std::map<std::string, torch::Tensor> out;
  for (const std::string& key : archive.keys()) {
    torch::Tensor t;
    if (archive.try_read(key, t)) out[key] = t;
  }
  return out;
}

// The Adam state of an optimiser archive, per parameter of the network in order: step, then
// the first and second moments. Loaded by LibTorch into an Adam over a fresh network.
struct AdamState {
  std::vector<int64_t> steps;
  std::vector<torch::Tensor> moments;
};

inline AdamState adam_state(const std::string& bytes) {
  model::MSINet net;
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
  std::istringstream is(bytes);
  torch::serialize::InputArchive archive;
  archive.load_from(is);
  adam.load(archive);
  AdamState s;
  for (const torch::Tensor& p : net->parameters()) {
    const auto it = adam.state().find(c10::guts::to_string(p.unsafeGetTensorImpl()));
    if (it == adam.state().end()) {
      s.steps.push_back(-1);
      continue;
    }
    const auto& st = static_cast<const torch::optim::AdamParamState&>(*it->second);
    s.steps.push_back(st.step());
    s.moments.push_back(st.exp_avg());
    s.moments.push_back(st.exp_avg_sq());
  }
  return s;
}

}  // namespace msinet::testing
