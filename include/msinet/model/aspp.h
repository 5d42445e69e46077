#pragma once
// Atrous spatial pyramid pooling of MSI-Net: four parallel convolutions (1x1 and 3x3 dilated by
// 4, 8, 12), a global branch (spatial mean -> 1x1 conv -> broadcast), fused by a 1x1 conv.

#include <cstdint>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace msinet::model {

/// Channel counts of the ASPP module (defaults: MSI-Net).
struct ASPPOptions {
  /// Input feature channels.
  TORCH_ARG(int64_t, in_channels) = 1280;
  /// Channels of every branch and of the fused output.
  TORCH_ARG(int64_t, out_channels) = 256;
};

/// ASPP: conv1_1 (1x1), conv1_2..conv1_4 (3x3, dilation 4/8/12), conv1_5 (global), conv2 (fuse).
struct ASPPImpl : torch::nn::Module {
  explicit ASPPImpl(const ASPPOptions& options = {});
  /// Features [N,in,h,w] -> [N,out,h,w]; every conv followed by ReLU.
  torch::Tensor forward(const torch::Tensor& x);

  /// Branch 1: 1x1 convolution.
  torch::nn::Conv2d conv1_1{nullptr};
  /// Branch 2: 3x3 convolution, dilation 4.
  torch::nn::Conv2d conv1_2{nullptr};
  /// Branch 3: 3x3 convolution, dilation 8.
  torch::nn::Conv2d conv1_3{nullptr};
  /// Branch 4: 3x3 convolution, dilation 12.
  torch::nn::Conv2d conv1_4{nullptr};
  /// Branch 5: 1x1 convolution on the spatial mean.
  torch::nn::Conv2d conv1_5{nullptr};
  /// Fusion: 1x1 convolution over the five concatenated branches.
  torch::nn::Conv2d conv2{nullptr};
};
TORCH_MODULE(ASPP);

}  // namespace msinet::model
