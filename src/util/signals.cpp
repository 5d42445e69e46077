#include "msinet/util/signals.h"

#include <csignal>

namespace msinet::util {

namespace {
volatile std::sig_atomic_t g_interrupted = 0;

// The first SIGINT or SIGTERM asks for a clean stop; both then get their default action back, so
// that a second one of either kind (a Ctrl-C after a SIGTERM too) stops the process at once.
extern "C" void on_signal(int) {
  g_interrupted = 1;
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}
}  // namespace

void install_interrupt_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool interrupt_requested() { return g_interrupted != 0; }

void set_interrupt_requested(bool value) { g_interrupted = value ? 1 : 0; }

}  // namespace msinet::util
