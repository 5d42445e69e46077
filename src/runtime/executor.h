#pragma once
// The executors InferenceNet chooses between: each runs the whole network one way.

#include <memory>
#include <string>

#include <torch/types.h>

#include "msinet/model/msinet.h"
#include "msinet/runtime/inference.h"
#include "msinet/runtime/layer_observer.h"

namespace msinet::runtime {

/// One way of running MSI-Net, prepared for one device and precision.
class Executor {
 public:
  virtual ~Executor() = default;
  /// The mean-subtracted float32 input [N, 3, H, W] on the device -> the raw output
  /// [N, 1, H, W] (before normalisation), in the compute precision.
  virtual torch::Tensor run(const torch::Tensor& x, LayerObserver* observer) = 0;
  /// One line, e.g. "channels-last, oneDNN packed conv+ReLU, NHWC kernels".
  virtual std::string describe() const = 0;
  /// What it does, for the verbose log.
  virtual std::string explain() const = 0;
};

/// How the layer graph computes its convolutions.
enum class ConvKernels {
  kLibTorch,  ///< torch::conv2d, or LibTorch's packed oneDNN convolution (options.prepack)
  /// CPU float32 with the NHWC kernels: the 3x3 convolutions with 64 or more input channels by
  /// WinogradConv (winograd_conv.h), the others as kLibTorch.
  kWinograd,
};

/// The layer graph of kLayers in LibTorch tensors (NCHW or channels-last, with or without the
/// NHWC kernels), with its convolutions computed by `kernels`.
std::unique_ptr<Executor> make_layer_graph(const model::MSINet& net, const torch::Device& device,
                                           const InferenceOptions& options, ConvKernels kernels);

/// Whether LibTorch has the packed oneDNN convolution operators.
bool packed_convolutions_available();

}  // namespace msinet::runtime
