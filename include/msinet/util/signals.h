#pragma once
// Cooperative interruption: SIGINT/SIGTERM set a flag that long jobs poll between steps.

namespace msinet::util {

/// Installs SIGINT and SIGTERM handlers that set the interrupt flag. The first signal restores
/// the default action of both, so a second one of either kind (Ctrl-C or SIGTERM) kills at once.
void install_interrupt_handlers();

/// True once SIGINT or SIGTERM arrived.
bool interrupt_requested();

/// Sets or clears the flag (tests, and jobs that want to stop themselves).
void set_interrupt_requested(bool value);

}  // namespace msinet::util
