#pragma once
// The calibration model's forward in LibTorch (the formula at the top of
// include/msinet/calibration/calibration.h): the one implementation that fitting differentiates
// and applying runs.

#include <torch/types.h>

#include "msinet/calibration/calibration.h"

namespace msinet::calibration {

/// The parameters as tensors (0-d blur and weight, 1-d knot values), any floating dtype.
struct ModelTensors {
  torch::Tensor blur;
  torch::Tensor nonlinearity;
  torch::Tensor centre_bias;
  torch::Tensor uniform_weight;
};

/// The parameters of `calibration` as constant tensors of `dtype`.
ModelTensors model_tensors(const Calibration& calibration, torch::Dtype dtype);

/// Per map of a [B, H, W] batch: (m - min) / (max - min), 0 for a constant map.
torch::Tensor minmax_normalise(const torch::Tensor& maps);

/// log p of each map of a [B, H, W] batch of maps already in [0, 1]: [B, H, W].
torch::Tensor log_density_tensor(const torch::Tensor& maps01, const ModelTensors& parameters);

}  // namespace msinet::calibration
