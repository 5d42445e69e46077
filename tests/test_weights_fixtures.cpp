// The readers on real TensorFlow- and TF.js-written files (../shared/fixtures/tf), with the
// values their README lists and, for TF.js, values decoded independently by NumPy.
#include <gtest/gtest.h>

#include <sstream>

#include "msinet/weights/readers.h"
#include "test_support.h"
#include "tools/http_server.h"
#include "tools/weights_test_util.h"

namespace {

using msinet::testing::bits_of;
using msinet::testing::slurp;
using msinet::testing::tf_fixture;
namespace w = msinet::weights;
namespace fs = std::filesystem;

// W and b of the tensorflow-onnx regression model (fixture README: bytes cc 18 5b 3e, d9 56 86 3f).
constexpr uint32_t kWBits = 0x3e5b18cc;
constexpr uint32_t kBBits = 0x3f8656d9;

void expect_scalar(const w::NamedTensors& t, const std::string& name, uint32_t bits) {
  const auto it = t.find(name);
  ASSERT_NE(it, t.end()) << name;
  EXPECT_TRUE(it->second.shape.empty()) << name;
  ASSERT_EQ(it->second.values.size(), 1u) << name;
  EXPECT_EQ(bits_of(it->second.values[0]), bits) << name;
}

void expect_scalar(const w::NamedTensors& t, const std::string& name, float value) {
  expect_scalar(t, name, bits_of(value));
}

TEST(WeightsFixtures, RegressionCheckpointHoldsWAndB) {
  const fs::path dir = tf_fixture("tensorflow-onnx/regression/checkpoint");
  for (const fs::path& p :
       {dir, dir / "model", dir / "model.index", dir / "model.data-00000-of-00001"}) {
    const w::WeightFile f = w::read_checkpoint(p);
    EXPECT_EQ(f.source, dir / "model") << p;
    ASSERT_EQ(f.tensors.size(), 2u) << p;
    expect_scalar(f.tensors, "W", kWBits);
    expect_scalar(f.tensors, "b", kBBits);
    EXPECT_EQ(f.dtypes.at("W"), "float32");
    EXPECT_TRUE(f.skipped.empty());
    EXPECT_EQ(w::detect_weight_format(p), w::WeightFormat::kCheckpoint) << p;
  }
}

TEST(WeightsFixtures, FrozenGraphHoldsTheCheckpointValues) {
  const fs::path pb = tf_fixture("tensorflow-onnx/regression/graphdef/frozen.pb");
  EXPECT_EQ(w::detect_weight_format(pb), w::WeightFormat::kFrozenGraph);
  const w::WeightFile f = w::read_frozen_graph(pb);
  // Only the two Consts; Placeholder, Identity, Mul and Add are not tensors.
  ASSERT_EQ(f.tensors.size(), 2u);
  expect_scalar(f.tensors, "W", kWBits);
  expect_scalar(f.tensors, "b", kBBits);
  const w::NamedTensors ckpt = w::read_weights(tf_fixture("tensorflow-onnx/regression/checkpoint"));
  EXPECT_TRUE(msinet::testing::same_tensors(f.tensors, ckpt));
}

TEST(WeightsFixtures, RegressionSavedModelResolvesGraphAndBundle) {
  const fs::path dir = tf_fixture("tensorflow-onnx/regression/saved_model");
  EXPECT_EQ(w::detect_weight_format(dir), w::WeightFormat::kSavedModel);
  EXPECT_EQ(w::detect_weight_format(dir / "saved_model.pb"), w::WeightFormat::kSavedModel);
  const w::WeightFile f = w::read_weight_file(dir);
  EXPECT_EQ(f.format, w::WeightFormat::kSavedModel);
  expect_scalar(f.tensors, "W", kWBits);
  expect_scalar(f.tensors, "b", kBBits);
  // The saver's file-name Consts are strings: listed, not converted.
  EXPECT_NE(std::find(f.skipped.begin(), f.skipped.end(), "save/Const (string)"), f.skipped.end());
  // Passing saved_model.pb itself reads the same folder.
  EXPECT_TRUE(msinet::testing::same_tensors(w::read_weights(dir / "saved_model.pb"), f.tensors));
}

TEST(WeightsFixtures, HalfPlusTwoBundlesUncompressedAndSnappy) {
  struct Case {
    const char* dir;
    std::vector<std::pair<std::string, float>> values;
  };
  const std::vector<Case> cases = {
      {"saved_model_half_plus_two_gpu", {{"a", 0.5f}, {"b", 2.0f}, {"c", 3.0f}}},
      {"saved_model_half_plus_two_cpu",  // Snappy-compressed table blocks
       {{"a", 0.5f}, {"a2", 0.5f}, {"b", 2.0f}, {"c", 3.0f}, {"c2", 3.0f}}},
      {"saved_model_half_plus_two_mkl", {{"a", 0.5f}, {"b", 2.0f}, {"c", 3.0f}}},
  };
  for (const Case& c : cases) {
    const fs::path dir = tf_fixture(std::string("tensorflow-serving/") + c.dir);
    const w::WeightFile bundle = w::read_checkpoint(dir / "variables" / "variables");
    for (const auto& [name, v] : c.values) expect_scalar(bundle.tensors, name, v);
    EXPECT_TRUE(bundle.skipped.empty()) << c.dir;
    if (std::string(c.dir) != "saved_model_half_plus_two_mkl") {
      EXPECT_EQ(bundle.tensors.size(), c.values.size()) << c.dir;
    }
    const w::WeightFile model = w::read_saved_model(dir);
    for (const auto& [name, v] : c.values) expect_scalar(model.tensors, name, v);
  }
}

TEST(WeightsFixtures, Tf2SavedModelSkipsTheObjectGraph) {
  const fs::path dir = tf_fixture("tensorflow-serving/saved_model_half_plus_two_tf2_cpu");
  const w::WeightFile bundle = w::read_checkpoint(dir / "variables" / "variables.index");
  ASSERT_EQ(bundle.tensors.size(), 3u);
  expect_scalar(bundle.tensors, "a/.ATTRIBUTES/VARIABLE_VALUE", 0.5f);
  expect_scalar(bundle.tensors, "b/.ATTRIBUTES/VARIABLE_VALUE", 2.0f);
  expect_scalar(bundle.tensors, "c/.ATTRIBUTES/VARIABLE_VALUE", 3.0f);
  EXPECT_EQ(bundle.skipped, std::vector<std::string>{"_CHECKPOINTABLE_OBJECT_GRAPH (string)"});
  const w::WeightFile model = w::read_weight_file(dir);
  expect_scalar(model.tensors, "a/.ATTRIBUTES/VARIABLE_VALUE", 0.5f);
}

TEST(WeightsFixtures, MsiNetHuggingFaceBundleHoldsNoWeights) {
  const w::WeightFile f = w::read_checkpoint(tf_fixture("msi-net-hf/variables"));
  EXPECT_TRUE(f.tensors.empty());
  EXPECT_EQ(f.skipped, std::vector<std::string>{"_CHECKPOINTABLE_OBJECT_GRAPH (string)"});
}

TEST(WeightsFixtures, FcLayersTensorContentMatchesTheFileBytes) {
  const fs::path pb = tf_fixture("tensorflow-onnx/fc-layers/frozen.pb");
  const w::WeightFile f = w::read_frozen_graph(pb);
  std::vector<std::string> names;
  for (const auto& kv : f.tensors) names.push_back(kv.first);
  EXPECT_EQ(names, (std::vector<std::string>{"dense/bias", "dense/kernel", "dense_1/bias",
                                             "dense_1/kernel", "pred/bias", "pred/kernel"}));
  const w::FloatTensor& k = f.tensors.at("dense/kernel");
  EXPECT_EQ(k.shape, (std::vector<int64_t>{784, 256}));
  ASSERT_EQ(k.values.size(), 784u * 256u);
  // The 802,816 content bytes located in the file by a separate Python scan.
  msinet::testing::TempDir tmp("weights-fc");
  const fs::path raw = tmp.path() / "kernel.bin";
  const auto r = msinet::testing::run_command(
      {"/usr/bin/python3", std::string(MSINET_SOURCE_DIR) + "/tests/tools/weights_reference.py",
       "content", pb.string(), "802816", raw.string()});
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string bytes = slurp(raw);
  ASSERT_EQ(bytes.size(), 802816u);
  EXPECT_EQ(std::memcmp(bytes.data(), k.values.data(), bytes.size()), 0);
}

struct RefEntry {
  std::string name;
  size_t count = 0;
  double min = 0, max = 0;
  size_t group_bytes = 0;
  std::vector<float> values;
};

// Decodes a manifest with tests/tools/weights_reference.py (NumPy).
std::vector<RefEntry> numpy_decode(const fs::path& manifest, const fs::path& out) {
  fs::create_directories(out);
  const auto r = msinet::testing::run_command(
      {"/usr/bin/python3", std::string(MSINET_SOURCE_DIR) + "/tests/tools/weights_reference.py",
       "tfjs", manifest.string(), out.string()});
  EXPECT_EQ(r.status, 0);
  std::vector<RefEntry> entries;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream ls(line);
    size_t k;
    RefEntry e;
    ls >> k >> e.name >> e.count >> e.min >> e.max >> e.group_bytes;
    const std::string raw = slurp(out / (std::to_string(k) + ".f32"));
    e.values.resize(raw.size() / 4);
    std::memcpy(e.values.data(), raw.data(), raw.size());
    entries.push_back(std::move(e));
  }
  return entries;
}

