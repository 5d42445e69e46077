#include "msinet/infer/predictor.h"

#include <torch/torch.h>

#include <cstring>

#include "msinet/infer/runtime.h"
#include "msinet/model/inference.h"
#include "msinet/model/msinet.h"
#include "msinet/util/error.h"

namespace msinet::infer {

struct Predictor::Impl {
  torch::Device device{torch::kCPU};
  std::unique_ptr<model::InferenceNet> net;
  torch::Tensor staging;  // [N, H, W, 3] float32 host buffer (pinned for CUDA), reused per shape
};

Predictor::Predictor(const std::filesystem::path& weights, const std::string& device,
                     const std::string& precision)
    : impl_(std::make_unique<Impl>()) {
  impl_->device = resolve_device(device);
  model::reuse_freed_memory();
  model::InferenceOptions options;
  options.precision = model::parse_precision(precision);
  model::check_precision(options.precision, impl_->device);
  model::MSINet net;
  load_weights_file(net, weights);
  net->eval();
  impl_->net = std::make_unique<model::InferenceNet>(net, impl_->device, options);
}

Predictor::~Predictor() = default;

std::string Predictor::device_name() const { return impl_->device.str(); }

std::string Predictor::describe() const { return impl_->net->describe(); }

std::vector<cv::Mat> Predictor::predict(const std::vector<cv::Mat>& stimuli) {
  if (stimuli.empty()) return {};
  const int h = stimuli[0].rows, w = stimuli[0].cols;
  const int64_t n = static_cast<int64_t>(stimuli.size());
  for (const cv::Mat& s : stimuli) {
    if (s.type() != CV_32FC3 || s.rows != h || s.cols != w || !s.isContinuous()) {
      throw Error(ErrorCode::kInternal, "predict: stimuli must be continuous CV_32FC3 of one size");
    }
  }
  const std::vector<int64_t> shape = {n, h, w, 3};
  if (!impl_->staging.defined() || impl_->staging.sizes().vec() != shape) {
    auto options = torch::TensorOptions().dtype(torch::kFloat32);
    if (impl_->device.is_cuda()) options = options.pinned_memory(true);
    impl_->staging = torch::empty(shape, options);
  }
  const size_t image_bytes = sizeof(float) * static_cast<size_t>(h) * w * 3;
  float* dst = impl_->staging.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(dst + i * h * w * 3, stimuli[i].ptr<float>(), image_bytes);
  // NHWC memory seen as an NCHW tensor: channels-last strides, no copy.
  const torch::Tensor rgb = impl_->staging.permute({0, 3, 1, 2});
  const torch::Tensor maps = impl_->net->forward(rgb).to(torch::kCPU).contiguous();
  std::vector<cv::Mat> out;
  out.reserve(stimuli.size());
  for (int64_t i = 0; i < n; ++i) {
    cv::Mat m(h, w, CV_32FC1);
    std::memcpy(m.ptr<float>(), maps[i].data_ptr<float>(), sizeof(float) * h * w);
    out.push_back(m);
  }
  return out;
}

}  // namespace msinet::infer
