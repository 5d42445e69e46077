#include "model.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <cmath>

namespace msinet::calibration {

namespace {

namespace F = torch::nn::functional;
using torch::indexing::Slice;

// f(x) of the piecewise linear function through (k / (K - 1), ys[k]); x clamped to [0, 1].
// ref: pysaliency/torch_utils.py nonlinearity (the same interpolation, by index instead of a sum
// of clamped ramps)
torch::Tensor piecewise_linear(const torch::Tensor& x, const torch::Tensor& ys) {
  const int64_t k = ys.size(0);
  const torch::Tensor t = x.clamp(0, 1) * static_cast<double>(k - 1);
  const torch::Tensor index =
      t.detach().floor().clamp(0, static_cast<double>(k - 2)).to(torch::kLong);
  const torch::Tensor frac = t - index.to(t.scalar_type());
  return ys.index({index}) * (1 - frac) + ys.index({index + 1}) * frac;
}

// A 1-D Gaussian along the last dimension of [R, L], edges replicated.
// ref: pysaliency/torch_utils.py gaussian_filter_1d (kernel 2 ceil(4 sigma) + 1, replicate)
torch::Tensor blur_last(const torch::Tensor& x, const torch::Tensor& sigma, int64_t radius) {
  const int64_t length = x.size(-1);
  const auto options = torch::TensorOptions().dtype(x.scalar_type());
  const torch::Tensor grid = torch::arange(-radius, radius + 1, options);
  torch::Tensor kernel = torch::exp(-0.5 * (grid / sigma).pow(2));
  kernel = kernel / kernel.sum();
  const torch::Tensor source =
      torch::arange(-radius, length + radius, torch::kLong).clamp(0, length - 1);
  const torch::Tensor padded = x.index_select(-1, source).unsqueeze(1);  // [R, 1, L + 2r]
  return F::conv1d(padded, kernel.view({1, 1, -1})).squeeze(1);
}

// The blur of each map of [B, H, W] with sigma = blur * min(H, W) pixels.
torch::Tensor gaussian_blur(const torch::Tensor& maps, const torch::Tensor& blur) {
  const int64_t b = maps.size(0), h = maps.size(1), w = maps.size(2);
  const torch::Tensor sigma = blur * static_cast<double>(std::min(h, w));
  const double sigma_px = sigma.item<double>();
  if (!(sigma_px >= kMinBlurPixels)) return maps;
  const auto radius = static_cast<int64_t>(std::ceil(4 * sigma_px));
  torch::Tensor out = blur_last(maps.reshape({b * h, w}), sigma, radius).view({b, h, w});
  out = blur_last(out.transpose(1, 2).reshape({b * w, h}), sigma, radius).view({b, w, h});
  return out.transpose(1, 2);
}

// d of every pixel of an H x W image (calibration.h), [H, W].
torch::Tensor centre_distance(int64_t h, int64_t w, torch::Dtype dtype) {
  const auto options = torch::TensorOptions().dtype(dtype);
  const torch::Tensor v = (torch::arange(h, options) + 0.5) * (2.0 / static_cast<double>(h)) - 1;
  const torch::Tensor u = (torch::arange(w, options) + 0.5) * (2.0 / static_cast<double>(w)) - 1;
  return torch::sqrt(v.view({h, 1}).pow(2) + u.view({1, w}).pow(2)) / std::sqrt(2.0);
}

}  // namespace

ModelTensors model_tensors(const Calibration& c, torch::Dtype dtype) {
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  ModelTensors t;
  t.blur = torch::tensor(c.blur, options).to(dtype);
  t.nonlinearity = torch::tensor(c.nonlinearity, options).to(dtype);
  t.centre_bias = torch::tensor(c.centre_bias, options).to(dtype);
  t.uniform_weight = torch::tensor(c.uniform_weight, options).to(dtype);
  return t;
}

torch::Tensor minmax_normalise(const torch::Tensor& maps) {
  const torch::Tensor lo = maps.amin({1, 2}, /*keepdim=*/true);
  const torch::Tensor range = maps.amax({1, 2}, /*keepdim=*/true) - lo;
  const torch::Tensor positive = range > 0;
  const torch::Tensor safe = torch::where(positive, range, torch::ones_like(range));
  return torch::where(positive, (maps - lo) / safe, torch::zeros_like(maps));
}

torch::Tensor log_density_tensor(const torch::Tensor& maps01, const ModelTensors& p) {
  const int64_t h = maps01.size(1), w = maps01.size(2);
  const torch::Tensor blurred = gaussian_blur(maps01, p.blur);
  const torch::Tensor bias =
      piecewise_linear(centre_distance(h, w, maps01.scalar_type()), p.centre_bias);
  torch::Tensor q = piecewise_linear(blurred, p.nonlinearity) * bias.unsqueeze(0);
  torch::Tensor sums = q.sum({1, 2}, /*keepdim=*/true);
  const torch::Tensor positive = sums > 0;
  q = torch::where(positive, q, torch::ones_like(q));
  sums = torch::where(positive, sums, torch::full_like(sums, static_cast<double>(h * w)));
  const double n = static_cast<double>(h * w);
  return torch::log((1 - p.uniform_weight) * (q / sums) + p.uniform_weight / n);
}

}  // namespace msinet::calibration
