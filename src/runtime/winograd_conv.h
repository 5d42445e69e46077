#pragma once
// A 3x3 stride-1 'same' convolution by Winograd's minimal filtering F(4x4, 3x3), float32 on the
// CPU, channels-last in and out, bias and an optional ReLU fused into the output transform.
// Each 6x6 input tile becomes 36 numbers per channel, and the convolution becomes 36 matrix
// products (tiles x Cin) * (Cin x Cout): 36 multiplications per 16 outputs instead of 144.
// A dilated convolution (rate d) is d*d ordinary 3x3 convolutions with the same kernel, one per
// sub-grid x[p + d*i, q + d*j] of its input and output; the tiles of all sub-grids go into the
// same products, and the transforms read and write with stride d, so nothing is copied.
// ref: Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016.

#include <cstdint>
#include <memory>

#include <torch/types.h>

namespace msinet::runtime {

class WinogradConv {
 public:
  /// weight [O, I, 3, 3] float (any dtype, converted), bias [O] or undefined; dilation >= 1.
  WinogradConv(const torch::Tensor& weight, const torch::Tensor& bias, int64_t dilation, bool relu);
  ~WinogradConv();
  WinogradConv(const WinogradConv&) = delete;
  WinogradConv& operator=(const WinogradConv&) = delete;

  /// x: float32 CPU [N, I, H, W] (channels-last is read in place; other layouts are copied)
  /// -> channels-last float32 [N, O, H, W]. Not thread-safe: it keeps per-shape buffers.
  torch::Tensor run(const torch::Tensor& x);

  int64_t in_channels() const { return in_; }
  int64_t out_channels() const { return out_; }

 private:
  struct Impl;  // the transformed weights, and per input shape its tiles, products and buffers
  std::unique_ptr<Impl> impl_;
  int64_t in_ = 0, out_ = 0;
};

}  // namespace msinet::runtime
