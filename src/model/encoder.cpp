#include "msinet/model/encoder.h"

#include <torch/torch.h>

#include "msinet/model/ops.h"

namespace msinet::model {
namespace {

struct ConvSpec {
  const char* name;
  int64_t in_channels;
  int64_t out_channels;
  int64_t dilation;
};

// ref: saliency/model.py _encoder
constexpr ConvSpec kConvs[] = {
    {"conv1_1", 3, 64, 1},    {"conv1_2", 64, 64, 1},   {"conv2_1", 64, 128, 1},
    {"conv2_2", 128, 128, 1}, {"conv3_1", 128, 256, 1}, {"conv3_2", 256, 256, 1},
    {"conv3_3", 256, 256, 1}, {"conv4_1", 256, 512, 1}, {"conv4_2", 512, 512, 1},
    {"conv4_3", 512, 512, 1}, {"conv5_1", 512, 512, 2}, {"conv5_2", 512, 512, 2},
    {"conv5_3", 512, 512, 2},
};

}  // namespace

EncoderImpl::EncoderImpl() {
  for (const ConvSpec& spec : kConvs) {
    convs.push_back(register_module(
        spec.name, same_conv2d(spec.in_channels, spec.out_channels, /*kernel=*/3, spec.dilation)));
  }
}

// ref: saliency/model.py _encoder
torch::Tensor EncoderImpl::forward(const torch::Tensor& x) {
  auto conv_relu = [this](torch::Tensor t, size_t i) { return convs[i]->forward(t).relu_(); };
  torch::Tensor t = conv_relu(x, 0);
  t = torch::max_pool2d(conv_relu(t, 1), /*kernel_size=*/2, /*stride=*/2);
  t = conv_relu(t, 2);
  t = torch::max_pool2d(conv_relu(t, 3), /*kernel_size=*/2, /*stride=*/2);
  t = conv_relu(conv_relu(t, 4), 5);
  torch::Tensor p3 = torch::max_pool2d(conv_relu(t, 6), /*kernel_size=*/2, /*stride=*/2);
  t = conv_relu(conv_relu(p3, 7), 8);
  torch::Tensor p4 = max_pool_same_stride1(conv_relu(t, 9));
  t = conv_relu(conv_relu(p4, 10), 11);
  torch::Tensor p5 = max_pool_same_stride1(conv_relu(t, 12));
  return torch::cat({p3, p4, p5}, /*dim=*/1);
}

}  // namespace msinet::model
