#include "msinet/model/aspp.h"

#include <torch/torch.h>

#include "msinet/model/ops.h"

namespace msinet::model {

ASPPImpl::ASPPImpl(const ASPPOptions& options) {
  const int64_t in = options.in_channels();
  const int64_t out = options.out_channels();
  conv1_1 = register_module("conv1_1", same_conv2d(in, out, /*kernel=*/1));
  conv1_2 = register_module("conv1_2", same_conv2d(in, out, /*kernel=*/3, /*dilation=*/4));
  conv1_3 = register_module("conv1_3", same_conv2d(in, out, /*kernel=*/3, /*dilation=*/8));
  conv1_4 = register_module("conv1_4", same_conv2d(in, out, /*kernel=*/3, /*dilation=*/12));
  conv1_5 = register_module("conv1_5", same_conv2d(in, out, /*kernel=*/1));
  conv2 = register_module("conv2", same_conv2d(5 * out, out, /*kernel=*/1));
}

// ref: saliency/model.py _aspp
torch::Tensor ASPPImpl::forward(const torch::Tensor& x) {
  torch::Tensor b1 = conv1_1->forward(x).relu_();
  torch::Tensor b2 = conv1_2->forward(x).relu_();
  torch::Tensor b3 = conv1_3->forward(x).relu_();
  torch::Tensor b4 = conv1_4->forward(x).relu_();
  torch::Tensor pooled = x.mean({2, 3}, /*keepdim=*/true);
  torch::Tensor b5 =
      resize_bilinear_tf_legacy(conv1_5->forward(pooled).relu_(), x.size(2), x.size(3));
  return conv2->forward(torch::cat({b1, b2, b3, b4, b5}, /*dim=*/1)).relu_();
}

}  // namespace msinet::model
