#include "msinet/infer/predictor.h"

#include <torch/torch.h>

#include "msinet/infer/runtime.h"
#include "msinet/model/msinet.h"
#include "msinet/util/error.h"

namespace msinet::infer {

struct Predictor::Impl {
  torch::Device device{torch::kCPU};
  model::MSINet net;
};

Predictor::Predictor(const std::filesystem::path& weights, const std::string& device)
    : impl_(std::make_unique<Impl>()) {
  impl_->device = resolve_device(device);
  load_weights_file(impl_->net, weights);
  impl_->net->to(impl_->device);
  impl_->net->eval();
}

Predictor::~Predictor() = default;

std::string Predictor::device_name() const { return impl_->device.str(); }

std::vector<cv::Mat> Predictor::predict(const std::vector<cv::Mat>& stimuli) {
  if (stimuli.empty()) return {};
  const int h = stimuli[0].rows, w = stimuli[0].cols;
  std::vector<torch::Tensor> items;
  items.reserve(stimuli.size());
  for (const cv::Mat& s : stimuli) {
    if (s.type() != CV_32FC3 || s.rows != h || s.cols != w || !s.isContinuous()) {
      throw Error(ErrorCode::kInternal, "predict: stimuli must be continuous CV_32FC3 of one size");
    }
    items.push_back(torch::from_blob(const_cast<float*>(s.ptr<float>()), {h, w, 3}, torch::kFloat32)
                        .permute({2, 0, 1}));
  }
  torch::InferenceMode guard;
  torch::Tensor batch = torch::stack(items).to(impl_->device);
  torch::Tensor maps = impl_->net->forward(batch).to(torch::kCPU).contiguous();
  std::vector<cv::Mat> out;
  out.reserve(stimuli.size());
  for (int64_t i = 0; i < maps.size(0); ++i) {
    cv::Mat m(h, w, CV_32FC1);
    std::memcpy(m.ptr<float>(), maps[i].data_ptr<float>(), sizeof(float) * h * w);
    out.push_back(m);
  }
  return out;
}

}  // namespace msinet::infer
