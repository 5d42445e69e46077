// TensorFlow name table, strict TF / VGG16 weight import, export, and the HWIO <-> OIHW layout.

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "msinet/checkpoint/tf_names.h"
#include "msinet/util/error.h"

namespace msinet::model {
using namespace msinet::checkpoint;  // NOLINT(google-build-using-namespace)
namespace {

class ModelWeightsTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

weights::FloatTensor counting_tensor(const std::vector<int64_t>& shape, float offset = 0.0f) {
  weights::FloatTensor t;
  t.shape = shape;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  for (int64_t i = 0; i < n; ++i) t.values.push_back(offset + 0.001f * static_cast<float>(i));
  return t;
}

bool same_parameters(const MSINet& a, const MSINet& b) {
  auto pa = a->named_parameters();
  auto pb = b->named_parameters();
  for (const auto& item : pa) {
    if (!torch::equal(item.value(), pb[item.key()])) return false;
  }
  return true;
}

std::string load_error(MSINet& net, const weights::NamedTensors& tensors, bool vgg) {
  try {
    if (vgg) {
      load_vgg16_weights(net, tensors, "vgg16_hybrid.ckpt");
    } else {
      load_tf_weights(net, tensors, "model_salicon_cpu.pb");
    }
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kWeights);
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

void expect_contains(const std::string& text, const std::string& fragment) {
  EXPECT_NE(text.find(fragment), std::string::npos) << "'" << fragment << "' not in:\n" << text;
}

TEST_F(ModelWeightsTest, NameTableCoversEveryParameterOnce) {
  const auto table = tf_name_table();
  ASSERT_EQ(table.size(), 46u);
  MSINet net;
  std::set<std::string> params;
  for (const auto& item : net->named_parameters()) params.insert(item.key());
  std::set<std::string> tf_names, torch_names;
  for (const auto& [tf, torch_name] : table) {
    tf_names.insert(tf);
    torch_names.insert(torch_name);
  }
  EXPECT_EQ(tf_names.size(), 46u);
  EXPECT_EQ(torch_names, params);
  const std::set<std::pair<std::string, std::string>> entries(table.begin(), table.end());
  EXPECT_EQ(entries.count({"conv1/conv1_1/kernel", "encoder.conv1_1.weight"}), 1u);
  EXPECT_EQ(entries.count({"conv5/conv5_3/bias", "encoder.conv5_3.bias"}), 1u);
  EXPECT_EQ(entries.count({"aspp/conv1_5/bias", "aspp.conv1_5.bias"}), 1u);
  EXPECT_EQ(entries.count({"aspp/conv2/kernel", "aspp.conv2.weight"}), 1u);
  EXPECT_EQ(entries.count({"decoder/conv4/kernel", "decoder.conv4.weight"}), 1u);
}

TEST_F(ModelWeightsTest, ExportUsesTensorFlowShapes) {
  MSINet net;
  const weights::NamedTensors exported = export_tf_weights(net);
  ASSERT_EQ(exported.size(), 46u);
  EXPECT_EQ(exported.at("conv1/conv1_1/kernel").shape, (std::vector<int64_t>{3, 3, 3, 64}));
  EXPECT_EQ(exported.at("conv5/conv5_1/kernel").shape, (std::vector<int64_t>{3, 3, 512, 512}));
  EXPECT_EQ(exported.at("aspp/conv1_2/kernel").shape, (std::vector<int64_t>{3, 3, 1280, 256}));
  EXPECT_EQ(exported.at("aspp/conv1_5/kernel").shape, (std::vector<int64_t>{1, 1, 1280, 256}));
  EXPECT_EQ(exported.at("aspp/conv2/kernel").shape, (std::vector<int64_t>{1, 1, 1280, 256}));
  EXPECT_EQ(exported.at("decoder/conv4/kernel").shape, (std::vector<int64_t>{3, 3, 32, 1}));
  EXPECT_EQ(exported.at("decoder/conv4/bias").shape, (std::vector<int64_t>{1}));
  int64_t total = 0;
  for (const auto& [name, t] : exported) total += static_cast<int64_t>(t.values.size());
  EXPECT_EQ(total, 24934209);
}

TEST_F(ModelWeightsTest, KernelsArePermutedFromHwioToOihw) {
  MSINet net;
  weights::NamedTensors tensors = export_tf_weights(net);
  // HWIO [3, 3, 32, 1]: element (h, w, i, o) at flat index ((h * 3 + w) * 32 + i) * 1 + o.
  tensors["decoder/conv4/kernel"] = counting_tensor({3, 3, 32, 1});
  // HWIO [3, 3, 3, 64]: (h, w, i, o) at ((h * 3 + w) * 3 + i) * 64 + o.
  tensors["conv1/conv1_1/kernel"] = counting_tensor({3, 3, 3, 64});
  tensors["decoder/conv4/bias"] = counting_tensor({1}, 0.5f);
  load_tf_weights(net, tensors, "test");
  auto k4 = net->decoder->convs[3]->weight.accessor<float, 4>();
  auto k1 = net->encoder->convs[0]->weight.accessor<float, 4>();
  for (int64_t h = 0; h < 3; ++h)
    for (int64_t w = 0; w < 3; ++w) {
      for (int64_t i = 0; i < 32; ++i)
        EXPECT_FLOAT_EQ(k4[0][i][h][w], 0.001f * static_cast<float>((h * 3 + w) * 32 + i));
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t o = 0; o < 64; o += 21)
          EXPECT_FLOAT_EQ(k1[o][i][h][w],
                          0.001f * static_cast<float>(((h * 3 + w) * 3 + i) * 64 + o));
    }
  EXPECT_FLOAT_EQ(net->decoder->convs[3]->bias.item<float>(), 0.5f);
}

TEST_F(ModelWeightsTest, RoundTripGivesIdenticalForward) {
  MSINet source;
  {
    torch::NoGradGuard no_grad;
    for (auto& p : source->parameters()) p.add_(torch::randn_like(p) * 0.01);
  }
  MSINet target;
  ASSERT_FALSE(same_parameters(source, target));
  load_tf_weights(target, export_tf_weights(source), "exported");
  EXPECT_TRUE(same_parameters(source, target));
  torch::NoGradGuard no_grad;
  torch::Tensor rgb = torch::rand({1, 3, 24, 32}) * 255;
  EXPECT_TRUE(torch::equal(source->forward(rgb), target->forward(rgb)));
}

TEST_F(ModelWeightsTest, NonFiniteValuesAreRefusedAndNothingIsLoaded) {
  MSINet source;
  weights::NamedTensors tensors = export_tf_weights(source);
  const std::string name = tensors.begin()->first;
  tensors.at(name).values[0] = std::nanf("");
  MSINet target;
  MSINet untouched;
  load_tf_weights(untouched, export_tf_weights(target), "copy of the target");
  const std::string message = load_error(target, tensors, /*vgg=*/false);
  expect_contains(message, "tensor '" + name + "' holds 1 non-finite value(s)");
  EXPECT_TRUE(same_parameters(untouched, target));  // nothing was loaded
}

TEST_F(ModelWeightsTest, NonWeightNamesAreSkippedAndPrefixIsAccepted) {
  MSINet source;
  weights::NamedTensors plain = export_tf_weights(source);
  weights::NamedTensors prefixed;
  for (const auto& [name, t] : plain) prefixed["model/" + name] = t;
  prefixed["model/conv1/conv1_1/kernel/read"] = counting_tensor({3, 3, 3, 64});
  prefixed["model/decoder/Shape"] = counting_tensor({4});
  prefixed["mean"] = counting_tensor({3});
  MSINet target;
  load_tf_weights(target, prefixed, "prefixed.pb");
  EXPECT_TRUE(same_parameters(source, target));
}

TEST_F(ModelWeightsTest, EveryOffenderIsListedInOneErrorAndNothingIsLoaded) {
  MSINet net;
  weights::NamedTensors tensors = export_tf_weights(net);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) p.add_(1.0);
  }
  MSINet before;
  load_tf_weights(before, export_tf_weights(net), "copy");

