#include "msinet/runtime/int8_calibration.h"

#include <torch/torch.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "msinet/runtime/layer_observer.h"
#include "msinet/runtime/onednn_net.h"
#include "msinet/util/error.h"

namespace msinet::runtime {
namespace {

// Keeps, per layer, the largest `quantile` of its input over the passes it sees.
class RangeObserver : public LayerObserver {
 public:
  explicit RangeObserver(double quantile) : quantile_(quantile) {}
  std::array<double, model::kLayers.size()> ranges{};

  void before(size_t layer, const torch::Tensor& input) override {
    const torch::Tensor v = input.reshape({-1}).to(torch::kFloat32);
    const int64_t n = v.numel();
    if (n == 0) return;
    // The k-th largest value, k = the values above the quantile plus one: a top-k, cheaper than
    // sorting millions of activations.
    const auto above = static_cast<int64_t>(static_cast<double>(n) * (1.0 - quantile_));
    const int64_t k = std::min<int64_t>(n, above + 1);
    const double q = std::get<0>(v.topk(k)).min().item<double>();
    ranges.at(layer) = std::max(ranges.at(layer), q);
  }
  void after(size_t) override {}

 private:
  double quantile_;
};

}  // namespace

std::string weights_fingerprint(const model::MSINet& net) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](const torch::Tensor& t) {
    if (!t.defined()) return;
    const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    const auto* bytes = static_cast<const unsigned char*>(c.data_ptr());
    for (size_t i = 0; i < c.nbytes(); ++i) {
      h ^= bytes[i];
      h *= 1099511628211ull;
    }
  };
  for (size_t i = 0; i < model::kLayers.size(); ++i) {
    mix(net->conv(i)->weight);
    mix(net->conv(i)->bias);
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016" PRIx64, h);
  return text;
}

Int8Calibration measure_int8_calibration(const model::MSINet& net,
                                         const std::vector<torch::Tensor>& images,
                                         double quantile) {
  if (images.empty()) {
    throw Error(ErrorCode::kUsage, "int8 calibration: no images to measure the activations on");
  }
  if (!(quantile > 0 && quantile <= 1)) {
    throw Error(ErrorCode::kUsage,
                "int8 calibration: quantile " + std::to_string(quantile) + " must be in (0, 1]");
  }
  OnednnNet fp32(net);
  RangeObserver observer(quantile);
  const torch::Tensor mean =
      torch::tensor({model::kRgbMean[0], model::kRgbMean[1], model::kRgbMean[2]}, torch::kFloat32)
          .view({1, 3, 1, 1});
  c10::InferenceMode guard;
  for (const torch::Tensor& rgb : images) {
    fp32.forward_raw(rgb.to(torch::kCPU, torch::kFloat32) - mean, &observer);
  }
  Int8Calibration c;
  c.input_range = observer.ranges;
  c.fingerprint = weights_fingerprint(net);
  c.quantile = quantile;
  c.images = static_cast<int>(images.size());
  return c;
}

void check_int8_calibration(const Int8Calibration& calibration, const model::MSINet& net) {
  const std::string these = weights_fingerprint(net);
  if (calibration.fingerprint == these) return;
  const std::string source =
      calibration.source.empty() ? std::string("the int8 calibration") : calibration.source;
  throw Error(ErrorCode::kInput,
              "int8 calibration " + source + " was measured with other weights (fingerprint " +
                  calibration.fingerprint + ", these weights " + these +
                  "): measure one for these weights with `msinet bench --calibrate-int8 DIR "
                  "--weights FILE --int8-calibration OUT`");
}

}  // namespace msinet::runtime
