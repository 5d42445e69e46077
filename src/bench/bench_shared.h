#pragma once
// What the parts of `msinet bench` share (bench.cpp defines them).

#include <cstdint>

#include <torch/types.h>

#include "msinet/model/msinet.h"

namespace msinet::bench {

/// MSI-Net with random weights and biases from `seed` (every layer shapes the map), in eval mode.
model::MSINet random_net(uint64_t seed);

/// Pearson correlation of two maps (0 when either is constant).
double correlation(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace msinet::bench
