#include "msinet/model/aspp.h"

#include <torch/torch.h>

#include "msinet/model/layers.h"
#include "msinet/model/ops.h"

namespace msinet::model {

ASPPOptions::ASPPOptions()
    : in_channels_(feature_channels()),
      out_channels_(kLayers[layer_index(Part::kAspp, "conv2")].out) {}

ASPPImpl::ASPPImpl(const ASPPOptions& options) {
  int64_t branch_channels = 0;
  for (const Layer& l : kLayers) {
    if (l.part != Part::kAspp) continue;
    const int64_t in = l.input == Input::kAsppBranches ? branch_channels : options.in_channels();
    if (l.input != Input::kAsppBranches) branch_channels += options.out_channels();
    convs.push_back(
        register_module(l.name, same_conv2d(in, options.out_channels(), l.kernel, l.dilation)));
  }
}

// ref: saliency/model.py _aspp
torch::Tensor ASPPImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> branches;
  torch::Tensor y;
  size_t i = 0;
  for (const Layer& l : kLayers) {
    if (l.part != Part::kAspp) continue;
    torch::nn::Conv2d& conv = convs[i++];
    switch (l.input) {
      case Input::kFeatureMean:
        y = conv->forward(x.mean({2, 3}, /*keepdim=*/true));
        if (l.relu) y.relu_();
        branches.push_back(resize_bilinear_tf_legacy(y, x.size(2), x.size(3)));
        continue;
      case Input::kAsppBranches:
        y = conv->forward(torch::cat(branches, /*dim=*/1));
        break;
      default:
        y = conv->forward(x);
        break;
    }
    if (l.relu) y.relu_();
    if (l.input != Input::kAsppBranches) branches.push_back(y);
  }
  return y;
}

}  // namespace msinet::model
