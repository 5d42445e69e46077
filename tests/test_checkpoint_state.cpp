// Native checkpoint bytes: round trip, strict names and shapes, unreadable bytes.

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/serialize/output-archive.h>
#include <torch/torch.h>

#include "msinet/checkpoint/state.h"
#include "msinet/util/error.h"

namespace msinet::model {
using namespace msinet::checkpoint;  // NOLINT(google-build-using-namespace)
namespace {

class ModelCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

std::string load_error(MSINet& net, const std::string& bytes) {
  try {
    deserialize_state(net, bytes, "runs/last.ckpt");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kWeights);
    return e.what();
  }
  ADD_FAILURE() << "no error for " << bytes.size() << " bytes";
  return "";
}

void expect_contains(const std::string& text, const std::string& fragment) {
  EXPECT_NE(text.find(fragment), std::string::npos) << "'" << fragment << "' not in:\n" << text;
}

std::string archive_bytes(torch::serialize::OutputArchive& archive) {
  std::string bytes;
  archive.save_to([&bytes](const void* data, size_t size) -> size_t {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  return bytes;
}

TEST_F(ModelCheckpointTest, RoundTripRestoresParametersAndForward) {
  MSINet source;
  {
    torch::NoGradGuard no_grad;
    for (auto& p : source->parameters()) p.add_(torch::randn_like(p) * 0.01);
  }
  const std::string bytes = serialize_state(source);
  MSINet target;
  deserialize_state(target, bytes, "last.ckpt");
  auto sp = source->named_parameters();
  for (const auto& item : target->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), sp[item.key()])) << item.key();
  }
  torch::NoGradGuard no_grad;
  torch::Tensor rgb = torch::rand({1, 3, 16, 24}) * 255;
  EXPECT_TRUE(torch::equal(source->forward(rgb), target->forward(rgb)));
}

TEST_F(ModelCheckpointTest, TruncatedOrGarbageBytesAreAWeightsError) {
  MSINet net;
  const std::string bytes = serialize_state(net);
  ASSERT_GT(bytes.size(), 1000u);
  torch::Tensor before = net->decoder->convs[3]->weight.clone();
  for (size_t size : {size_t{0}, size_t{1}, size_t{64}, size_t{4096}, bytes.size() / 2,
                      bytes.size() - 100, bytes.size() - 1}) {
    const std::string message = load_error(net, bytes.substr(0, size));
    expect_contains(message, "cannot load checkpoint 'runs/last.ckpt'");
    expect_contains(message, "not a readable msinet checkpoint");
  }
  load_error(net, std::string(5000, 'x'));
  std::string corrupt = bytes;
  for (size_t i = 0; i < 64; ++i) corrupt[corrupt.size() - 1 - i] ^= 0x5a;
  load_error(net, corrupt);
  EXPECT_TRUE(torch::equal(net->decoder->convs[3]->weight, before));
}

TEST_F(ModelCheckpointTest, MissingUnknownAndMisShapedEntriesAreListed) {
  MSINet net;
  torch::serialize::OutputArchive archive;
  for (const auto& item : net->named_parameters()) {
    if (item.key() == "decoder.conv4.bias") continue;
    if (item.key() == "decoder.conv4.weight") {
      archive.write(item.key(), torch::zeros({2, 32, 3, 3}));
      continue;
    }
    archive.write(item.key(), item.value().detach());
  }
  archive.write("decoder.conv5.weight", torch::zeros({1, 32, 3, 3}));
  torch::Tensor before = net->encoder->convs[0]->weight.clone();
  {
    torch::NoGradGuard no_grad;
    net->encoder->convs[0]->weight.add_(1.0);
    before = net->encoder->convs[0]->weight.clone();
  }
  const std::string message = load_error(net, archive_bytes(archive));
  expect_contains(message, "runs/last.ckpt");
  expect_contains(message, "3 problems");
  expect_contains(message, "unknown entry 'decoder.conv5.weight'");
  expect_contains(message, "missing entry 'decoder.conv4.bias', expected shape [1]");
  expect_contains(message,
                  "wrong shape for 'decoder.conv4.weight': [2, 32, 3, 3] in the checkpoint, "
                  "expected [1, 32, 3, 3]");
  EXPECT_TRUE(torch::equal(net->encoder->convs[0]->weight, before));
}

TEST_F(ModelCheckpointTest, NonFiniteWeightsAreRefusedAndNothingIsLoaded) {
  for (const float bad : {std::nanf(""), std::numeric_limits<float>::infinity()}) {
    MSINet source;
    {
      torch::NoGradGuard no_grad;
      auto params = source->named_parameters();
      params["decoder.conv1.weight"].view(-1)[5] = bad;
      params["decoder.conv1.weight"].view(-1)[9] = bad;
    }
    MSINet target;
    const torch::Tensor before = target->named_parameters()["encoder.conv1_1.weight"].clone();
    const std::string message = load_error(target, serialize_state(source));
    expect_contains(message, "runs/last.ckpt");
    expect_contains(message, "entry 'decoder.conv1.weight' holds 2 non-finite value(s)");
    EXPECT_TRUE(torch::equal(target->named_parameters()["encoder.conv1_1.weight"], before));
  }
}

}  // namespace
}  // namespace msinet::model
