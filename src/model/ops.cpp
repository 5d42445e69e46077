#include "msinet/model/ops.h"

#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <torch/nn/init.h>
#include <torch/torch.h>

#include "msinet/util/error.h"

namespace msinet::model {
namespace {

void require_nchw(const torch::Tensor& x, const char* op) {
  if (!x.defined() || x.dim() != 4) {
    throw Error(ErrorCode::kInternal,
                std::string(op) + ": expected a 4-D NCHW tensor, got " +
                    (x.defined() ? std::to_string(x.dim()) + "-D" : std::string("undefined")));
  }
}

// Doubles `dim`: out[2k] = in[k], out[2k+1] = in[k] + (in[k+1] - in[k]) * 0.5, last repeated.
torch::Tensor interleave_midpoints(const torch::Tensor& x, int64_t dim) {
  const int64_t n = x.size(dim);
  torch::Tensor next =
      n > 1 ? torch::cat({x.narrow(dim, 1, n - 1), x.narrow(dim, n - 1, 1)}, dim) : x;
  torch::Tensor mid = torch::add(x, next - x, /*alpha=*/0.5);
  std::vector<int64_t> sizes = x.sizes().vec();
  sizes[dim] *= 2;
  return torch::stack({x, mid}, dim + 1).view(sizes);
}

// ref: tensorflow/core/kernels/resize_bilinear_op.cc compute_interpolation_weights (legacy)
torch::Tensor resize_axis(const torch::Tensor& x, int64_t dim, int64_t out) {
  const int64_t in = x.size(dim);
  if (in == out) return x;
  if (in == 1) {
    std::vector<int64_t> sizes = x.sizes().vec();
    sizes[dim] = out;
    return x.expand(sizes);
  }
  std::vector<int64_t> lo(out), hi(out);
  std::vector<float> frac(out);
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t o = 0; o < out; ++o) {
    const float src = static_cast<float>(o) * scale;
    lo[o] = std::min(static_cast<int64_t>(src), in - 1);
    hi[o] = std::min(lo[o] + 1, in - 1);
    frac[o] = src - static_cast<float>(lo[o]);
  }
  const auto index_options = torch::TensorOptions().dtype(torch::kLong);
  torch::Tensor lo_t = torch::tensor(lo, index_options).to(x.device());
  torch::Tensor hi_t = torch::tensor(hi, index_options).to(x.device());
  std::vector<int64_t> frac_shape(x.dim(), 1);
  frac_shape[dim] = out;
  torch::Tensor frac_t = torch::tensor(frac).to(x.device(), x.scalar_type()).view(frac_shape);
  torch::Tensor a = x.index_select(dim, lo_t);
  torch::Tensor b = x.index_select(dim, hi_t);
  return a + (b - a) * frac_t;
}

}  // namespace

// ref: saliency/model.py _upsample (tf.image.resize_bilinear, TF 1.13 defaults)
torch::Tensor upsample2x_tf_legacy(const torch::Tensor& x) {
  require_nchw(x, "upsample2x_tf_legacy");
  return interleave_midpoints(interleave_midpoints(x, /*dim=*/3), /*dim=*/2);
}

torch::Tensor resize_bilinear_tf_legacy(const torch::Tensor& x, int64_t out_h, int64_t out_w) {
  require_nchw(x, "resize_bilinear_tf_legacy");
  if (out_h <= 0 || out_w <= 0) {
    throw Error(ErrorCode::kInternal, "resize_bilinear_tf_legacy: output size " +
                                          std::to_string(out_h) + "x" + std::to_string(out_w) +
                                          " must be positive");
  }
  const int64_t in_h = x.size(2), in_w = x.size(3);
  if (in_h > 0 && in_w > 0 && out_h == 2 * in_h && out_w == 2 * in_w) {
    return upsample2x_tf_legacy(x);
  }
  return resize_axis(resize_axis(x, /*dim=*/3, out_w), /*dim=*/2, out_h);
}

// ref: saliency/model.py _encoder (max_pooling2d(2, 1, padding="same"))
torch::Tensor max_pool_same_stride1(const torch::Tensor& x) {
  require_nchw(x, "max_pool_same_stride1");
  torch::Tensor padded =
      torch::constant_pad_nd(x, {0, 1, 0, 1}, -std::numeric_limits<double>::infinity());
  return torch::max_pool2d(padded, /*kernel_size=*/{2, 2}, /*stride=*/{1, 1});
}

// ref: saliency/model.py _normalize
torch::Tensor normalize_maps(const torch::Tensor& m) {
  if (!m.defined() || m.dim() < 2) {
    throw Error(ErrorCode::kInternal, "normalize_maps: expected a batch of maps (at least 2-D)");
  }
  std::vector<int64_t> dims(m.dim() - 1);
  std::iota(dims.begin(), dims.end(), 1);
  torch::Tensor shifted = m - m.amin(dims, /*keepdim=*/true);
  return shifted / (shifted.amax(dims, /*keepdim=*/true) + 1e-7);
}

torch::nn::Conv2d same_conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel,
                              int64_t dilation) {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(in_channels, out_channels, kernel)
                             .padding(dilation * (kernel - 1) / 2)
                             .dilation(dilation)
                             .bias(true));
  torch::NoGradGuard no_grad;
  torch::nn::init::xavier_uniform_(conv->weight);
  torch::nn::init::zeros_(conv->bias);
  return conv;
}

}  // namespace msinet::model
