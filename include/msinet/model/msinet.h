#pragma once
// MSI-Net (Kroner et al. 2020): VGG16 encoder, ASPP, upsampling decoder, per-image normalisation.

#include <cstddef>
#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "msinet/model/aspp.h"
#include "msinet/model/decoder.h"
#include "msinet/model/encoder.h"

namespace msinet::model {

/// Per-channel constant subtracted from the RGB input (Caffe BGR means, applied to R, G, B).
inline constexpr float kRgbMean[3] = {103.939f, 116.779f, 123.68f};

/// The whole network; submodules "encoder", "aspp", "decoder".
struct MSINetImpl : torch::nn::Module {
  MSINetImpl();
  /// RGB [N,3,H,W] float 0..255, H and W multiples of 8 -> saliency [N,1,H,W] in [0,1].
  /// Throws Error(kUsage) for any other shape.
  torch::Tensor forward(torch::Tensor rgb);
  /// As forward, without the final normalisation (the decoder's linear output).
  torch::Tensor forward_raw(torch::Tensor rgb);

  /// VGG16 encoder.
  Encoder encoder{nullptr};
  /// Atrous spatial pyramid pooling.
  ASPP aspp{nullptr};
  /// Upsampling decoder.
  Decoder decoder{nullptr};

  /// The convolution of row `index` of kLayers (layers.h).
  const torch::nn::Conv2d& conv(size_t index) const;
};
TORCH_MODULE(MSINet);

/// Throws Error(kUsage) unless `rgb` is a floating-point [N, 3, H, W] batch with H and W positive
/// multiples of 8 (input_multiple() in layers.h).
void check_rgb_input(const torch::Tensor& rgb);

/// MSI-Net with its default initialisation from `seed` and biases uniform in [-0.1, 0.1], so that
/// every layer shapes the map, in eval mode: for benchmarks and tests whose speed or comparisons
/// do not depend on trained weights.
MSINet random_msinet(uint64_t seed);

/// Number of scalar parameters (24,934,209 for MSI-Net).
int64_t count_parameters(const MSINet& net);

}  // namespace msinet::model
