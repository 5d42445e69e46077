#include "msinet/train/mixed_precision.h"

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>

#include "msinet/runtime/precision.h"
#include "msinet/util/error.h"

namespace msinet::train {

namespace {

// The one place that knows which autocast API this LibTorch has: per device type since 2.4
// (the CPU- and CUDA-specific names are deprecated there), per name before.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocast_on(c10::DeviceType type) { return at::autocast::is_autocast_enabled(type); }
void set_autocast_on(c10::DeviceType type, bool on) {
  at::autocast::set_autocast_enabled(type, on);
}
at::ScalarType autocast_dtype(c10::DeviceType type) {
  return at::autocast::get_autocast_dtype(type);
}
void set_autocast_dtype(c10::DeviceType type, at::ScalarType dtype) {
  at::autocast::set_autocast_dtype(type, dtype);
}
#else
bool autocast_on(c10::DeviceType type) {
  return type == c10::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void set_autocast_on(c10::DeviceType type, bool on) {
  if (type == c10::kCUDA) {
    at::autocast::set_enabled(on);
  } else {
    at::autocast::set_cpu_enabled(on);
  }
}
at::ScalarType autocast_dtype(c10::DeviceType type) {
  return type == c10::kCUDA ? at::autocast::get_autocast_gpu_dtype()
                            : at::autocast::get_autocast_cpu_dtype();
}
void set_autocast_dtype(c10::DeviceType type, at::ScalarType dtype) {
  if (type == c10::kCUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
}
#endif

}  // namespace

MixedPrecision parse_mixed_precision(const std::string& name) {
  if (name == "off") return MixedPrecision::kOff;
  if (name == "bf16") return MixedPrecision::kBFloat16;
  if (name == "fp16") return MixedPrecision::kFloat16;
  throw Error(ErrorCode::kUsage, "unknown --mixed-precision '" + name + "': use off, bf16 or fp16");
}

std::string mixed_precision_name(MixedPrecision mode) {
  switch (mode) {
    case MixedPrecision::kOff:
      return "off";
    case MixedPrecision::kBFloat16:
      return "bf16";
    case MixedPrecision::kFloat16:
      return "fp16";
  }
  return "?";
}

void check_mixed_precision(MixedPrecision mode, const torch::Device& device) {
  if (mode == MixedPrecision::kOff || device.is_cuda()) return;
  const std::string name = mixed_precision_name(mode);
  if (!device.is_cpu()) {
    throw Error(ErrorCode::kUsage, "--mixed-precision " + name + " is not supported on " +
                                       device.str() + ": use --mixed-precision off");
  }
  if (mode == MixedPrecision::kFloat16) {
    throw Error(ErrorCode::kUsage,
                "--mixed-precision fp16 trains on CUDA only: on the CPU use bf16 where the CPU "
                "has AVX512_BF16 or AMX, or train in fp32 (--mixed-precision off)");
  }
  if (!runtime::cpu_has_bf16()) {
    throw Error(ErrorCode::kUsage,
                "--mixed-precision bf16 needs a CPU with AVX512_BF16 or AMX (this one has "
                "neither): train in fp32 (--mixed-precision off) or on a GPU");
  }
  if (!at::hasMKLDNN()) {
    throw Error(ErrorCode::kUsage,
                "--mixed-precision bf16 on the CPU needs LibTorch built with oneDNN (MKL-DNN), "
                "which this build lacks: train in fp32 (--mixed-precision off) or on a GPU");
  }
}

struct AutocastScope::State {
  c10::DeviceType type;
  bool was_on;
  at::ScalarType was_dtype;
};

// ref: torch/amp/autocast_mode.py autocast.__enter__ / __exit__
AutocastScope::AutocastScope(MixedPrecision mode, const torch::Device& device) {
  if (mode == MixedPrecision::kOff) return;
  if (!device.is_cpu() && !device.is_cuda()) {
    throw Error(ErrorCode::kUsage, "--mixed-precision " + mixed_precision_name(mode) +
                                       " is not supported on " + device.str() +
                                       ": use --mixed-precision off");
  }
  const c10::DeviceType type = device.type();
  state_ = std::make_unique<State>(State{type, autocast_on(type), autocast_dtype(type)});
  set_autocast_on(type, true);
  set_autocast_dtype(type, mode == MixedPrecision::kFloat16 ? at::kHalf : at::kBFloat16);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!state_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast_on(state_->type, state_->was_on);
  set_autocast_dtype(state_->type, state_->was_dtype);
}

LossScaler::LossScaler(bool enabled, double initial_scale, int growth_interval)
    : enabled_(enabled), scale_(initial_scale), growth_interval_(growth_interval) {
  if (!(initial_scale > 0) || !std::isfinite(initial_scale) || growth_interval < 1) {
    throw Error(ErrorCode::kInternal,
                "LossScaler: the scale must be positive and finite and "
                "the growth interval at least 1");
  }
}

torch::Tensor LossScaler::scaled(const torch::Tensor& loss) const {
  return enabled_ ? loss * scale_ : loss;
}

bool LossScaler::unscale(const std::vector<torch::Tensor>& parameters) const {
  if (!enabled_) return true;
  at::NoGradGuard no_grad;
  const double inverse = 1.0 / scale_;
  std::vector<torch::Tensor> finite;
  for (const auto& p : parameters) {
    torch::Tensor g = p.grad();
    if (!g.defined()) continue;
    g.mul_(inverse);
    finite.push_back(g.isfinite().all());
  }
  return finite.empty() || torch::stack(finite).all().item<bool>();
}

// ref: torch/amp/grad_scaler.py GradScaler.update (backoff 0.5, growth 2)
void LossScaler::update(bool finite) {
  if (!enabled_) return;
  if (!finite) {
    scale_ *= 0.5;
    good_steps_ = 0;
  } else if (++good_steps_ >= growth_interval_) {
    scale_ *= 2.0;
    good_steps_ = 0;
  }
}

}  // namespace msinet::train
