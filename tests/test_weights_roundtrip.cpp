// Full-size MSI-Net weights (46 tensors, 24,934,209 values) written as TF.js (float32, and
// uint8-quantized in one extensionless shard), as a frozen GraphDef and as a checkpoint, read
// back, and run through the network: float32 forms give the identical map; the uint8 form
// stays within half a quantization step per weight and gives exactly the map of the tensors
// NumPy decodes from the same files.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "msinet/checkpoint/load.h"
#include "msinet/checkpoint/tf_names.h"
#include "msinet/model/msinet.h"
#include "msinet/util/error.h"
#include "msinet/weights/readers.h"
#include "msinet/weights/writers.h"
#include "tools/http_server.h"
#include "tools/weights_test_util.h"

namespace {

namespace w = msinet::weights;
namespace fs = std::filesystem;
using msinet::testing::same_tensors;

class WeightsRoundTrip : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new msinet::testing::ScratchFolder("weights-roundtrip");
    original_ = new w::NamedTensors(msinet::testing::random_msinet_tensors(2024));
    torch::manual_seed(3);
    image_ = new torch::Tensor(torch::rand({1, 3, 48, 64}) * 255.0);
    reference_map_ = new torch::Tensor(forward(*original_, "generated tensors"));
  }
  static void TearDownTestSuite() {
    delete reference_map_;
    delete image_;
    delete original_;
    delete tmp_;
  }

  static torch::Tensor forward(const w::NamedTensors& tensors, const std::string& origin) {
    torch::NoGradGuard no_grad;
    msinet::model::MSINet net;
    msinet::checkpoint::load_tf_weights(net, tensors, origin);
    net->eval();
    return net->forward(*image_);
  }

  static msinet::testing::ScratchFolder* tmp_;
  static w::NamedTensors* original_;
  static torch::Tensor* image_;
  static torch::Tensor* reference_map_;
};

msinet::testing::ScratchFolder* WeightsRoundTrip::tmp_ = nullptr;
w::NamedTensors* WeightsRoundTrip::original_ = nullptr;
torch::Tensor* WeightsRoundTrip::image_ = nullptr;
torch::Tensor* WeightsRoundTrip::reference_map_ = nullptr;

TEST_F(WeightsRoundTrip, GeneratedTensorsAreFullSizeMsiNet) {
  size_t total = 0;
  for (const auto& kv : *original_) total += kv.second.values.size();
  EXPECT_EQ(original_->size(), 46u);
  EXPECT_EQ(total, 24934209u);  // reference-semantics.md section 1
  // The model exports what it was given (names, HWIO layout, values).
  torch::NoGradGuard no_grad;
  msinet::model::MSINet net;
  msinet::checkpoint::load_tf_weights(net, *original_, "generated tensors");
  EXPECT_TRUE(same_tensors(msinet::checkpoint::export_tf_weights(net), *original_));
}

TEST_F(WeightsRoundTrip, Float32FormsAreIdentical) {
  const fs::path root = tmp_->path() / "f32";
  w::write_tfjs(root / "tfjs" / "model.json", *original_);
  w::write_frozen_graph(root / "model_salicon_cpu.pb", *original_);
  w::write_checkpoint(root / "ckpt" / "model.ckpt", *original_);
  EXPECT_GT(std::distance(fs::directory_iterator(root / "tfjs"), fs::directory_iterator{}), 20)
      << "expected 4 MiB shards";
  for (const fs::path& src :
       {root / "tfjs", root / "model_salicon_cpu.pb", root / "ckpt" / "model.ckpt"}) {
    SCOPED_TRACE(src.string());
    const w::NamedTensors back = w::read_weights(src);
    EXPECT_TRUE(same_tensors(back, *original_));
    EXPECT_TRUE(torch::equal(forward(back, src.string()), *reference_map_));
  }
}

// `msinet import` and `--weights` take a TF checkpoint as its prefix, its .index or its folder.
TEST_F(WeightsRoundTrip, ImportTakesACheckpointByPrefixIndexOrFolder) {
  const fs::path dir = tmp_->path() / "import-ckpt";
  const fs::path prefix = dir / "ckpt" / "model.ckpt-1000";
  w::write_checkpoint(prefix, *original_);
  ASSERT_FALSE(fs::exists(prefix));
  int n = 0;
  for (const fs::path& src : {prefix, fs::path(prefix.string() + ".index"), dir / "ckpt"}) {
    SCOPED_TRACE(src.string());
    const fs::path out = dir / ("imported" + std::to_string(n++) + ".msinet");
    msinet::checkpoint::import_weights(src, out);
    msinet::model::MSINet net;
    msinet::checkpoint::load_weights_file(net, out);
    EXPECT_TRUE(same_tensors(msinet::checkpoint::export_tf_weights(net), *original_));
  }
  EXPECT_THROW(
      msinet::checkpoint::import_weights(dir / "ckpt" / "model.ckpt-2000", dir / "never.msinet"),
      msinet::Error);
}

TEST_F(WeightsRoundTrip, Uint8ExtensionlessShardStaysWithinTheStep) {
  const fs::path dir = tmp_->path() / "u8";
  w::TfjsWriteOptions o;
  o.quantization = w::TfjsQuantization::kUint8;
  o.shard_bytes = size_t{1} << 30;
  o.shard_extension = "";
  o.shard_prefix = "msinet-shard";
  w::write_tfjs(dir / "model.json", *original_, o);
  ASSERT_TRUE(fs::is_regular_file(dir / "msinet-shard1of1"));
  EXPECT_EQ(fs::file_size(dir / "msinet-shard1of1"), 24934209u);  // one byte per weight

  const w::WeightFile f = w::read_tfjs(dir / "model.json");
  ASSERT_EQ(f.tensors.size(), original_->size());
  for (const auto& [name, t] : *original_) {
    const auto& back = f.tensors.at(name);
    ASSERT_EQ(back.shape, t.shape);
    const auto [lo, hi] = std::minmax_element(t.values.begin(), t.values.end());
    const double half_step = (static_cast<double>(*hi) - *lo) / 255.0 / 2.0;
    double worst = 0;
    for (size_t i = 0; i < t.values.size(); ++i) {
      worst = std::max(worst, std::abs(static_cast<double>(back.values[i]) - t.values[i]));
    }
    EXPECT_LE(worst, half_step * (1 + 1e-6) + 1e-7) << name;
  }

  // NumPy's decoding of the same files, loaded directly, gives the identical map.
  const auto r = msinet::testing::run_command(
      {"/usr/bin/python3", std::string(MSINET_SOURCE_DIR) + "/tests/tools/weights_reference.py",
       "tfjs", (dir / "model.json").string(), dir.string()});
  ASSERT_EQ(r.status, 0);
  w::NamedTensors numpy;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream ls(line);
    size_t k;
    std::string name;
    ls >> k >> name;
    const std::string raw = msinet::testing::slurp(dir / (std::to_string(k) + ".f32"));
    w::FloatTensor t{original_->at(name).shape, std::vector<float>(raw.size() / 4)};
    std::memcpy(t.values.data(), raw.data(), raw.size());
    numpy[name] = std::move(t);
  }
  EXPECT_TRUE(same_tensors(numpy, f.tensors));
  const torch::Tensor quantized_map = forward(f.tensors, "uint8 TF.js");
  EXPECT_TRUE(torch::equal(quantized_map, forward(numpy, "NumPy decoding")));
  const double diff = (quantized_map - *reference_map_).abs().max().item<double>();
  RecordProperty("max_abs_map_difference_uint8", std::to_string(diff));
  EXPECT_GT(diff, 0.0);  // the weights did change
}

}  // namespace
