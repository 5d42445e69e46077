#pragma once
// Kernels of the oneDNN plan (onednn_net.cpp) that oneDNN lacks, on its dense NHWC buffers.

#include <cstdint>

namespace msinet::runtime {

/// TF1 legacy x2 bilinear upsampling (model::upsample2x_tf_legacy, bit for bit) of the dense
/// NHWC float buffer `src` [n, h, w, c] into the dense NHWC buffer `dst` [n, 2h, 2w, c].
void upsample2x_nhwc_into(const float* src, float* dst, int64_t n, int64_t h, int64_t w, int64_t c);

}  // namespace msinet::runtime
