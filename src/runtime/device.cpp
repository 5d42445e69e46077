#include "msinet/runtime/device.h"

#include <sched.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "msinet/runtime/threads.h"
#include "msinet/util/error.h"

namespace msinet::runtime {

torch::Device resolve_device(const std::string& name) {
  const bool cuda = torch::cuda::is_available();
  if (name == "cpu" || (name == "auto" && !cuda)) return torch::Device(torch::kCPU);
  if (name == "cuda" || name == "auto") {
    if (!cuda) {
      throw Error(ErrorCode::kUsage,
                  "--device cuda: no CUDA device is available (or this build of LibTorch has no "
                  "CUDA support); use --device cpu or auto");
    }
    return torch::Device(torch::kCUDA, 0);
  }
  throw Error(ErrorCode::kUsage, "unknown device '" + name + "': use auto, cpu or cuda");
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return 1;
}

int configure_threads(int requested) {
  const int n = requested > 0 ? requested : available_cores();
  torch::set_num_threads(n);
  return n;
}

}  // namespace msinet::runtime
