#pragma once
// Fast inference: the network of model::MSINet, planned from its layer table (model/layers.h)
// and prepared once for one device and precision. On the CPU: channels-last activations,
// weights packed once for oneDNN with the ReLU fused into the convolution (when this LibTorch has
// the mkldnn_prepacked operators), dedicated kernels for the TF1 pooling, concatenation and
// upsampling, no autograd. On CUDA: channels-last, cuDNN benchmark mode, fp16/bf16 weights and
// activations. With every option off it is a plain NCHW loop of torch::conv2d calls. The float32
// result equals MSINet::forward up to float rounding (summation order inside the convolutions).

#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "msinet/model/msinet.h"
#include "msinet/runtime/layer_observer.h"
#include "msinet/runtime/plan_store.h"
#include "msinet/runtime/precision.h"

namespace msinet::runtime {

struct Int8Calibration;

/// What InferenceNet uses; everything on by default, switches for measuring each part.
struct InferenceOptions {
  /// Arithmetic precision of weights and activations (the maps are normalised in float32).
  Precision precision = Precision::kFloat32;
  /// Channels-last (NHWC) activations and weights.
  bool channels_last = true;
  /// CPU: oneDNN weights packed once per input shape, ReLU fused into the convolution.
  bool prepack = true;
  /// CPU, channels-last: one-pass pooling, concatenation and upsampling kernels (nhwc_ops.h).
  bool nhwc_kernels = true;
  /// CPU float32: "auto" (the fastest of cpu_plan_names() for each input shape, measured once per
  /// machine and cached in plan_cache) or one of cpu_plan_names(), which then decides the three
  /// switches above. Ignored elsewhere.
  std::string plan = "auto";
  /// Keeps the "auto" choices between runs (pipeline::PlanCache); null: measured in each process.
  std::shared_ptr<PlanStore> plan_store;
  /// Precision int8 (CPU, the onednn plan): the input ranges measured for these weights
  /// (int8_calibration.h); required there.
  std::shared_ptr<const Int8Calibration> int8_calibration;
};

/// The CPU float32 plans: "nchw" (the plain loop), "channels-last" (LibTorch's packed oneDNN
/// convolutions, NHWC kernels), "onednn" (oneDNN primitives used directly, the layout they choose
/// kept from layer to layer, bias and ReLU fused, pooling written into the features in place),
/// "winograd" (as channels-last, but the 3x3 convolutions with 64 or more input channels by
/// msinet's Winograd F(4x4,3x3), dilated ones by their sub-grids; fp32 only).
const std::vector<std::string>& cpu_plan_names();

/// The options with every optimisation off: the plain NCHW loop that the others are measured
/// against.
InferenceOptions plain_options();

/// MSI-Net prepared for inference on one device. Not thread-safe: one caller at a time.
class InferenceNet {
 public:
  /// Copies the weights of `net` (in the layout and precision the options ask for) to `device`.
  /// Throws Error(kUsage) when the precision cannot run there (int8: without a calibration, or
  /// on another plan than onednn), Error(kInput) for a calibration of other weights.
  InferenceNet(const model::MSINet& net, const torch::Device& device,
               const InferenceOptions& options = {});
  ~InferenceNet();
  InferenceNet(const InferenceNet&) = delete;
  InferenceNet& operator=(const InferenceNet&) = delete;

  /// RGB [N,3,H,W] float 0..255 (any layout, any device) -> float32 maps [N,1,H,W] in [0,1], on
  /// the device. Throws Error(kUsage) for a shape MSINet does not accept.
  torch::Tensor forward(const torch::Tensor& rgb);
  /// As forward, before the final normalisation, in the compute precision; `observer` (may be
  /// null) is told about every layer.
  torch::Tensor forward_raw(const torch::Tensor& rgb, LayerObserver* observer = nullptr);

  /// The plan that runs an input of `shape` [N, 3, H, W]: chosen (measured, or read from the
  /// cache) on the first call for that shape when the plan is "auto".
  std::string plan(const std::vector<int64_t>& shape);

  /// Where it runs.
  const torch::Device& device() const;
  /// The options in effect (prepack and nhwc_kernels off where they do not apply).
  const InferenceOptions& options() const;
  /// One line, e.g. "cpu, fp32, channels-last, oneDNN packed conv+ReLU, NHWC kernels".
  std::string describe() const;
  /// What it does and why, for the verbose log: threads, layout, packed convolutions, kernels.
  std::string explain() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace msinet::runtime
