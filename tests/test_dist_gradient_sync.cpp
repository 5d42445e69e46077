// Gradient sums over two ranks (threads): equal on both ranks and equal to the sum of the
// gradients each rank's data gives alone, whatever the buckets, accumulation or unused
// parameters.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "msinet/dist/gradient_sync.h"
#include "msinet/dist/group.h"
#include "tools/dist_support.h"

namespace msinet::testing {
namespace {

using dist::GradientSync;
using dist::Group;

/// Two layers and an extra branch that a pass may leave out.
struct NetImpl : torch::nn::Module {
  NetImpl() {
    fc1 = register_module("fc1", torch::nn::Linear(4, 8));
    fc2 = register_module("fc2", torch::nn::Linear(8, 3));
    extra = register_module("extra", torch::nn::Linear(4, 3));
  }
  torch::Tensor forward(const torch::Tensor& x, bool use_extra) {
    auto y = fc2(torch::tanh(fc1(x)));
    return use_extra ? y + extra(x) : y;
  }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, extra{nullptr};
};
TORCH_MODULE(Net);

struct Batch {
  torch::Tensor x, y;
  bool use_extra = false;
};

torch::Tensor loss_of(Net& net, const Batch& b) {
  return torch::mse_loss(net->forward(b.x, b.use_extra), b.y);
}

Net copy_of(const Net& net) {
  Net copy;
  torch::NoGradGuard no_grad;
  const auto from = net->parameters();
  auto to = copy->parameters();
  for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
  return copy;
}

/// Each parameter's gradient after backward passes over `passes` on a fresh copy of `net`.
std::vector<torch::Tensor> gradients(const Net& net, const std::vector<Batch>& passes) {
  Net copy = copy_of(net);
  for (const auto& b : passes) loss_of(copy, b).backward();
  std::vector<torch::Tensor> grads;
  for (const auto& p : copy->parameters()) {
    grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  }
  return grads;
}

class DistGradientSync : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!dist::available()) GTEST_SKIP() << "this build has no distributed training";
    torch::manual_seed(7);
    net_ = Net();
    for (int r = 0; r < 2; ++r) {
      for (int k = 0; k < 2; ++k) {
        data_[r][k] = Batch{torch::randn({5, 4}), torch::randn({5, 3}), false};
      }
    }
  }

  /// Runs `unarmed` then `armed` passes on each rank with a GradientSync of `bucket_bytes`;
  /// checks both ranks' gradients against the sum of the ranks' own gradients.
  void check(const std::vector<int>& unarmed, const std::vector<int>& armed, size_t bucket_bytes) {
    std::vector<std::vector<torch::Tensor>> expected;
    for (int r = 0; r < 2; ++r) {
      std::vector<Batch> passes;
      for (int k : unarmed) passes.push_back(data_[r][k]);
      for (int k : armed) passes.push_back(data_[r][k]);
      expected.push_back(gradients(net_, passes));
    }
    std::vector<std::vector<torch::Tensor>> got(2);
    std::vector<Net> nets{copy_of(net_), copy_of(net_)};
    const int port = free_loopback_port();
    const auto errors = run_threads(2, [&](int r) {
      auto group = Group::join(loopback_config(r, 2, port), torch::kCPU);
      Net& net = nets[static_cast<size_t>(r)];
      GradientSync sync(*group, net->parameters(), bucket_bytes);
      for (int k : unarmed) loss_of(net, data_[r][k]).backward();
      sync.arm();
      for (int k : armed) loss_of(net, data_[r][k]).backward();
      sync.finish();
      for (const auto& p : net->parameters()) got[r].push_back(p.grad().clone());
    });
    for (int r = 0; r < 2; ++r) ASSERT_FALSE(errors[r]) << message_of(errors[r]);
    const auto names = net_->named_parameters().keys();
    for (size_t i = 0; i < names.size(); ++i) {
      const auto sum = expected[0][i] + expected[1][i];
      for (int r = 0; r < 2; ++r) {
        EXPECT_TRUE(torch::allclose(got[r][i], sum, /*rtol=*/1e-5, /*atol=*/1e-6))
            << names[i] << " on rank " << r << ": " << got[r][i] << " vs " << sum;
      }
      EXPECT_TRUE(torch::equal(got[0][i], got[1][i])) << names[i];
    }
  }

  Net net_{nullptr};
  Batch data_[2][2];
};

