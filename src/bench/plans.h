#pragma once
// The runtime's plans side by side: every plan timed, the layers of one, and every path's maps
// against the reference forward.

#include <string>
#include <vector>

#include <torch/types.h>

#include "msinet/bench/bench.h"
#include "msinet/model/msinet.h"
#include "msinet/runtime/inference.h"
#include "msinet/util/size.h"

namespace msinet::bench {

/// Every runtime::cpu_plan_names() plan in float32 on the CPU, at each size and batch, timed
/// round-robin (`iters` passes each after a warm-up); `peak` is the fp32 peak (0: none).
std::vector<ForwardResult> time_plans(const model::MSINet& net,
                                      const std::vector<util::Size>& sizes,
                                      const std::vector<int>& batches, int iters, double peak);

/// Each layer of `plan` at `size`, batch 1: the median over `iters` passes of its time.
std::vector<LayerResult> time_layers(const model::MSINet& net, const std::string& plan,
                                     const util::Size& size, int iters);

/// The maps of every CPU plan in float32 (on the CPU) and of a network of each of `others`
/// against model::MSINet's own forward in float32, on `rgb` [N, 3, H, W] 0..255.
std::vector<AccuracyResult> compare_paths(const model::MSINet& net, const torch::Device& device,
                                          const torch::Tensor& rgb,
                                          const std::vector<runtime::InferenceOptions>& others);

}  // namespace msinet::bench
