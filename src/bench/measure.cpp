#include "measure.h"

#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <torch/torch.h>

#include "msinet/model/layers.h"
#include "msinet/util/error.h"

extern char** environ;

namespace msinet::bench {

double wall_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpu_now() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double load_average() {
  double load[1] = {-1};
  return getloadavg(load, 1) == 1 ? load[0] : -1;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

std::string size_text(int h, int w) { return std::to_string(h) + "x" + std::to_string(w); }

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

Sample time_calls(const std::function<void()>& f, int iters) {
  f();
  std::vector<double> walls, cpus;
  for (int i = 0; i < iters; ++i) {
    const double w0 = wall_now(), c0 = cpu_now();
    f();
    walls.push_back(wall_now() - w0);
    cpus.push_back(cpu_now() - c0);
  }
  return {median(walls), median(cpus)};
}

std::vector<Sample> time_interleaved(const std::vector<std::function<void()>>& fs, int iters) {
  for (const auto& f : fs) f();
  std::vector<std::vector<double>> walls(fs.size()), cpus(fs.size());
  for (int i = 0; i < iters; ++i) {
    for (size_t k = 0; k < fs.size(); ++k) {
      const double w0 = wall_now(), c0 = cpu_now();
      fs[k]();
      walls[k].push_back(wall_now() - w0);
      cpus[k].push_back(cpu_now() - c0);
    }
  }
  std::vector<Sample> out;
  for (size_t k = 0; k < fs.size(); ++k) out.push_back({median(walls[k]), median(cpus[k])});
  return out;
}

ForwardResult forward_row(const std::string& variant, const std::string& precision, int h, int w,
                          int batch, const Sample& s, double peak) {
  ForwardResult r;
  r.variant = variant;
  r.precision = precision;
  r.h = h;
  r.w = w;
  r.batch = batch;
  r.ms_per_image = 1e3 * s.wall / batch;
  r.images_per_second = s.wall > 0 ? batch / s.wall : 0;
  r.cpu_ms_per_image = 1e3 * s.cpu / batch;
  r.gflop_per_image = model::forward_flops(h, w) / 1e9;
  r.gflops = r.gflop_per_image * r.images_per_second;
  r.peak_fraction = peak > 0 ? r.gflops / peak : 0;
  return r;
}

double correlation(const torch::Tensor& a, const torch::Tensor& b) {
  torch::Tensor x = a.flatten().to(torch::kFloat64), y = b.flatten().to(torch::kFloat64);
  x = x - x.mean();
  y = y - y.mean();
  const double den = (x.norm() * y.norm()).item<double>();
  return den > 0 ? (x * y).sum().item<double>() / den : 0.0;
}

std::string run_capture(const std::vector<std::string>& argv, const std::string& hint) {
  int fds[2];
  if (pipe(fds) != 0) throw Error(ErrorCode::kInternal, "cannot create a pipe for the peer");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw Error(ErrorCode::kInput,
                "cannot run the peer '" + argv[0] + "': " + std::strerror(rc) + "; " + hint);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (const std::string& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    throw Error(ErrorCode::kInternal,
                "the peer failed (" +
                    (WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                                       : std::string("killed by a signal")) +
                    "): " + cmd);
  }
  return out;
}

std::string last_line(const std::string& text) {
  const size_t end = text.find_last_not_of("\n\r ");
  if (end == std::string::npos) return "";
  const size_t newline = text.rfind('\n', end);
  const size_t start = newline == std::string::npos ? 0 : newline + 1;
  return text.substr(start, end + 1 - start);
}

}  // namespace msinet::bench
