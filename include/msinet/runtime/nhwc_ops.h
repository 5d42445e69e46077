#pragma once
// CPU kernels for the TF1 operations of MSI-Net on channels-last (NHWC) tensors: one pass over
// the data, no intermediate tensors, outputs written straight into (channel slices of) their
// destination. Float results equal the reference ops in ops.h bit for bit; bfloat16 is computed
// in float and rounded once.

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace msinet::runtime {

/// Destination of a kernel: channels [channel_offset, channel_offset + C) of a channels-last
/// CPU tensor with the kernel's batch size and spatial size.
struct NhwcSlice {
  /// The destination tensor (channels-last contiguous, same dtype as the input).
  torch::Tensor tensor;
  /// First channel written.
  int64_t channel_offset = 0;
};

/// A new channels-last CPU tensor [n, c, h, w] of `dtype`.
torch::Tensor empty_nhwc(int64_t n, int64_t c, int64_t h, int64_t w, torch::ScalarType dtype);

/// 2x2 max-pool, stride 2, VALID, of channels-last `x` (float or bfloat16), written into every
/// slice of `outputs` ([N, *, H/2, W/2]) in one pass.
void max_pool2x2_nhwc(const torch::Tensor& x, const std::vector<NhwcSlice>& outputs);

/// 2x2 max-pool, stride 1, TF "SAME" (right/bottom padding never wins), of channels-last `x`,
/// written into every slice of `outputs` ([N, *, H, W]) in one pass.
void max_pool_same_s1_nhwc(const torch::Tensor& x, const std::vector<NhwcSlice>& outputs);

/// TF1 legacy x2 bilinear upsampling (see upsample2x_tf_legacy) of channels-last `x`; returns a
/// new channels-last tensor [N, C, 2H, 2W].
torch::Tensor upsample2x_nhwc(const torch::Tensor& x);

}  // namespace msinet::runtime