void check_face_api(const std::string& stem, const std::string& dtype, size_t entries,
                    const std::string& first, const std::vector<int64_t>& first_shape) {
  const fs::path manifest = tf_fixture("face-api.js/" + stem + "-weights_manifest.json");
  msinet::testing::TempDir tmp("weights-tfjs");
  const std::vector<RefEntry> ref = numpy_decode(manifest, tmp.path() / "ref");
  ASSERT_EQ(ref.size(), entries);
  EXPECT_EQ(ref.front().name, first);
  EXPECT_EQ(ref.front().group_bytes, fs::file_size(tf_fixture("face-api.js/" + stem + "-shard1")));

  const w::WeightFile f = w::read_tfjs(manifest);
  EXPECT_EQ(f.format, w::WeightFormat::kTfjs);
  ASSERT_EQ(f.tensors.size(), entries);
  EXPECT_EQ(f.tensors.at(first).shape, first_shape);
  for (const RefEntry& e : ref) {
    SCOPED_TRACE(e.name);
    const auto it = f.tensors.find(e.name);
    ASSERT_NE(it, f.tensors.end());
    EXPECT_EQ(f.dtypes.at(e.name), dtype);
    ASSERT_EQ(it->second.values.size(), e.count);
    // Every element bit-identical to NumPy's float64 q * scale + min, stored as float32.
    ASSERT_EQ(e.values.size(), e.count);
    EXPECT_EQ(std::memcmp(e.values.data(), it->second.values.data(), e.count * 4), 0);
    const auto [lo, hi] = std::minmax_element(it->second.values.begin(), it->second.values.end());
    EXPECT_EQ(static_cast<double>(*lo), static_cast<double>(static_cast<float>(e.min)));
    EXPECT_EQ(static_cast<double>(*hi), static_cast<double>(static_cast<float>(e.max)));
  }
  // The same manifest wrapped in a model.json, its shard beside it, reads the same.
  const fs::path model_dir = tmp.path() / "model";
  msinet::testing::spit(
      model_dir / "model.json",
      "{\"format\": \"graph-model\", \"modelTopology\": {},\n \"weightsManifest\": " +
          slurp(manifest) + "}");
  msinet::testing::copy_tree(tf_fixture("face-api.js/" + stem + "-shard1"),
                             model_dir / (stem + "-shard1"));
  EXPECT_EQ(w::detect_weight_format(model_dir), w::WeightFormat::kTfjs);
  EXPECT_TRUE(msinet::testing::same_tensors(w::read_weights(model_dir), f.tensors));
}

