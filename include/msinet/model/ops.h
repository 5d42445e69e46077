#pragma once
// TensorFlow 1 operations that LibTorch does not provide with the same semantics, and the
// "same"-padded convolution every MSI-Net layer uses. All ops take NCHW tensors on any device
// and are differentiable.

#include <cstdint>

#include <torch/nn/modules/conv.h>
#include <torch/types.h>

namespace msinet::model {

/// TF1 resize_bilinear(align_corners=false, half_pixel_centers=false) of [N,C,H,W] to 2H x 2W.
torch::Tensor upsample2x_tf_legacy(const torch::Tensor& x);

/// TF1 legacy resize_bilinear of [N,C,H,W] to out_h x out_w (a broadcast when H = W = 1).
torch::Tensor resize_bilinear_tf_legacy(const torch::Tensor& x, int64_t out_h, int64_t out_w);

/// 2x2 max-pool, stride 1, TF "SAME": one -inf cell padded on the right and bottom; size kept.
torch::Tensor max_pool_same_stride1(const torch::Tensor& x);

/// Per image (dim 0): m - min(m), then divided by (1e-7 + its max); values in [0, 1].
torch::Tensor normalize_maps(const torch::Tensor& m);

/// Conv2d with bias and TF "same" padding dilation*(kernel-1)/2, initialised like tf.layers
/// (Glorot-uniform kernel, zero bias).
torch::nn::Conv2d same_conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel,
                              int64_t dilation = 1);

}  // namespace msinet::model