TEST_F(DistGradientSync, SumsOverRanksInSmallBuckets) {
  data_[0][0].use_extra = data_[1][0].use_extra = true;
  check({}, {0}, /*bucket_bytes=*/100);
}

TEST_F(DistGradientSync, SumsOverRanksInOneBucket) {
  data_[0][0].use_extra = data_[1][0].use_extra = true;
  check({}, {0}, size_t{25} << 20);
}

TEST_F(DistGradientSync, AnUnarmedPassAccumulatesAndIsSummedWithTheArmedOne) {
  data_[0][0].use_extra = data_[1][0].use_extra = true;
  check({0}, {1}, /*bucket_bytes=*/64);
}

TEST_F(DistGradientSync, AParameterWithoutGradientOnOneRankTakesTheOthers) {
  data_[0][0].use_extra = true;  // rank 1 leaves the extra branch out
  check({}, {0}, /*bucket_bytes=*/64);
}

TEST_F(DistGradientSync, AParameterWithoutGradientOnAnyRankGetsZeros) {
  check({}, {0}, /*bucket_bytes=*/64);
}

TEST_F(DistGradientSync, SeveralArmedRoundsInARow) {
  // Two optimisation steps' worth: the second arm() starts from the first's summed grads.
  std::vector<std::vector<torch::Tensor>> got(2);
  std::vector<Net> nets{copy_of(net_), copy_of(net_)};
  const int port = free_loopback_port();
  const auto errors = run_threads(2, [&](int r) {
    auto group = Group::join(loopback_config(r, 2, port), torch::kCPU);
    Net& net = nets[static_cast<size_t>(r)];
    GradientSync sync(*group, net->parameters(), /*bucket_bytes=*/64);
    for (int k = 0; k < 2; ++k) {
      net->zero_grad();
      sync.arm();
      loss_of(net, data_[r][k]).backward();
      sync.finish();
    }
    for (const auto& p : net->parameters()) got[r].push_back(p.grad().clone());
  });
  for (int r = 0; r < 2; ++r) ASSERT_FALSE(errors[r]) << message_of(errors[r]);
  const auto a = gradients(net_, {data_[0][1]});
  const auto b = gradients(net_, {data_[1][1]});
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::allclose(got[0][i], a[i] + b[i], 1e-5, 1e-6)) << i;
    EXPECT_TRUE(torch::equal(got[0][i], got[1][i])) << i;
  }
}

TEST_F(DistGradientSync, MixedDtypesGoToTheirOwnBuckets) {
  const torch::Tensor a0 = torch::randn({3, 2});
  const torch::Tensor b0 = torch::randn({5}, torch::kFloat64);
  std::vector<std::vector<torch::Tensor>> got(2);
  const int port = free_loopback_port();
  const auto errors = run_threads(2, [&](int r) {
    auto group = Group::join(loopback_config(r, 2, port), torch::kCPU);
    auto a = a0.clone().requires_grad_();
    auto b = b0.clone().requires_grad_();
    GradientSync sync(*group, {a, b}, /*bucket_bytes=*/16);
    sync.arm();
    ((a * (r + 1)).sum() + (b * b).sum().to(torch::kFloat32) * (r + 1)).backward();
    sync.finish();
    got[r] = {a.grad().clone(), b.grad().clone()};
  });
  for (int r = 0; r < 2; ++r) {
    ASSERT_FALSE(errors[r]) << message_of(errors[r]);
    EXPECT_EQ(got[r][1].scalar_type(), torch::kFloat64);
    EXPECT_TRUE(torch::allclose(got[r][0], torch::full({3, 2}, 3.0)));
    EXPECT_TRUE(torch::allclose(got[r][1], b0 * 2 * 3, /*rtol=*/1e-5, /*atol=*/1e-6));
  }
}

}  // namespace
}  // namespace msinet::testing
