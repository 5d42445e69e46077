#pragma once
// Mixed-precision training: autocast of the forward pass to bf16 (CPUs with AVX512_BF16 or AMX,
// and CUDA) or fp16 (CUDA, with dynamic loss scaling); the weights and Adam stay float32.

#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace msinet::train {

/// Precision of the forward pass in training.
enum class MixedPrecision { kOff, kBFloat16, kFloat16 };

/// Parses "off", "bf16" or "fp16"; throws Error(kUsage) naming the value otherwise.
MixedPrecision parse_mixed_precision(const std::string& name);

/// "off", "bf16" or "fp16".
std::string mixed_precision_name(MixedPrecision mode);

/// Throws Error(kUsage), saying why and what to use, when `mode` cannot train on `device`
/// (bf16 on a CPU without AVX512_BF16 or AMX; fp16 anywhere but CUDA).
void check_mixed_precision(MixedPrecision mode, const torch::Device& device);

/// LibTorch's autocast on `device` for the lifetime of the scope, then as it was before; does
/// nothing for kOff.
class AutocastScope {
 public:
  AutocastScope(MixedPrecision mode, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Dynamic loss scaling, as torch.cuda.amp.GradScaler does it: the loss is multiplied by the
/// scale before backward; the gradients are divided by it before the step, which is skipped
/// when any of them is not finite; the scale halves after such a step and doubles after
/// `growth_interval` finite steps in a row. A disabled scaler is the identity and never skips.
class LossScaler {
 public:
  explicit LossScaler(bool enabled, double initial_scale = 65536.0, int growth_interval = 2000);

  bool enabled() const { return enabled_; }
  /// The scale now (1 when disabled).
  double scale() const { return enabled_ ? scale_ : 1.0; }
  /// `loss` times the scale.
  torch::Tensor scaled(const torch::Tensor& loss) const;
  /// Divides every defined gradient of `parameters` by the scale; false when any value of them is
  /// not finite (then the step must be skipped).
  bool unscale(const std::vector<torch::Tensor>& parameters) const;
  /// Adjusts the scale after a step whose gradients were `finite` or not.
  void update(bool finite);

 private:
  bool enabled_;
  double scale_;
  int growth_interval_;
  int good_steps_ = 0;
};

}  // namespace msinet::train
