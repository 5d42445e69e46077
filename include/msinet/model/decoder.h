#pragma once
// The decoder of MSI-Net: three (x2 legacy bilinear upsampling -> 3x3 conv -> ReLU) stages and a
// final 3x3 conv to one channel without activation.

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace msinet::model {

/// Decoder: conv1 (256->128), conv2 (128->64), conv3 (64->32), conv4 (32->1, no ReLU).
struct DecoderImpl : torch::nn::Module {
  DecoderImpl();
  /// ASPP output [N,256,h,w] -> raw saliency logits [N,1,8h,8w].
  torch::Tensor forward(const torch::Tensor& x);

  /// After the first x2 upsampling.
  torch::nn::Conv2d conv1{nullptr};
  /// After the second x2 upsampling.
  torch::nn::Conv2d conv2{nullptr};
  /// After the third x2 upsampling.
  torch::nn::Conv2d conv3{nullptr};
  /// Output convolution, linear.
  torch::nn::Conv2d conv4{nullptr};
};
TORCH_MODULE(Decoder);

}  // namespace msinet::model
