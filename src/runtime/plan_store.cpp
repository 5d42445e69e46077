#include "msinet/runtime/plan_store.h"

#include <torch/version.h>

#include <ATen/Parallel.h>

#include "msinet/runtime/cpu_info.h"

namespace msinet::runtime {

std::string plan_key(const std::string& precision, const std::vector<int64_t>& shape) {
  const CpuInfo& cpu = cpu_info();
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? "x" : "") + std::to_string(shape[i]);
  return cpu.model + "; " + cpu.isa + "; " + std::to_string(at::get_num_threads()) +
         " threads; LibTorch " + TORCH_VERSION + "; msinet " + MSINET_VERSION + "; " + precision +
         "; " + dims;
}

}  // namespace msinet::runtime
