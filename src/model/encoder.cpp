#include "msinet/model/encoder.h"

#include <torch/torch.h>

#include "msinet/model/layers.h"
#include "msinet/model/ops.h"

namespace msinet::model {

EncoderImpl::EncoderImpl() {
  for (const Layer& l : kLayers) {
    if (l.part != Part::kEncoder) continue;
    convs.push_back(register_module(l.name, same_conv2d(l.in, l.out, l.kernel, l.dilation)));
  }
}

// ref: saliency/model.py _encoder
torch::Tensor EncoderImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> features;
  torch::Tensor t = x;
  size_t i = 0;
  for (const Layer& l : kLayers) {
    if (l.part != Part::kEncoder) continue;
    t = convs[i++]->forward(t).relu_();
    if (l.pool == Pool::kStride2) t = torch::max_pool2d(t, /*kernel_size=*/2, /*stride=*/2);
    if (l.pool == Pool::kSameStride1) t = max_pool_same_stride1(t);
    if (l.feature) features.push_back(t);
  }
  return torch::cat(features, /*dim=*/1);
}

}  // namespace msinet::model