  tensors.erase("decoder/conv4/bias");
  tensors["decoder/conv5/kernel"] = counting_tensor({3, 3, 32, 1});
  tensors["conv1/conv1_1/kernel"] = counting_tensor({3, 3, 3, 32});
  tensors["aspp/conv1_5/bias"].values.resize(200);
  tensors["decoder/conv1/kernel/Initializer"] = counting_tensor({4});
  const std::string message = load_error(net, tensors, /*vgg=*/false);
  expect_contains(message, "model_salicon_cpu.pb");
  expect_contains(message, "4 problems");
  expect_contains(message, "missing tensor 'decoder/conv4/bias', expected shape [1]");
  expect_contains(message, "unknown tensor 'decoder/conv5/kernel' [3, 3, 32, 1]");
  expect_contains(message,
                  "wrong shape for 'conv1/conv1_1/kernel': [3, 3, 3, 32] in the file, expected "
                  "[3, 3, 3, 64]");
  expect_contains(message, "'aspp/conv1_5/bias' holds 200 values, its shape [256] needs 256");
  EXPECT_EQ(message.find("Initializer"), std::string::npos);
  EXPECT_TRUE(same_parameters(net, before));
}

TEST_F(ModelWeightsTest, NamesOutsideTheCommonPrefixAreUnknown) {
  MSINet net;
  weights::NamedTensors tensors;
  for (const auto& [name, t] : export_tf_weights(net)) tensors["model/" + name] = t;
  tensors["decoder/conv4/bias"] = tensors["model/decoder/conv4/bias"];
  tensors.erase("model/decoder/conv4/bias");
  const std::string message = load_error(net, tensors, /*vgg=*/false);
  expect_contains(message, "2 problems");
  expect_contains(message, "unknown tensor 'decoder/conv4/bias' [1]");
  expect_contains(message, "missing tensor 'model/decoder/conv4/bias', expected shape [1]");
}

