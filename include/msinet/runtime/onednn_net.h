#pragma once
// MSI-Net's float32 (or int8) CPU forward pass through oneDNN primitives used directly:
// activations stay in the layout the convolutions choose from layer to layer, bias and ReLU are
// fused into each convolution, and pooling and concatenation write straight into the shared
// feature buffers.

#include <memory>
#include <string>

#include <torch/types.h>

#include "msinet/model/msinet.h"
#include "msinet/runtime/layer_observer.h"

namespace msinet::runtime {

struct Int8Calibration;

/// MSI-Net in float32 (or int8, see the constructor) through oneDNN primitives, in the layout the
/// convolutions choose (NHWC with oneDNN 2.6 on AVX-512 and AVX2; its blocked layouts fall back to
/// reference kernels for the dilated ASPP convolutions and for channel slices), on the CPU.
class OnednnNet {
 public:
  /// Copies the weights of `net` (model/msinet.h; net->conv(i) is the Conv2d of kLayers row i).
  /// With `int8` (input ranges measured for these weights, int8_calibration.h), the convolutions
  /// other than the first, the ASPP global branch and fusion, and the last run as oneDNN int8
  /// convolutions: u8 inputs quantised at the layer's range, s8 weights with a scale per output
  /// channel, int32 sums, bias and ReLU fused, the output u8 for a following int8 layer, else
  /// float32. Throws Error(kInput) when `int8` lacks the range of such a layer.
  explicit OnednnNet(const model::MSINet& net, const Int8Calibration* int8 = nullptr);
  ~OnednnNet();
  OnednnNet(const OnednnNet&) = delete;
  OnednnNet& operator=(const OnednnNet&) = delete;

  /// x: the mean-subtracted input, float32 CPU [N, 3, H, W] (any layout) -> the raw output
  /// [N, 1, H, W] float32 (before model::normalize_maps). Primitives are made on the first call
  /// for a shape and kept. `observer` (may be null) is told before/after each kLayers row (int8:
  /// the inputs an int8 layer reads as u8 are seen as u8).
  /// Throws Error(kUsage) for a shape MSINet does not accept.
  torch::Tensor forward_raw(const torch::Tensor& x, LayerObserver* observer = nullptr);

  /// One line for the verbose log: the layouts and kernels oneDNN chose, what is fused.
  std::string explain() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace msinet::runtime
