#include "msinet/pipeline/tensors.h"

#include <torch/torch.h>

#include <cstring>

#include "msinet/util/error.h"

namespace msinet::pipeline {

torch::Tensor images_to_batch(const std::vector<cv::Mat>& images, torch::Tensor& storage,
                              bool pinned) {
  if (images.empty()) throw Error(ErrorCode::kInternal, "images_to_batch: no images");
  const int h = images[0].rows, w = images[0].cols, c = images[0].channels();
  for (const cv::Mat& m : images) {
    if (m.depth() != CV_32F || m.rows != h || m.cols != w || m.channels() != c ||
        !m.isContinuous()) {
      throw Error(ErrorCode::kInternal,
                  "images_to_batch: images must be continuous float32 of one size and type");
    }
  }
  const std::vector<int64_t> shape = {static_cast<int64_t>(images.size()), h, w, c};
  if (!storage.defined() || storage.sizes().vec() != shape) {
    auto options = torch::TensorOptions().dtype(torch::kFloat32);
    if (pinned) options = options.pinned_memory(true);
    storage = torch::empty(shape, options);
  }
  const size_t image_floats = static_cast<size_t>(h) * w * c;
  float* dst = storage.data_ptr<float>();
  for (size_t i = 0; i < images.size(); ++i) {
    std::memcpy(dst + i * image_floats, images[i].ptr<float>(), sizeof(float) * image_floats);
  }
  // NHWC memory seen as an NCHW tensor: channels-last strides, no copy.
  return storage.permute({0, 3, 1, 2});
}

torch::Tensor images_to_batch(const std::vector<cv::Mat>& images) {
  torch::Tensor storage;
  return images_to_batch(images, storage);
}

std::vector<cv::Mat> batch_to_maps(const torch::Tensor& maps) {
  const torch::Tensor cpu = maps.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t n = cpu.size(0), h = cpu.size(2), w = cpu.size(3);
  std::vector<cv::Mat> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    cv::Mat m(static_cast<int>(h), static_cast<int>(w), CV_32FC1);
    std::memcpy(m.ptr<float>(), cpu[i].data_ptr<float>(), sizeof(float) * h * w);
    out.push_back(m);
  }
  return out;
}

}  // namespace msinet::pipeline
