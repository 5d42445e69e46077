#pragma once
// Atrous spatial pyramid pooling of MSI-Net: the ASPP rows of kLayers (layers.h): four parallel
// convolutions (1x1 and 3x3 dilated by 4, 8, 12), a global branch (spatial mean -> 1x1 conv ->
// broadcast), fused by a 1x1 conv.

#include <cstdint>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace msinet::model {

/// Channel counts of the ASPP module (defaults: MSI-Net's, from kLayers).
struct ASPPOptions {
  ASPPOptions();
  /// Input feature channels.
  TORCH_ARG(int64_t, in_channels);
  /// Channels of every branch and of the fused output.
  TORCH_ARG(int64_t, out_channels);
};

/// ASPP: conv1_1 (1x1), conv1_2..conv1_4 (3x3, dilation 4/8/12), conv1_5 (global), conv2 (fuse).
struct ASPPImpl : torch::nn::Module {
  explicit ASPPImpl(const ASPPOptions& options = {});
  /// Features [N,in,h,w] -> [N,out,h,w].
  torch::Tensor forward(const torch::Tensor& x);

  /// The convolutions in table order, registered under their table names.
  std::vector<torch::nn::Conv2d> convs;
};
TORCH_MODULE(ASPP);

}  // namespace msinet::model
