#include "msinet/model/decoder.h"

#include <torch/torch.h>

#include "msinet/model/layers.h"
#include "msinet/model/ops.h"

namespace msinet::model {

DecoderImpl::DecoderImpl() {
  for (const Layer& l : kLayers) {
    if (l.part != Part::kDecoder) continue;
    convs.push_back(register_module(l.name, same_conv2d(l.in, l.out, l.kernel, l.dilation)));
  }
}

// ref: saliency/model.py _decoder
torch::Tensor DecoderImpl::forward(const torch::Tensor& x) {
  torch::Tensor t = x;
  size_t i = 0;
  for (const Layer& l : kLayers) {
    if (l.part != Part::kDecoder) continue;
    if (l.input == Input::kUpsampled) t = upsample2x_tf_legacy(t);
    t = convs[i++]->forward(t);
    if (l.relu) t.relu_();
  }
  return t;
}

}  // namespace msinet::model
