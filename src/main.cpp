// msinet: the only place that catches everything and turns it into an exit code.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

#include "msinet/cli/common.h"
#include "msinet/util/error.h"
#include "msinet/util/signals.h"

int main(int argc, char** argv) {
  msinet::util::install_interrupt_handlers();
  try {
    return msinet::cli::run_cli(argc, argv);
  } catch (const msinet::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory; try a smaller --batch-size or --size\n");
    return static_cast<int>(msinet::ErrorCode::kInternal);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal: %s\n", e.what());
    return static_cast<int>(msinet::ErrorCode::kInternal);
  }
}
