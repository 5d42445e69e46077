#pragma once
// The VGG16-based encoder of MSI-Net: the encoder rows of kLayers (layers.h), whose pooled
// outputs at three depths (P3, P4, P5, all at 1/8 of the input size) are concatenated.

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace msinet::model {

/// Encoder: conv1_1 .. conv5_3 (conv5 dilated by 2); output the concatenated features.
struct EncoderImpl : torch::nn::Module {
  EncoderImpl();
  /// Mean-subtracted RGB [N,3,H,W] (H, W multiples of 8) -> features [N,1280,H/8,W/8].
  torch::Tensor forward(const torch::Tensor& x);

  /// The convolutions in table order, registered under their table names.
  std::vector<torch::nn::Conv2d> convs;
};
TORCH_MODULE(Encoder);

}  // namespace msinet::model
