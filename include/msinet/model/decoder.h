#pragma once
// The decoder of MSI-Net: the decoder rows of kLayers (layers.h): three (x2 legacy bilinear
// upsampling -> 3x3 conv -> ReLU) stages and a final 3x3 conv to one channel without activation.

#include <vector>

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

  /// The convolutions in table order, registered under their table names.
  std::vector<torch::nn::Conv2d> convs;
};
TORCH_MODULE(Decoder);

}  // namespace msinet::model
