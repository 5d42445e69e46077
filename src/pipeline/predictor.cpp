#include "msinet/pipeline/predictor.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <mutex>
#include <string>

#include "msinet/checkpoint/load.h"
#include "msinet/model/msinet.h"
#include "msinet/pipeline/plan_cache.h"
#include "msinet/pipeline/tensors.h"
#include "msinet/runtime/device.h"
#include "msinet/runtime/inference.h"
#include "msinet/runtime/int8_calibration.h"
#include "msinet/runtime/precision.h"

namespace msinet::pipeline {

struct Predictor::Impl {
  std::unique_ptr<runtime::InferenceNet> net;
  torch::Tensor staging;  // [N, H, W, 3] float32 host buffer (pinned for CUDA), reused per shape
  std::mutex busy;        // one forward pass at a time (staging and the network are shared)
  std::string explained;  // what the last debug line said about the network
};

namespace {

std::unique_ptr<runtime::InferenceNet> load(const std::filesystem::path& weights,
                                            const NetworkOptions& network) {
  const torch::Device device = runtime::resolve_device(network.device);
  runtime::InferenceOptions options;
  options.precision = runtime::parse_precision(network.precision);
  runtime::check_precision(options.precision, device);
  options.plan = network.plan;
  // One cache for the process: choices measured once, whichever network asks.
  static const auto cache = std::make_shared<PlanCache>();
  options.plan_store = cache;
  if (!network.int8_calibration.empty()) {
    if (options.precision == runtime::Precision::kInt8) {
      options.int8_calibration = std::make_shared<runtime::Int8Calibration>(
          runtime::read_int8_calibration(network.int8_calibration));
    } else {
      spdlog::warn("int8 calibration {} ignored: it applies to --precision int8, not {}",
                   network.int8_calibration, network.precision);
    }
  }
  model::MSINet net;
  checkpoint::load_weights_file(net, weights);
  net->eval();
  return std::make_unique<runtime::InferenceNet>(net, device, options);
}

}  // namespace

Predictor::Predictor(const std::filesystem::path& weights, const NetworkOptions& network)
    : Predictor(load(weights, network)) {}

Predictor::Predictor(std::unique_ptr<runtime::InferenceNet> net) : impl_(std::make_unique<Impl>()) {
  impl_->net = std::move(net);
  // Once, not for each network alike (training validates with a new one every epoch).
  static std::mutex logged_mutex;
  static std::string logged;
  const std::string explanation = impl_->net->explain();
  const std::lock_guard<std::mutex> lock(logged_mutex);
  if (explanation != logged) spdlog::debug("network: {}", explanation);
  logged = explanation;
}

Predictor::~Predictor() = default;

std::string Predictor::device_name() const { return impl_->net->device().str(); }

std::string Predictor::describe() const { return impl_->net->describe(); }

std::vector<cv::Mat> Predictor::predict(const std::vector<cv::Mat>& stimuli) {
  if (stimuli.empty()) return {};
  const std::lock_guard<std::mutex> lock(impl_->busy);
  const torch::Tensor rgb =
      images_to_batch(stimuli, impl_->staging, /*pinned=*/impl_->net->device().is_cuda());
  std::vector<cv::Mat> maps = batch_to_maps(impl_->net->forward(rgb));
  // The plan of a new input shape is known after its first pass.
  const std::string explanation = impl_->net->explain();
  if (explanation != impl_->explained) spdlog::debug("network: {}", explanation);
  impl_->explained = explanation;
  return maps;
}

}  // namespace msinet::pipeline
