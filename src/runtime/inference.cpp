#include "msinet/runtime/inference.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "executor.h"
#include "msinet/model/layers.h"
#include "msinet/model/ops.h"
#include "msinet/runtime/int8_calibration.h"
#include "msinet/runtime/onednn_net.h"
#include "msinet/util/error.h"

namespace msinet::runtime {
namespace {

// The "onednn" plan; int8 with a calibration.
class OnednnExecutor : public Executor {
 public:
  OnednnExecutor(const model::MSINet& net, const Int8Calibration* int8)
      : net_(net, int8), int8_(int8 != nullptr) {}
  torch::Tensor run(const torch::Tensor& x, LayerObserver* observer) override {
    return net_.forward_raw(x, observer);
  }
  std::string describe() const override {
    return int8_ ? "oneDNN int8 convolutions, NHWC, fused bias+ReLU"
                 : "oneDNN primitives, NHWC, fused bias+ReLU";
  }
  std::string explain() const override { return net_.explain(); }

 private:
  OnednnNet net_;
  bool int8_;
};

// The switches of a named plan.
InferenceOptions plan_options(const InferenceOptions& base, const std::string& plan) {
  InferenceOptions o = base;
  o.plan = plan;
  const bool nchw = plan == "nchw";
  o.channels_last = !nchw;
  o.prepack = !nchw;
  o.nhwc_kernels = !nchw;
  return o;
}

// The plans `auto` chooses between for this device and precision.
std::vector<std::string> candidate_plans(const torch::Device& device, Precision precision) {
  if (!device.is_cpu()) return {"channels-last"};
  if (precision == Precision::kInt8) return {"onednn"};
  if (precision != Precision::kFloat32) return {"nchw", "channels-last"};
  return cpu_plan_names();
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

InferenceOptions plain_options() {
  InferenceOptions o = plan_options({}, "nchw");
  return o;
}

const std::vector<std::string>& cpu_plan_names() {
  static const std::vector<std::string> names = {"nchw", "channels-last", "onednn", "winograd"};
  return names;
}

struct InferenceNet::Impl {
  torch::Device device{torch::kCPU};
  InferenceOptions options;
  model::MSINet weights;  // a copy, for the plans made after measuring
  torch::Tensor mean;     // [1,3,1,1] float32 on the device
  std::map<std::string, std::unique_ptr<Executor>> plans;  // made so far, by name
  std::map<std::vector<int64_t>, std::string> chosen;      // input shape -> plan
  std::string last;                                        // the plan of the last pass

  Executor& executor(const std::string& name) {
    auto& e = plans[name];
    if (!e && name == "onednn") {
      const bool int8 = options.precision == Precision::kInt8;
      e = std::make_unique<OnednnExecutor>(weights,
                                           int8 ? options.int8_calibration.get() : nullptr);
    }
    if (!e) {
      const InferenceOptions o = name.empty() ? options : plan_options(options, name);
      e = make_layer_graph(weights, device, o,
                           name == "winograd" ? ConvKernels::kWinograd : ConvKernels::kLibTorch);
    }
    return *e;
  }

  // Times each candidate on `x` (one warm-up, then the best of two passes).
  PlanChoice measure(const torch::Tensor& x) {
    PlanChoice choice;
    double best = 0;
    for (const std::string& name : candidate_plans(device, options.precision)) {
      Executor& e = executor(name);
      e.run(x, nullptr);
      double fastest = 0;
      for (int i = 0; i < 2; ++i) {
        const auto start = std::chrono::steady_clock::now();
        torch::Tensor y = e.run(x, nullptr);
        if (device.is_cuda()) y = y.cpu();
        const double s = seconds_since(start);
        fastest = i == 0 ? s : std::min(fastest, s);
      }
      choice.ms[name] = 1e3 * fastest;
      if (choice.plan.empty() || fastest < best) {
        choice.plan = name;
        best = fastest;
      }
    }
    return choice;
  }

  const std::string& plan_for(const torch::Tensor& x) {
    const std::vector<int64_t> shape = x.sizes().vec();
    auto it = chosen.find(shape);
    if (it != chosen.end()) return it->second;
    std::string name = options.plan;
    if (name == "auto") {
      const auto candidates = candidate_plans(device, options.precision);
      if (candidates.size() == 1) {
        name = candidates.front();
      } else {
        const std::string key = plan_key(precision_name(options.precision), shape);
        const PlanChoice c = options.plan_store
                                 ? options.plan_store->choose(key, [&] { return measure(x); })
                                 : measure(x);
        name = c.plan;
        // A stored plan this build no longer has is measured again.
        if (std::find(candidates.begin(), candidates.end(), name) == candidates.end())
          name = measure(x).plan;
      }
      // Drop what was made only to be measured.
      for (auto p = plans.begin(); p != plans.end();) {
        const bool used =
            p->first == name || std::any_of(chosen.begin(), chosen.end(),
                                            [&](const auto& c) { return c.second == p->first; });
        p = used ? std::next(p) : plans.erase(p);
      }
    }
    return chosen.emplace(shape, name).first->second;
  }
};

InferenceNet::InferenceNet(const model::MSINet& net, const torch::Device& device,
                           const InferenceOptions& options)
    : impl_(std::make_unique<Impl>()) {
  if (options.plan == "winograd" && options.precision != Precision::kFloat32) {
    throw Error(ErrorCode::kUsage, "runtime plan 'winograd' computes in fp32; with " +
                                       precision_name(options.precision) +
                                       " use auto, nchw or channels-last");
  }
  check_precision(options.precision, device);
  const std::vector<std::string>& names = cpu_plan_names();
  if (!options.plan.empty() && options.plan != "auto" &&
      std::find(names.begin(), names.end(), options.plan) == names.end()) {
    std::string known;
    for (const std::string& n : names) known += ", " + n;
    throw Error(ErrorCode::kUsage, "unknown runtime plan '" + options.plan + "': use auto" + known);
  }
  if (!device.is_cpu() && options.plan != "auto" && options.plan != "nchw" &&
      options.plan != "channels-last" && !options.plan.empty()) {
    throw Error(ErrorCode::kUsage, "runtime plan '" + options.plan + "' runs on the CPU only; on " +
                                       device.str() + " use auto, nchw or channels-last");
  }
  if (options.precision == Precision::kInt8) {
    if (!options.int8_calibration) {
      throw Error(ErrorCode::kUsage,
                  "precision int8 needs an int8 calibration (--int8-calibration FILE): measure "
                  "one for these weights with `msinet bench --calibrate-int8 DIR --weights FILE "
                  "--int8-calibration FILE`");
    }
    check_int8_calibration(*options.int8_calibration, net);
    if (options.plan != "auto" && options.plan != "onednn") {
      throw Error(ErrorCode::kUsage, "precision int8 runs on the onednn plan only, not '" +
                                         options.plan + "': use --runtime-plan auto or onednn");
    }
  }
  Impl& m = *impl_;
  m.device = device;
  m.options = options;
  {
    torch::NoGradGuard no_grad;
    const auto source = net->named_parameters();
    for (auto& p : m.weights->named_parameters()) {
      p.value().set_data(source[p.key()].detach().clone());
    }
  }
  m.mean =
      torch::tensor({model::kRgbMean[0], model::kRgbMean[1], model::kRgbMean[2]}, torch::kFloat32)
          .view({1, 3, 1, 1})
          .to(device);
  // A fixed plan is made now, so that its errors and costs come at once.
  if (options.plan != "auto") m.executor(options.plan);
}

InferenceNet::~InferenceNet() = default;

// ref: saliency/model.py forward
torch::Tensor InferenceNet::forward_raw(const torch::Tensor& rgb, LayerObserver* observer) {
  model::check_rgb_input(rgb);
  Impl& m = *impl_;
  c10::InferenceMode guard;
  const torch::Tensor x = rgb.to(m.device, torch::kFloat32, /*non_blocking=*/true) - m.mean;
  m.last = m.plan_for(x);
  return m.executor(m.last).run(x, observer);
}

torch::Tensor InferenceNet::forward(const torch::Tensor& rgb) {
  torch::Tensor raw = forward_raw(rgb);
  c10::InferenceMode guard;
  return model::normalize_maps(raw.to(torch::kFloat32)).contiguous();
}

std::string InferenceNet::plan(const std::vector<int64_t>& shape) {
  if (shape.size() != 4) throw Error(ErrorCode::kUsage, "plan: expected [N, 3, H, W]");
  c10::InferenceMode guard;
  const torch::Tensor x =
      torch::zeros(shape, torch::TensorOptions().device(impl_->device)) - impl_->mean;
  return impl_->plan_for(x);
}

const torch::Device& InferenceNet::device() const { return impl_->device; }

const InferenceOptions& InferenceNet::options() const { return impl_->options; }

std::string InferenceNet::describe() const {
  const Impl& m = *impl_;
  std::string s = m.device.str() + ", " + precision_name(m.options.precision);
  if (m.options.plan == "auto" && m.last.empty())
    return s + ", plan auto (measured per input shape)";
  const std::string name = m.last.empty() ? m.options.plan : m.last;
  s += ", plan " + (name.empty() ? std::string("custom") : name);
  if (m.options.plan == "auto") s += " (auto)";
  const auto it = m.plans.find(name);
  if (it != m.plans.end()) s += ": " + it->second->describe();
  return s;
}

std::string InferenceNet::explain() const {
  const Impl& m = *impl_;
  std::string s = "runs on " + m.device.str() + " in " + precision_name(m.options.precision);
  if (m.device.is_cpu()) s += " with " + std::to_string(at::get_num_threads()) + " CPU thread(s)";
  if (m.options.plan == "auto") {
    s += "; plan auto: the fastest of";
    for (const std::string& n : candidate_plans(m.device, m.options.precision)) s += " " + n;
    s += ", measured once per input shape on this machine";
    for (const auto& [shape, name] : m.chosen) s += "; " + shape_text(shape) + ": " + name;
  } else {
    s += "; plan " + (m.options.plan.empty() ? std::string("custom") : m.options.plan);
  }
  const std::string name = m.last.empty() ? m.options.plan : m.last;
  const auto it = m.plans.find(name);
  if (it != m.plans.end()) s += "; " + it->second->explain();
  return s;
}

}  // namespace msinet::runtime
