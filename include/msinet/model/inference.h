#pragma once
// Fast inference: the network of MSINet::forward, prepared once for one device and precision.
// On the CPU: channels-last activations, weights packed once for oneDNN with the ReLU fused into
// the convolution (when this LibTorch has the mkldnn_prepacked operators), dedicated kernels for
// the TF1 pooling, concatenation and upsampling, no autograd. On CUDA: channels-last, cuDNN
// benchmark mode, fp16/bf16 weights and activations. The float32 result equals MSINet::forward up
// to float rounding (summation order inside the convolutions).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "msinet/model/msinet.h"

namespace msinet::model {

/// Arithmetic precision of inference.
enum class Precision { kFloat32, kBFloat16, kFloat16 };

/// Parses "fp32", "bf16" or "fp16"; throws Error(kUsage) naming the value otherwise.
Precision parse_precision(const std::string& name);

/// "fp32", "bf16" or "fp16".
std::string precision_name(Precision precision);

/// The tensor type of a precision.
torch::ScalarType precision_dtype(Precision precision);

/// Whether this CPU executes bfloat16 dot products natively (AVX512_BF16 or AMX-BF16, enabled by
/// the operating system).
bool cpu_has_bf16();

/// Empty when `precision` can run on `device`, else a message saying why not and what to use.
std::string precision_unsupported_reason(Precision precision, const torch::Device& device);

/// Throws Error(kUsage) with precision_unsupported_reason() when it is not empty.
void check_precision(Precision precision, const torch::Device& device);

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
};

/// MSI-Net prepared for inference on one device. Not thread-safe: one caller at a time.
class InferenceNet {
 public:
  /// Copies the weights of `net` (in the layout and precision the options ask for) to `device`.
  /// Throws Error(kUsage) when the precision cannot run there.
  InferenceNet(const MSINet& net, const torch::Device& device,
               const InferenceOptions& options = {});
  ~InferenceNet();
  InferenceNet(const InferenceNet&) = delete;
  InferenceNet& operator=(const InferenceNet&) = delete;

  /// RGB [N,3,H,W] float 0..255 (any layout, any device) -> float32 maps [N,1,H,W] in [0,1], on
  /// the device. Throws Error(kUsage) for a shape MSINet does not accept.
  torch::Tensor forward(const torch::Tensor& rgb);
  /// As forward, before the final normalisation, in the compute precision.
  torch::Tensor forward_raw(const torch::Tensor& rgb);

  /// Where it runs.
  const torch::Device& device() const;
  /// The options in effect (prepack and nhwc_kernels off where they do not apply).
  const InferenceOptions& options() const;
  /// One line, e.g. "cpu, fp32, channels-last, oneDNN packed conv+ReLU, NHWC kernels".
  std::string describe() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Installs LibTorch's CPU allocator for inference loops: blocks of 1 MiB and more freed by one
/// forward pass are handed out again, by exact size, to the next, instead of being unmapped and
/// faulted in afresh (3% of a 240x320 pass, 9% at batch 8); live and cached blocks together stay
/// under twice the peak of live ones. Process-wide, once; later calls do nothing.
void reuse_freed_memory();

/// Multiply-adds x 2 of one forward pass at h x w, from the layer table: 2*k*k*cin*cout*H*W per
/// convolution at its feature size (91.1e9 at 240x320).
double forward_flops(int64_t h, int64_t w);

}  // namespace msinet::model
