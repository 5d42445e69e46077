// Mixed precision: the names, which device takes which mode, autocast scopes on the CPU (bf16
// autocast runs in software where the CPU has no bf16 instructions), and the loss scaler.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <iostream>
#include <limits>

#include "msinet/runtime/precision.h"
#include "msinet/train/mixed_precision.h"
#include "msinet/util/error.h"

namespace msinet {
namespace {

using train::AutocastScope;
using train::LossScaler;
using train::MixedPrecision;

const torch::Device kCpu(torch::kCPU);
const torch::Device kCuda(torch::kCUDA);

std::string usage_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUsage) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no Error thrown";
  return "";
}

TEST(MixedPrecisionNames, ParseAndNameRoundTrip) {
  for (const char* name : {"off", "bf16", "fp16"}) {
    EXPECT_EQ(train::mixed_precision_name(train::parse_mixed_precision(name)), name);
  }
  EXPECT_EQ(train::parse_mixed_precision("bf16"), MixedPrecision::kBFloat16);
  EXPECT_EQ(train::parse_mixed_precision("fp16"), MixedPrecision::kFloat16);
  EXPECT_EQ(train::parse_mixed_precision("off"), MixedPrecision::kOff);
}

TEST(MixedPrecisionNames, ABadValueIsAUsageErrorNamingItAndTheChoices) {
  for (const char* bad : {"fp32", "BF16", "", "fp8"}) {
    const std::string what = usage_error([&] { train::parse_mixed_precision(bad); });
    EXPECT_NE(what.find("'" + std::string(bad) + "'"), std::string::npos) << what;
    EXPECT_NE(what.find("off, bf16 or fp16"), std::string::npos) << what;
  }
}

TEST(CheckMixedPrecision, OffAlwaysAndCudaTakesBoth) {
  EXPECT_NO_THROW(train::check_mixed_precision(MixedPrecision::kOff, kCpu));
  EXPECT_NO_THROW(train::check_mixed_precision(MixedPrecision::kOff, kCuda));
  EXPECT_NO_THROW(train::check_mixed_precision(MixedPrecision::kBFloat16, kCuda));
  EXPECT_NO_THROW(train::check_mixed_precision(MixedPrecision::kFloat16, kCuda));
}

TEST(CheckMixedPrecision, Fp16IsRefusedOnTheCpu) {
  const std::string what =
      usage_error([] { train::check_mixed_precision(MixedPrecision::kFloat16, kCpu); });
  EXPECT_NE(what.find("fp16 trains on CUDA only"), std::string::npos) << what;
  EXPECT_NE(what.find("--mixed-precision off"), std::string::npos) << what;
}

TEST(CheckMixedPrecision, Bf16OnTheCpuNeedsBf16Instructions) {
  if (runtime::cpu_has_bf16()) {
    std::cout << "this CPU has bf16 instructions: checked that bf16 is accepted\n";
    if (at::hasMKLDNN()) {
      EXPECT_NO_THROW(train::check_mixed_precision(MixedPrecision::kBFloat16, kCpu));
    }
  } else {
    std::cout << "this CPU has no bf16 instructions: checked that bf16 is refused\n";
    const std::string what =
        usage_error([] { train::check_mixed_precision(MixedPrecision::kBFloat16, kCpu); });
    EXPECT_NE(what.find("AVX512_BF16 or AMX"), std::string::npos) << what;
    EXPECT_NE(what.find("--mixed-precision off"), std::string::npos) << what;
  }
}

// ||a - b|| / ||b||
double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a.to(torch::kFloat64) - b.to(torch::kFloat64)).norm() / b.to(torch::kFloat64).norm())
      .item<double>();
}

TEST(AutocastScope, CastsMatmulAndConvToBf16InsideAndNotAfter) {
  torch::manual_seed(1);
  const auto a = torch::randn({4, 5}), b = torch::randn({5, 3});
  const auto x = torch::randn({1, 2, 6, 6}), w = torch::randn({3, 2, 3, 3});
  const auto exact = torch::mm(a, b);
  EXPECT_EQ(exact.scalar_type(), torch::kFloat32);
  {
    AutocastScope scope(MixedPrecision::kBFloat16, kCpu);
    const auto mm = torch::mm(a, b);
    const auto conv = torch::conv2d(x, w);
    EXPECT_EQ(mm.scalar_type(), torch::kBFloat16);
    EXPECT_EQ(conv.scalar_type(), torch::kBFloat16);
    // Both inputs and the output are rounded to bf16 (2^-8 each); sums of mixed sign can
    // lose a few times that relative to the norm: well within 5e-2, yet not exact.
    EXPECT_LT(relative_error(mm, exact), 5e-2);
    EXPECT_GT(relative_error(mm, exact), 0.0);
    // Ops outside the lists keep their type.
    EXPECT_EQ((a + a).scalar_type(), torch::kFloat32);
  }
  EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat32);
  EXPECT_EQ(torch::conv2d(x, w).scalar_type(), torch::kFloat32);
}

TEST(AutocastScope, NestsAndRestoresWhatWasBefore) {
  const auto a = torch::randn({3, 3});
  {
    AutocastScope off(MixedPrecision::kOff, kCpu);
    EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kFloat32);
  }
  {
    AutocastScope outer(MixedPrecision::kBFloat16, kCpu);
    {
      AutocastScope inner(MixedPrecision::kBFloat16, kCpu);
      EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kBFloat16);
    }
    EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kBFloat16) << "inner scope turned it off";
    {
      AutocastScope off(MixedPrecision::kOff, kCpu);
      EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kBFloat16) << "kOff is no scope at all";
    }
  }
  EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kFloat32);
  // A CUDA scope leaves the CPU alone (it needs no GPU to be entered).
  {
    AutocastScope cuda(MixedPrecision::kFloat16, kCuda);
    EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kFloat32);
  }
}

