#include "msinet/train/loss.h"

#include <torch/torch.h>

namespace msinet::train {

torch::Tensor kld_loss(const torch::Tensor& y_true, const torch::Tensor& y_pred) {
  constexpr double kEps = 1e-7;
  const std::vector<int64_t> dims = {1, 2, 3};
  const torch::Tensor t = y_true / (kEps + y_true.sum(dims, /*keepdim=*/true));
  const torch::Tensor p = y_pred / (kEps + y_pred.sum(dims, /*keepdim=*/true));
  const torch::Tensor kld = (t * torch::log(kEps + t / (kEps + p))).sum(dims);
  return kld.mean();
}

}  // namespace msinet::train