TEST_F(ModelWeightsTest, EmptyInputListsAll46Missing) {
  MSINet net;
  const std::string message = load_error(net, {}, /*vgg=*/false);
  expect_contains(message, "46 problems");
  expect_contains(message,
                  "missing tensor 'aspp/conv1_2/kernel', expected shape [3, 3, 1280, 256]");
}

// ---- VGG16 initialisation ---------------------------------------------------------------------

weights::NamedTensors synthetic_vgg16() {
  struct L {
    const char* name;
    int64_t in, out;
  };
  const std::vector<L> layers = {
      {"conv1_1", 3, 64},    {"conv1_2", 64, 64},   {"conv2_1", 64, 128},  {"conv2_2", 128, 128},
      {"conv3_1", 128, 256}, {"conv3_2", 256, 256}, {"conv3_3", 256, 256}, {"conv4_1", 256, 512},
      {"conv4_2", 512, 512}, {"conv4_3", 512, 512}, {"conv5_1", 512, 512}, {"conv5_2", 512, 512},
      {"conv5_3", 512, 512}};
  weights::NamedTensors tensors;
  float offset = 0.0f;
  for (const L& l : layers) {
    tensors[std::string(l.name) + "/weights"] = counting_tensor({3, 3, l.in, l.out}, offset);
    tensors[std::string(l.name) + "/biases"] = counting_tensor({l.out}, offset + 0.5f);
    offset += 1.0f;
  }
  tensors["fc6/weights"] = counting_tensor({7, 7, 512, 2});
  tensors["global_step"] = counting_tensor({});
  return tensors;
}

TEST_F(ModelWeightsTest, Vgg16LoadsTheThirteenEncoderConvolutions) {
  MSINet net;
  torch::Tensor aspp_before = net->aspp->convs[1]->weight.clone();
  torch::Tensor decoder_before = net->decoder->convs[0]->weight.clone();
  load_vgg16_weights(net, synthetic_vgg16(), "vgg16_hybrid.ckpt");
  // conv1_1 (offset 0): OIHW (o, i, h, w) <- HWIO flat ((h * 3 + w) * 3 + i) * 64 + o.
  auto k = net->encoder->convs[0]->weight.accessor<float, 4>();
  EXPECT_FLOAT_EQ(k[5][2][1][0], 0.001f * (((1 * 3 + 0) * 3 + 2) * 64 + 5));
  // conv5_3 is layer 12: offset 12, bias offset 12.5.
  EXPECT_FLOAT_EQ(net->encoder->convs[12]->bias[3].item<float>(), 12.5f + 0.003f);
  EXPECT_FLOAT_EQ(net->encoder->convs[12]->weight[0][0][0][0].item<float>(), 12.0f);
  EXPECT_TRUE(torch::equal(net->aspp->convs[1]->weight, aspp_before));
  EXPECT_TRUE(torch::equal(net->decoder->convs[0]->weight, decoder_before));
}

TEST_F(ModelWeightsTest, Vgg16ErrorsListEveryOffender) {
  MSINet net;
  torch::Tensor before = net->encoder->convs[0]->weight.clone();
  weights::NamedTensors tensors = synthetic_vgg16();
  tensors.erase("conv5_3/biases");
  tensors["conv2_1/weights"] = counting_tensor({3, 3, 64, 64});
  tensors["conv6_1/weights"] = counting_tensor({3, 3, 512, 512});
  const std::string message = load_error(net, tensors, /*vgg=*/true);
  expect_contains(message, "VGG16");
  expect_contains(message, "vgg16_hybrid.ckpt");
  expect_contains(message, "3 problems");
  expect_contains(message, "missing tensor 'conv5_3/biases', expected shape [512]");
  expect_contains(message,
                  "wrong shape for 'conv2_1/weights': [3, 3, 64, 64] in the file, expected "
                  "[3, 3, 64, 128]");
  expect_contains(message, "unknown tensor 'conv6_1/weights' [3, 3, 512, 512]");
  EXPECT_EQ(message.find("fc6"), std::string::npos);
  EXPECT_TRUE(torch::equal(net->encoder->convs[0]->weight, before));
}

}  // namespace
}  // namespace msinet::model
