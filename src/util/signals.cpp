#include "msinet/util/signals.h"

#include <csignal>

namespace msinet::util {

namespace {
volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_signal(int sig) {
  g_interrupted = 1;
  std::signal(sig, SIG_DFL);
}
}  // namespace

void install_interrupt_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool interrupt_requested() { return g_interrupted != 0; }

void set_interrupt_requested(bool value) { g_interrupted = value ? 1 : 0; }

}  // namespace msinet::util
