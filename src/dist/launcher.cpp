// `--nproc N`: fork and exec of the ranks (environment built before fork, only
// async-signal-safe calls in the child), then supervision with waitpid.
#include "msinet/dist/launcher.h"

#include <netinet/in.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "msinet/util/error.h"

extern char** environ;

namespace msinet::dist {
namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_last_signal = 0;
volatile std::sig_atomic_t g_signal_count = 0;

void on_signal(int sig) {
  g_last_signal = sig;
  g_signal_count = g_signal_count + 1;
}

/// A TCP port of 127.0.0.1 that nothing holds now.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int err = errno;
  if (fd >= 0) ::close(fd);
  if (!ok) {
    throw Error(ErrorCode::kDistributed,
                std::string("cannot find a free port on 127.0.0.1 for the rendezvous: ") +
                    std::strerror(err) + ": give one with --master-port");
  }
  return ntohs(addr.sin_port);
}

int default_threads(int nproc) {
  cpu_set_t set;
  CPU_ZERO(&set);
  int cores = 0;
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) cores = CPU_COUNT(&set);
  if (cores <= 0) cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / nproc);
}

bool is_rank_variable(const std::string& entry) {
  static const char* const kNames[] = {
      "RANK",        "WORLD_SIZE",  "LOCAL_RANK",    "LOCAL_WORLD_SIZE",
      "MASTER_ADDR", "MASTER_PORT", "MSINET_THREADS"};
  for (const char* name : kNames) {
    const size_t n = std::strlen(name);
    if (entry.compare(0, n, name) == 0 && entry.size() > n && entry[n] == '=') return true;
  }
  return false;
}

std::string how_it_ended(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  const int sig = WTERMSIG(status);
  return "was killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
}

struct Child {
  pid_t pid = -1;
  int rank = 0;
  bool running = true;
};

/// Restores SIGINT's and SIGTERM's previous handling when it goes out of scope.
class SignalForwarding {
 public:
  SignalForwarding() {
    g_last_signal = 0;
    g_signal_count = 0;
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
  }
  ~SignalForwarding() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

}  // namespace