TEST(AutocastScope, Bf16ForwardGivesFloatGradsCloseToFp32) {
  // Non-negative inputs (as images are), second-layer weights and targets, and a smooth
  // activation, so that every gradient is a sum of terms of one sign: no cancellation or ReLU
  // mask flipped by rounding amplifies the rounding, and the bound below holds per element.
  torch::manual_seed(2);
  auto w1 = (torch::randn({4, 2, 3, 3}) * 0.3).requires_grad_();
  auto w2 = (torch::rand({1, 4, 3, 3}) * 0.3).requires_grad_();
  const auto x = torch::rand({2, 2, 12, 12});
  const auto target = torch::rand({2, 1, 8, 8});
  const auto loss_of = [&] {
    const auto y = torch::conv2d(torch::sigmoid(torch::conv2d(x, w1)), w2);
    return (y.to(torch::kFloat32) * target).mean();
  };
  loss_of().backward();
  const auto g1 = w1.grad().clone(), g2 = w2.grad().clone();
  w1.mutable_grad().zero_();
  w2.mutable_grad().zero_();
  torch::Tensor loss;
  {
    AutocastScope scope(MixedPrecision::kBFloat16, kCpu);
    loss = loss_of();
  }
  loss.backward();
  ASSERT_EQ(w1.grad().scalar_type(), torch::kFloat32);
  ASSERT_EQ(w2.grad().scalar_type(), torch::kFloat32);
  // bf16 rounds to 8 significant bits (relative error at most 2^-8 = 3.9e-3) and accumulates in
  // float; each term of a gradient passes through at most five roundings (x, w1, the hidden
  // activation, w2, the output gradient), so the gradients stay within 5 * 3.9e-3 = 2e-2.
  const double e1 = relative_error(w1.grad(), g1), e2 = relative_error(w2.grad(), g2);
  std::cout << "bf16 vs fp32 gradient relative error: " << e1 << ", " << e2 << "\n";
  EXPECT_LT(e1, 2e-2);
  EXPECT_LT(e2, 2e-2);
  EXPECT_GT(e1 + e2, 0.0) << "the bf16 forward computed exactly the fp32 gradients";
}

torch::Tensor param_with_grad(std::vector<float> grad) {
  auto p = torch::zeros({static_cast<int64_t>(grad.size())}).requires_grad_();
  p.mutable_grad() = torch::tensor(grad);
  return p;
}

std::vector<float> values(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

TEST(LossScaler, ScalesAndUnscalesByHand) {
  LossScaler s(true, /*initial_scale=*/8.0, /*growth_interval=*/3);
  EXPECT_TRUE(s.enabled());
  EXPECT_EQ(s.scale(), 8.0);
  EXPECT_FLOAT_EQ(s.scaled(torch::tensor(1.5f)).item<float>(), 12.0f);
  auto p = param_with_grad({2.0f, 4.0f});
  auto q = param_with_grad({-8.0f});
  auto no_grad = torch::zeros({2}).requires_grad_();
  EXPECT_TRUE(s.unscale({p, no_grad, q}));
  EXPECT_EQ(values(p.grad()), (std::vector<float>{0.25f, 0.5f}));
  EXPECT_EQ(values(q.grad()), (std::vector<float>{-1.0f}));
  EXPECT_FALSE(no_grad.grad().defined());
}

TEST(LossScaler, ANonFiniteGradientSkipsAndHalvesTheScale) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (float bad : {inf, -inf, nan}) {
    LossScaler s(true, 8.0, 3);
    auto p = param_with_grad({2.0f, 4.0f});
    auto q = param_with_grad({1.0f, bad});
    EXPECT_FALSE(s.unscale({p, q}));
    s.update(false);
    EXPECT_EQ(s.scale(), 4.0);
  }
  LossScaler s(true, 8.0, 3);
  EXPECT_TRUE(s.unscale({}));
}

TEST(LossScaler, DoublesAfterGrowthIntervalFiniteStepsInARow) {
  LossScaler s(true, 8.0, 3);
  s.update(true);
  s.update(true);
  EXPECT_EQ(s.scale(), 8.0);
  s.update(true);
  EXPECT_EQ(s.scale(), 16.0);
  // A skipped step halves the scale and starts the count again.
  s.update(true);
  s.update(true);
  s.update(false);
  EXPECT_EQ(s.scale(), 8.0);
  s.update(true);
  s.update(true);
  EXPECT_EQ(s.scale(), 8.0);
  s.update(true);
  EXPECT_EQ(s.scale(), 16.0);
  EXPECT_EQ(LossScaler(true).scale(), 65536.0);
}

TEST(LossScaler, DisabledIsTheIdentityAndNeverSkips) {
  LossScaler s(false, 8.0, 3);
  EXPECT_FALSE(s.enabled());
  EXPECT_EQ(s.scale(), 1.0);
  const auto loss = torch::tensor(1.5f);
  EXPECT_TRUE(torch::equal(s.scaled(loss), loss));
  auto p = param_with_grad({2.0f, std::numeric_limits<float>::infinity()});
  EXPECT_TRUE(s.unscale({p}));
  EXPECT_EQ(values(p.grad()), (std::vector<float>{2.0f, std::numeric_limits<float>::infinity()}));
  s.update(false);
  s.update(false);
  EXPECT_EQ(s.scale(), 1.0);
}

}  // namespace
}  // namespace msinet
