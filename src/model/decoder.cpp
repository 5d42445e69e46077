#include "msinet/model/decoder.h"

#include <torch/torch.h>

#include "msinet/model/ops.h"

namespace msinet::model {

DecoderImpl::DecoderImpl() {
  conv1 = register_module("conv1", same_conv2d(256, 128, /*kernel=*/3));
  conv2 = register_module("conv2", same_conv2d(128, 64, /*kernel=*/3));
  conv3 = register_module("conv3", same_conv2d(64, 32, /*kernel=*/3));
  conv4 = register_module("conv4", same_conv2d(32, 1, /*kernel=*/3));
}

// ref: saliency/model.py _decoder
torch::Tensor DecoderImpl::forward(const torch::Tensor& x) {
  torch::Tensor t = conv1->forward(upsample2x_tf_legacy(x)).relu_();
  t = conv2->forward(upsample2x_tf_legacy(t)).relu_();
  t = conv3->forward(upsample2x_tf_legacy(t)).relu_();
  return conv4->forward(t);
}

}  // namespace msinet::model