int launch_ranks(const LaunchOptions& o) {
  if (o.nproc < 1 || o.nnodes < 1 || o.node_rank < 0 || o.node_rank >= o.nnodes) {
    throw Error(ErrorCode::kUsage, "--nproc " + std::to_string(o.nproc) + " --nnodes " +
                                       std::to_string(o.nnodes) + " --node-rank " +
                                       std::to_string(o.node_rank) +
                                       ": need nproc >= 1 and 0 <= node-rank < nnodes");
  }
  if (o.master_port < 0 || o.master_port > 65535) {
    throw Error(ErrorCode::kUsage,
                "--master-port " + std::to_string(o.master_port) + " is not a TCP port");
  }
  const int port = o.master_port != 0 ? o.master_port : (o.nnodes == 1 ? free_port() : 29500);
  const int world = o.nnodes * o.nproc;
  const int threads = o.threads_per_rank > 0 ? o.threads_per_rank : default_threads(o.nproc);
  const std::string program = o.program.empty() ? "/proc/self/exe" : o.program;

  // Everything the children need, built before fork: after it only async-signal-safe calls.
  std::vector<std::string> args{o.program.empty() ? std::string("msinet") : o.program};
  args.insert(args.end(), o.args.begin(), o.args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> inherited;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!is_rank_variable(*e)) inherited.emplace_back(*e);
  }
  std::vector<std::vector<std::string>> env_text(static_cast<size_t>(o.nproc));
  std::vector<std::vector<char*>> envp(static_cast<size_t>(o.nproc));
  for (int local = 0; local < o.nproc; ++local) {
    auto& text = env_text[static_cast<size_t>(local)];
    text = inherited;
    text.push_back("RANK=" + std::to_string(o.node_rank * o.nproc + local));
    text.push_back("WORLD_SIZE=" + std::to_string(world));
    text.push_back("LOCAL_RANK=" + std::to_string(local));
    text.push_back("LOCAL_WORLD_SIZE=" + std::to_string(o.nproc));
    text.push_back("MASTER_ADDR=" + o.master_addr);
    text.push_back("MASTER_PORT=" + std::to_string(port));
    text.push_back("MSINET_THREADS=" + std::to_string(threads));
    for (auto& t : text) envp[static_cast<size_t>(local)].push_back(t.data());
    envp[static_cast<size_t>(local)].push_back(nullptr);
  }
  const std::string exec_failed = "msinet: cannot start a rank: exec of " + program + " failed\n";

  SignalForwarding forwarding;
  const pid_t launcher = ::getpid();
  std::vector<Child> children;
  for (int local = 0; local < o.nproc; ++local) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      // Its own process group, so that only the launcher gets the terminal's signals (and
      // passes each on once); it dies with the launcher, even by kill -9.
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != launcher) ::_exit(125);
      ::signal(SIGINT, SIG_DFL);
      ::signal(SIGTERM, SIG_DFL);
      ::execve(program.c_str(), argv.data(), envp[static_cast<size_t>(local)].data());
      const ssize_t ignored = ::write(2, exec_failed.data(), exec_failed.size());
      (void)ignored;
      ::_exit(127);
    }
    if (pid < 0) {
      const int err = errno;
      for (auto& c : children) ::kill(c.pid, SIGKILL);
      for (auto& c : children) ::waitpid(c.pid, nullptr, 0);
      throw Error(ErrorCode::kDistributed, "cannot start rank " +
                                               std::to_string(o.node_rank * o.nproc + local) +
                                               ": " + std::strerror(err));
    }
    ::setpgid(pid, pid);
    children.push_back({pid, o.node_rank * o.nproc + local, true});
  }
  spdlog::info("started ranks {}..{} of {} (rendezvous {}:{}, {} threads each)",
               o.node_rank * o.nproc, o.node_rank * o.nproc + o.nproc - 1, world, o.master_addr,
               port, threads);

  size_t running = children.size();
  int result = 0;
  bool failed = false;
  bool interrupted = false;
  bool killed = false;
  std::sig_atomic_t forwarded = 0;
  std::optional<Clock::time_point> kill_at;
  const auto stop_others = [&](int sig) {
    for (auto& c : children) {
      if (!c.running) continue;
      ::kill(c.pid, sig);
      if (sig != SIGKILL) ::kill(c.pid, SIGCONT);  // a stopped rank takes it too
    }
    if (!kill_at) kill_at = Clock::now() + o.grace;
  };
  while (running > 0) {
    if (g_signal_count != forwarded) {
      forwarded = g_signal_count;
      const int sig = g_last_signal;
      spdlog::warn("{}: passing it on to the ranks", strsignal(sig));
      if (!failed) interrupted = true;
      stop_others(sig);
    }
    // Reaped together, a rank's own failure outranks the kDistributed of the peers it took down.
    std::vector<std::pair<const Child*, int>> ended;
    for (auto& c : children) {
      if (!c.running) continue;
      int status = 0;
      const pid_t r = ::waitpid(c.pid, &status, WNOHANG);
      if (r == 0 || (r < 0 && errno == EINTR)) continue;
      c.running = false;
      --running;
      if (r > 0) ended.emplace_back(&c, status);  // r < 0: not our child any more
    }
    const auto failure_rank = [](int status) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
      return WIFEXITED(status) && WEXITSTATUS(status) == static_cast<int>(ErrorCode::kDistributed)
                 ? 1
                 : 2;
    };
    std::stable_sort(ended.begin(), ended.end(), [&](const auto& x, const auto& y) {
      return failure_rank(x.second) > failure_rank(y.second);
    });
    for (const auto& [c, status] : ended) {
      const bool ok = failure_rank(status) == 0;
      if (!ok && !failed && !interrupted) {
        failed = true;
        result =
            WIFEXITED(status) ? WEXITSTATUS(status) : static_cast<int>(ErrorCode::kDistributed);
        spdlog::error("rank {} (pid {}) {}; stopping the other ranks", c->rank, c->pid,
                      how_it_ended(status));
        stop_others(SIGTERM);
      } else if (!ok) {
        spdlog::info("rank {} (pid {}) {}", c->rank, c->pid, how_it_ended(status));
      }
    }
    if (running == 0) break;
    if (kill_at && !killed && Clock::now() >= *kill_at) {
      killed = true;
      spdlog::error("{} rank(s) still running {} s after being asked to stop: killing them",
                    running, o.grace.count());
      stop_others(SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (interrupted) return static_cast<int>(ErrorCode::kInterrupted);
  return result;
}

}  // namespace msinet::dist
