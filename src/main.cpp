// msinet: the only place that catches everything and turns it into an exit code.
#include <exception>
#include <string>

#include "msinet/cli/common.h"
#include "msinet/util/error.h"
#include "msinet/util/logging.h"
#include "msinet/util/signals.h"

namespace {

// LibTorch reports a failed allocation as its own error type, with one of these phrases
// ("DefaultCPUAllocator: can't allocate memory: ...", "CUDA out of memory. ...").
bool is_out_of_memory(const std::string& message) {
  return message.find("can't allocate memory") != std::string::npos ||
         message.find("out of memory") != std::string::npos;
}

int out_of_memory(const std::string& detail) {
  msinet::util::log_error("out of memory" + (detail.empty() ? "" : " (" + detail + ")") +
                          "; try a smaller --batch-size or --size, or lower the keys "
                          "max_image_megapixels and inflight_memory_mb");
  return static_cast<int>(msinet::ErrorCode::kOutOfMemory);
}

}  // namespace

int main(int argc, char** argv) {
  msinet::util::install_interrupt_handlers();
  try {
    return msinet::cli::run_cli(argc, argv);
  } catch (const msinet::Error& e) {
    msinet::util::log_error(e.what());
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    return out_of_memory("");
  } catch (const std::exception& e) {
    const std::string message = e.what();
    const std::string first_line = message.substr(0, message.find('\n'));
    if (is_out_of_memory(first_line)) return out_of_memory(first_line);
    msinet::util::log_error("internal: " + message);
    return static_cast<int>(msinet::ErrorCode::kInternal);
  }
}
