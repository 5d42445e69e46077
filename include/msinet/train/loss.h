#pragma once
// The training loss.

#include <torch/types.h>

namespace msinet::train {

/// KLD per image between the ground truth map (0..255) and the normalised prediction, both
/// [N,1,H,W], eps = 1e-7, mean over the batch. ref: saliency/loss.py kld
torch::Tensor kld_loss(const torch::Tensor& y_true, const torch::Tensor& y_pred);

}  // namespace msinet::train
