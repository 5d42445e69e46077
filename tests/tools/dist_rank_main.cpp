// The rank program of the launcher tests (built for tests only):
//   dist_rank_main launch NPROC GRACE_S RANK_ARGS...   launch_ranks of this executable
//   dist_rank_main rank [--steps K] [--step-ms M] [--timeout S] [--pid-dir D]
//                       [--fail-rank R --fail-step S --fail-how exit3|kill|hang]
// A rank joins from the environment and does K all-reduces, each after mark_progress; every
// step also sums the interrupt flag, so that all ranks stop together (exit 130) on a signal.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "msinet/dist/group.h"
#include "msinet/dist/launcher.h"
#include "msinet/util/error.h"
#include "msinet/util/signals.h"

namespace {

int run_rank(const std::map<std::string, std::string>& opt) {
  using msinet::dist::Group;
  const auto get = [&](const std::string& k, const std::string& d) {
    auto it = opt.find(k);
    return it == opt.end() ? d : it->second;
  };
  const int steps = std::stoi(get("--steps", "5"));
  const int step_ms = std::stoi(get("--step-ms", "0"));
  const int fail_rank = std::stoi(get("--fail-rank", "-1"));
  const int fail_step = std::stoi(get("--fail-step", "-1"));
  const std::string fail_how = get("--fail-how", "exit3");
  msinet::util::install_interrupt_handlers();
  auto config = msinet::dist::config_from_environment();
  if (!config) throw msinet::Error(msinet::ErrorCode::kUsage, "WORLD_SIZE is not set");
  config->timeout = std::chrono::seconds(std::stoi(get("--timeout", "5")));
  config->backend = "gloo";
  const int rank = config->rank;
  auto group = Group::join(*config, torch::kCPU);
  if (opt.count("--pid-dir")) {
    const std::string dir = opt.at("--pid-dir");
    { std::ofstream(dir + "/rank" + std::to_string(rank) + ".tmp") << ::getpid() << "\n"; }
    std::rename((dir + "/rank" + std::to_string(rank) + ".tmp").c_str(),
                (dir + "/rank" + std::to_string(rank) + ".pid").c_str());
  }
  const int world = group->size();
  for (int step = 1; step <= steps; ++step) {
    if (rank == fail_rank && step == fail_step) {
      std::fprintf(stderr, "rank %d: failing (%s) at step %d\n", rank, fail_how.c_str(), step);
      if (fail_how == "kill") ::raise(SIGKILL);
      if (fail_how == "hang") {
        while (!msinet::util::interrupt_requested()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return 130;
      }
      ::_exit(3);
    }
    group->mark_progress(step);
    std::vector<torch::Tensor> t{torch::tensor(
        {static_cast<double>(rank + 1), msinet::util::interrupt_requested() ? 1.0 : 0.0})};
    group->all_reduce_sum(t);
    if (t[0][0].item<double>() != world * (world + 1) / 2.0) {
      std::fprintf(stderr, "rank %d: wrong sum at step %d\n", rank, step);
      return 1;
    }
    if (t[0][1].item<double>() > 0) {
      std::fprintf(stderr, "rank %d: interrupted at step %d\n", rank, step);
      return 130;
    }
    if (step_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(step_ms));
  }
  std::fprintf(stderr, "rank %d: done\n", rank);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (!args.empty() && args[0] == "launch" && args.size() >= 3) {
      msinet::dist::LaunchOptions o;
      o.nproc = std::stoi(args[1]);
      o.grace = std::chrono::seconds(std::stoi(args[2]));
      o.threads_per_rank = 1;
      o.args.assign(args.begin() + 3, args.end());
      return msinet::dist::launch_ranks(o);
    }
    if (!args.empty() && args[0] == "rank") {
      std::map<std::string, std::string> opt;
      for (size_t i = 1; i + 1 < args.size(); i += 2) opt[args[i]] = args[i + 1];
      return run_rank(opt);
    }
  } catch (const msinet::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return static_cast<int>(e.code());
  }
  std::fprintf(stderr, "usage: dist_rank_main launch NPROC GRACE_S ARGS... | rank OPTIONS\n");
  return 2;
}
