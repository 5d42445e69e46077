#include "plans.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <memory>

#include "measure.h"
#include "msinet/model/layers.h"
#include "msinet/runtime/inference.h"
#include "msinet/runtime/layer_observer.h"

namespace msinet::bench {
namespace {

runtime::InferenceOptions plan_options(
    const std::string& plan, runtime::Precision precision = runtime::Precision::kFloat32) {
  runtime::InferenceOptions o;
  o.plan = plan;
  o.precision = precision;
  return o;
}

// The maps of `net` on `rgb`, four images at a time.
torch::Tensor maps_of(runtime::InferenceNet& net, const torch::Tensor& rgb) {
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < rgb.size(0); i += 4)
    parts.push_back(to_cpu(net.forward(rgb.narrow(0, i, std::min<int64_t>(4, rgb.size(0) - i)))));
  return torch::cat(parts);
}

AccuracyResult against(const torch::Tensor& maps, const torch::Tensor& reference,
                       const std::string& precision, const std::string& plan) {
  AccuracyResult a;
  a.precision = precision;
  a.plan = plan;
  a.images = static_cast<int>(maps.size(0));
  a.cc_min = 1;
  double sum = 0;
  for (int64_t i = 0; i < maps.size(0); ++i) {
    const double cc = correlation(maps[i], reference[i]);
    sum += cc;
    a.cc_min = std::min(a.cc_min, cc);
  }
  a.cc_mean = sum / static_cast<double>(std::max<int64_t>(1, maps.size(0)));
  a.max_abs_diff = (maps - reference).abs().max().item<double>();
  return a;
}

}  // namespace

std::vector<ForwardResult> time_plans(const model::MSINet& net,
                                      const std::vector<util::Size>& sizes,
                                      const std::vector<int>& batches, int iters, double peak) {
  const torch::Device cpu(torch::kCPU);
  std::vector<std::unique_ptr<runtime::InferenceNet>> nets;
  for (const std::string& name : runtime::cpu_plan_names())
    nets.push_back(std::make_unique<runtime::InferenceNet>(net, cpu, plan_options(name)));
  std::vector<ForwardResult> rows;
  for (const util::Size& s : sizes) {
    for (int b : batches) {
      spdlog::info("bench: every plan at {} batch {}", size_text(s.h, s.w), b);
      const torch::Tensor input = torch::rand({b, 3, s.h, s.w}) * 255;
      std::vector<std::function<void()>> calls;
      for (const auto& n : nets) calls.push_back([&n, &input] { n->forward(input); });
      const std::vector<Sample> samples = time_interleaved(calls, iters);
      for (size_t k = 0; k < nets.size(); ++k) {
        ForwardResult r =
            forward_row(runtime::cpu_plan_names()[k], "fp32", s.h, s.w, b, samples[k], peak);
        r.plan = r.variant;
        rows.push_back(r);
      }
    }
  }
  return rows;
}

std::vector<LayerResult> time_layers(const model::MSINet& net, const std::string& plan,
                                     const util::Size& size, int iters) {
  runtime::InferenceNet n(net, torch::Device(torch::kCPU), plan_options(plan));
  const torch::Tensor input = torch::rand({1, 3, size.h, size.w}) * 255;
  n.forward(input);
  std::vector<std::vector<double>> seconds(model::kLayers.size());
  for (int i = 0; i < std::max(1, iters); ++i) {
    runtime::LayerClock clock;
    n.forward_raw(input, &clock);
    for (size_t l = 0; l < clock.seconds.size() && l < seconds.size(); ++l)
      seconds[l].push_back(clock.seconds[l]);
  }
  const std::vector<double> flops = model::layer_flops(size.h, size.w);
  std::vector<LayerResult> rows;
  for (size_t l = 0; l < model::kLayers.size(); ++l) {
    LayerResult r;
    r.name = model::module_path(model::kLayers[l]);
    r.ms = 1e3 * median(seconds[l]);
    r.gflop = flops[l] / 1e9;
    r.gflops = r.ms > 0 ? r.gflop / (r.ms / 1e3) : 0;
    rows.push_back(r);
  }
  return rows;
}

std::vector<AccuracyResult> compare_paths(const model::MSINet& net, const torch::Device& device,
                                          const torch::Tensor& rgb,
                                          const std::vector<runtime::InferenceOptions>& others) {
  torch::Tensor reference;
  {
    torch::NoGradGuard no_grad;
    model::MSINet module = net;  // the same module; forward is not const
    reference = module->forward(rgb.to(torch::kFloat32)).to(torch::kCPU);
  }
  std::vector<AccuracyResult> rows;
  if (device.is_cpu()) {
    for (const std::string& name : runtime::cpu_plan_names()) {
      runtime::InferenceNet n(net, device, plan_options(name));
      rows.push_back(against(maps_of(n, rgb), reference, "fp32", name));
    }
  }
  const int64_t first_batch = std::min<int64_t>(4, rgb.size(0));
  for (const runtime::InferenceOptions& o : others) {
    runtime::InferenceNet n(net, device, o);
    const torch::Tensor maps = maps_of(n, rgb);
    rows.push_back(against(maps, reference, runtime::precision_name(o.precision),
                           n.plan({first_batch, 3, rgb.size(2), rgb.size(3)})));
  }
  return rows;
}

}  // namespace msinet::bench
