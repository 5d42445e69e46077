// The inference runtime against the training module (MSINet::forward) for every precision and
// layout this machine supports, at three input sizes: two dataset sizes (SALICON 240x320,
// CAT2000 216x384) and one that no dataset uses (56x40, whose 7x5 features are odd both ways).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "msinet/model/msinet.h"
#include "msinet/runtime/inference.h"
#include "msinet/runtime/precision.h"

namespace msinet::runtime {
namespace {

struct Layout {
  const char* name;
  InferenceOptions options;
};

std::vector<Layout> layouts() {
  std::vector<Layout> out;
  for (bool channels_last : {false, true}) {
    for (bool prepack : {false, true}) {
      for (bool kernels : {false, true}) {
        if (kernels && !channels_last) continue;  // the NHWC kernels need channels-last
        InferenceOptions o;
        o.plan = "";  // exactly these switches
        o.channels_last = channels_last;
        o.prepack = prepack;
        o.nhwc_kernels = kernels;
        out.push_back(
            {channels_last ? (kernels ? "channels-last + NHWC kernels" : "channels-last") : "NCHW",
             o});
      }
    }
  }
  return out;
}

double correlation(const torch::Tensor& a, const torch::Tensor& b) {
  torch::Tensor x = a.flatten().to(torch::kFloat64), y = b.flatten().to(torch::kFloat64);
  x = x - x.mean();
  y = y - y.mean();
  return (x * y).sum().item<double>() / (x.norm() * y.norm()).item<double>();
}

// Random biases too, so that every bias reaches the output.
model::MSINet random_net() {
  torch::manual_seed(3);
  model::MSINet net;
  torch::NoGradGuard no_grad;
  for (auto& item : net->named_parameters()) {
    const std::string& k = item.key();
    if (k.size() > 5 && k.substr(k.size() - 5) == ".bias") item.value().uniform_(-0.1, 0.1);
  }
  net->eval();
  return net;
}

void expect_matches(const model::MSINet& net, const torch::Device& device, int64_t h, int64_t w) {
  torch::manual_seed(h * 1000 + w);
  const torch::Tensor rgb = torch::rand({2, 3, h, w}) * 255;
  torch::Tensor reference;
  {
    torch::NoGradGuard no_grad;
    model::MSINet on_device = net;
    reference = on_device->forward(rgb.to(device)).to(torch::kCPU);
  }
  ASSERT_GT((reference.amax({1, 2, 3}) - reference.amin({1, 2, 3})).min().item<double>(), 0.5)
      << "the maps must vary for the comparison to mean anything";
  int compared = 0;
  for (Precision p : {Precision::kFloat32, Precision::kBFloat16, Precision::kFloat16}) {
    const std::string why = precision_unsupported_reason(p, device);
    if (!why.empty()) {
      std::cout << "[  NOTE    ] " << precision_name(p) << " not compared on " << device.str()
                << ": " << why << "\n";
      continue;
    }
    for (const Layout& layout : layouts()) {
      InferenceOptions o = layout.options;
      o.precision = p;
      InferenceNet runtime(net, device, o);
      SCOPED_TRACE(runtime.describe() + " at " + std::to_string(h) + "x" + std::to_string(w));
      const torch::Tensor maps = runtime.forward(rgb).to(torch::kCPU);
      ASSERT_EQ(maps.sizes(), reference.sizes());
      if (p == Precision::kFloat32) {
        EXPECT_LT((maps - reference).abs().max().item<double>(), 1e-5);
      } else {
        for (int64_t i = 0; i < maps.size(0); ++i)
          EXPECT_GT(correlation(maps[i], reference[i]), 0.99);
        EXPECT_LT((maps - reference).abs().max().item<double>(), 0.1);
      }
      ++compared;
    }
  }
  EXPECT_GE(compared, static_cast<int>(layouts().size()));
}

TEST(RuntimeMatchesTraining, EveryPrecisionAndLayoutAtThreeSizesOnTheCpu) {
  torch::set_num_threads(2);
  const model::MSINet net = random_net();
  const torch::Device cpu(torch::kCPU);
  if (!cpu_has_bf16()) {
    std::cout << "[  NOTE    ] this CPU has no bfloat16 instructions: bf16 is not compared here\n";
  }
  for (auto [h, w] : {std::pair<int64_t, int64_t>{56, 40}, {240, 320}, {216, 384}}) {
    expect_matches(net, cpu, h, w);
  }
}

TEST(RuntimeMatchesTraining, EveryPrecisionAndLayoutAtThreeSizesOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device here: nothing compared";
  model::MSINet net = random_net();
  net->to(torch::Device(torch::kCUDA, 0));
  for (auto [h, w] : {std::pair<int64_t, int64_t>{56, 40}, {240, 320}, {216, 384}}) {
    expect_matches(net, torch::Device(torch::kCUDA, 0), h, w);
  }
}

}  // namespace
}  // namespace msinet::runtime