TEST(WeightsFixtures, TinyFaceDetectorDequantizesUint8) {
  check_face_api("tiny_face_detector_model", "uint8-quantized float32", 19, "conv0/filters",
                 {3, 3, 3, 16});
  // Range of the first entry from its manifest: [min, min + 255 * scale].
  const w::NamedTensors t =
      w::read_weights(tf_fixture("face-api.js/tiny_face_detector_model-weights_manifest.json"));
  const auto& v = t.at("conv0/filters").values;
  const double scale = 0.009007044399485869, min = -1.2069439495311063;
  for (float x : v) {
    EXPECT_GE(x, static_cast<float>(min));
    EXPECT_LE(x, static_cast<float>(min + 255 * scale));
    const double q = (x - min) / scale;  // an integer step
    EXPECT_NEAR(q, std::round(q), 1e-4);
  }
}

TEST(WeightsFixtures, FaceLandmarkDequantizesUint8) {
  check_face_api("face_landmark_68_tiny_model", "uint8-quantized float32", 28,
                 "dense0/conv0/filters", {3, 3, 3, 32});
}

TEST(WeightsFixtures, MtcnnReadsFloat32) {
  check_face_api("mtcnn_model", "float32", 50, "pnet/conv1/weights", {3, 3, 3, 10});
}

}  // namespace
