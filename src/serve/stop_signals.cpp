#include "msinet/serve/stop_signals.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

namespace msinet::serve {

StopSignals::StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  watcher_ = std::thread([this, set] {
    const timespec tick{0, 50'000'000};
    while (!done_) {
      const int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig <= 0) continue;
      received_ = sig;
      // A second signal of either kind ends the process at once: the default action, in this
      // thread, which alone has them unblocked from now on.
      signal(SIGINT, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
      while (!done_) nanosleep(&tick, nullptr);
    }
  });
}

StopSignals::~StopSignals() {
  done_ = true;
  if (watcher_.joinable()) watcher_.join();
}

}  // namespace msinet::serve
