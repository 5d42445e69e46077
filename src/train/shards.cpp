#include "msinet/train/shards.h"

#include <algorithm>

namespace msinet::train {

StepPlan plan_step(size_t epoch_size, size_t position, int batch_size, int world_size, int rank,
                   int accumulate) {
  const auto batch = static_cast<size_t>(batch_size);
  const auto world = static_cast<size_t>(world_size);
  StepPlan plan;
  plan.begin = std::min(position, epoch_size);
  plan.end = std::min(epoch_size, plan.begin + batch * world * static_cast<size_t>(accumulate));
  for (size_t k = 0; k < static_cast<size_t>(accumulate); ++k) {
    std::vector<size_t> micro;
    const size_t first = plan.begin + (k * world + static_cast<size_t>(rank)) * batch;
    for (size_t p = first; p < std::min(plan.end, first + batch); ++p) micro.push_back(p);
    plan.micro_batches.push_back(std::move(micro));
  }
  return plan;
}

}  // namespace msinet::train
