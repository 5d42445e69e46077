#include "msinet/model/msinet.h"

#include <string>

#include <torch/torch.h>

#include "msinet/model/layers.h"
#include "msinet/model/ops.h"
#include "msinet/util/error.h"

namespace msinet::model {

void check_rgb_input(const torch::Tensor& rgb) {
  if (!rgb.defined() || rgb.dim() != 4 || rgb.size(1) != 3) {
    std::string got = rgb.defined() ? "[" : "an undefined tensor";
    if (rgb.defined()) {
      for (int64_t i = 0; i < rgb.dim(); ++i) got += (i ? ", " : "") + std::to_string(rgb.size(i));
      got += "]";
    }
    throw Error(ErrorCode::kUsage,
                "MSI-Net expects a batch of RGB images shaped [N, 3, H, W], got " + got);
  }
  if (!rgb.is_floating_point()) {
    throw Error(ErrorCode::kUsage, "MSI-Net expects floating-point RGB values 0..255, got " +
                                       std::string(c10::toString(rgb.scalar_type())));
  }
  const int64_t h = rgb.size(2), w = rgb.size(3);
  const int64_t m = input_multiple();
  if (h <= 0 || w <= 0 || h % m != 0 || w % m != 0) {
    throw Error(ErrorCode::kUsage, "input size " + std::to_string(h) + "x" + std::to_string(w) +
                                       " (height x width) is not supported: sizes must be "
                                       "multiples of " +
                                       std::to_string(m) + "; resize or pad the image");
  }
}

MSINetImpl::MSINetImpl() {
  encoder = register_module("encoder", Encoder());
  aspp = register_module("aspp", ASPP());
  decoder = register_module("decoder", Decoder());
}

// ref: saliency/model.py forward
torch::Tensor MSINetImpl::forward_raw(torch::Tensor rgb) {
  check_rgb_input(rgb);
  torch::Tensor mean =
      torch::tensor({kRgbMean[0], kRgbMean[1], kRgbMean[2]}, rgb.options()).view({1, 3, 1, 1});
  return decoder->forward(aspp->forward(encoder->forward(rgb - mean)));
}

torch::Tensor MSINetImpl::forward(torch::Tensor rgb) {
  return normalize_maps(forward_raw(std::move(rgb)));
}

const torch::nn::Conv2d& MSINetImpl::conv(size_t index) const {
  const Layer& layer = kLayers.at(index);
  size_t in_part = 0;
  for (size_t i = 0; i < index; ++i) in_part += kLayers[i].part == layer.part ? 1 : 0;
  switch (layer.part) {
    case Part::kEncoder:
      return encoder->convs.at(in_part);
    case Part::kAspp:
      return aspp->convs.at(in_part);
    case Part::kDecoder:
      break;
  }
  return decoder->convs.at(in_part);
}

MSINet random_msinet(uint64_t seed) {
  torch::manual_seed(seed);
  MSINet net;
  torch::NoGradGuard no_grad;
  for (auto& item : net->named_parameters()) {
    const std::string& k = item.key();
    if (k.size() > 5 && k.compare(k.size() - 5, 5, ".bias") == 0) item.value().uniform_(-0.1, 0.1);
  }
  net->eval();
  return net;
}

int64_t count_parameters(const MSINet& net) {
  int64_t total = 0;
  for (const torch::Tensor& p : net->parameters()) total += p.numel();
  return total;
}

}  // namespace msinet::model
