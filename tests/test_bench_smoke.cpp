// End-to-end: the real binary runs a tiny benchmark; the table and the JSON report carry every
// figure, each positive. Timings themselves are never asserted.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::run_msinet;
using testing::TempDir;

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The member `key` of `object`, or nullptr.
const Json* find(const Json& object, const std::string& key) {
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

double number_of(const Json& object, const std::string& key) {
  const Json* v = find(object, key);
  EXPECT_NE(v, nullptr) << key;
  if (v == nullptr) return -1;
  EXPECT_TRUE(v->is_number()) << key;
  return v->get<double>();
}

class BenchSmoke : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(testing::msinet_binary())) << "build the msinet target first";
  }
  TempDir tmp_{"bench"};
};

TEST_F(BenchSmoke, TinyRunReportsEveryFigure) {
  const fs::path report = tmp_.path() / "bench.json";
  std::string out;
  const int rc =
      run_msinet({"bench", "--sizes", "48x64", "--batches", "1", "--iters", "1", "--test-images",
                  "2", "--json", report.string(), "--device", "cpu", "--threads", "2"},
                 tmp_.path(), &out);
  ASSERT_EQ(rc, 0) << out;
  for (const char* text : {"forward pass", "ms/img", "img/s", "GFLOP/s", "% peak", "every plan",
                           "vs nchw", "layers of plan", "against the reference forward",
                           "training step", "image pipeline", "test job, 2 photos", "peak RSS"}) {
    EXPECT_NE(out.find(text), std::string::npos) << text << "\n" << out;
  }
  ASSERT_TRUE(fs::exists(report)) << out;
  const Json root = Json::parse(read_text(report));
  ASSERT_TRUE(root.is_object());
  EXPECT_EQ(find(root, "device")->get<std::string>(), "cpu");
  EXPECT_EQ(number_of(root, "threads"), 2);
  EXPECT_GT(number_of(root, "peak_rss_mb"), 0);
  EXPECT_GT(number_of(root, "seconds"), 0);

  const Json* forward = find(root, "forward");
  ASSERT_TRUE(forward && forward->is_array() && !forward->empty());
  bool fp32 = false;
  for (const Json& row : *forward) {
    fp32 = fp32 || find(row, "precision")->get<std::string>() == "fp32";
    EXPECT_EQ(number_of(row, "height"), 48);
    EXPECT_EQ(number_of(row, "width"), 64);
    EXPECT_EQ(number_of(row, "batch"), 1);
    for (const char* key : {"ms_per_image", "images_per_second", "cpu_ms_per_image", "gflops"}) {
      EXPECT_GT(number_of(row, key), 0) << key;
    }
    // 48x64 has 1/25 of the pixels of 240x320 (91.1 GFLOP).
    EXPECT_NEAR(number_of(row, "gflop_per_image"), 91.1 / 25, 0.05);
    EXPECT_GE(number_of(row, "peak_fraction"), 0);
    EXPECT_FALSE(find(row, "plan")->get<std::string>().empty()) << "the plan that ran";
  }
  EXPECT_TRUE(fp32);

  // Every plan is timed, and each layer of the fastest.
  const Json* plans = find(root, "plans");
  ASSERT_TRUE(plans && plans->is_array());
  std::set<std::string> timed;
  for (const Json& row : *plans) {
    timed.insert(find(row, "variant")->get<std::string>());
    EXPECT_GT(number_of(row, "ms_per_image"), 0);
  }
  for (const char* plan : {"nchw", "channels-last", "onednn"})
    EXPECT_EQ(timed.count(plan), 1u) << plan;
  EXPECT_EQ(timed.count(find(root, "layers_plan")->get<std::string>()), 1u);
  const Json* layers = find(root, "layers");
  ASSERT_TRUE(layers && layers->size() == 23) << "one row per convolution";
  double layer_gflop = 0;
  for (const Json& l : *layers) {
    EXPECT_GT(number_of(l, "ms"), 0);
    layer_gflop += number_of(l, "gflop");
  }
  EXPECT_NEAR(layer_gflop, 91.1 / 25, 0.05);
  // Every float32 plan computes the reference forward's maps.
  std::set<std::string> compared;
  for (const Json& a : *find(root, "accuracy")) {
    if (find(a, "precision")->get<std::string>() != "fp32") continue;
    compared.insert(find(a, "plan")->get<std::string>());
    EXPECT_LT(number_of(a, "max_abs_diff"), 1e-4) << a.dump();
  }
  EXPECT_EQ(compared, timed);

  const Json* train = find(root, "train");
  ASSERT_TRUE(train && train->size() == 1);
  EXPECT_GT(number_of(train->at(0), "step_ms"), 0);

  const Json* pipeline = find(root, "pipeline");
  ASSERT_TRUE(pipeline && pipeline->size() == 1);
  EXPECT_GT(number_of(pipeline->at(0), "images"), 0);
  EXPECT_GT(number_of(pipeline->at(0), "preprocess_per_second"), 0);
  EXPECT_GT(number_of(pipeline->at(0), "postprocess_per_second"), 0);

  const Json* job = find(root, "test_job");
  ASSERT_TRUE(job && job->size() == 1);
  EXPECT_EQ(number_of(job->at(0), "images"), 2);
  EXPECT_GT(number_of(job->at(0), "wall_seconds"), 0);
  EXPECT_GT(number_of(job->at(0), "forward_seconds"), 0);
  EXPECT_GE(number_of(job->at(0), "wall_seconds"), number_of(job->at(0), "forward_seconds"));

  const Json* peak = find(root, "peak");
  ASSERT_TRUE(peak && peak->is_object());
#if defined(__x86_64__)
  EXPECT_GT(number_of(*peak, "fp32_gflops"), 0);
#endif
  // Reduced precision is compared with fp32 wherever it ran.
  for (const Json& row : *forward) {
    if (find(row, "precision")->get<std::string>() == "fp32") continue;
    bool found = false;
    for (const Json& a : *find(root, "accuracy")) {
      if (find(a, "precision")->get<std::string>() != find(row, "precision")->get<std::string>())
        continue;
      found = true;
      EXPECT_GT(number_of(a, "cc_mean"), 0.9);
      EXPECT_GE(number_of(a, "max_abs_diff"), 0);
    }
    EXPECT_TRUE(found) << find(row, "precision")->get<std::string>();
  }
}

// ONNX Runtime on the exported network, after msinet, at each size and batch: its time and
// msinet's over it in the table and the JSON.
TEST_F(BenchSmoke, TheOnnxRuntimePeerRunsAtEverySizeAndBatch) {
  if (!fs::exists(fs::path(MSINET_SOURCE_DIR) / "tests/node/node_modules/onnxruntime-node")) {
    FAIL() << "NOT RUN: the Node packages are missing; scripts/test.sh installs them "
              "(npm ci --ignore-scripts --prefix tests/node)";
  }
  const fs::path report = tmp_.path() / "bench.json";
  std::string out;
  const int rc = run_msinet({"bench",
                             "--sizes",
                             "48x64,32x40",
                             "--batches",
                             "1,2",
                             "--iters",
                             "1",
                             "--precision",
                             "fp32",
                             "--test-images",
                             "0",
                             "--skip",
                             "plans,accuracy,train,pipeline",
                             "--peer",
                             "onnxruntime",
                             "--peer-script",
                             (fs::path(MSINET_SOURCE_DIR) / "tests/node/run_model.js").string(),
                             "--json",
                             report.string(),
                             "--device",
                             "cpu",
                             "--threads",
                             "2"},
                            tmp_.path(), &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("msinet/ORT"), std::string::npos) << out;
  EXPECT_NE(out.find("ONNX Runtime 1."), std::string::npos) << out;
  const Json root = Json::parse(read_text(report));
  const Json* ort = find(root, "onnxruntime");
  ASSERT_TRUE(ort && ort->is_object()) << root.dump();
  const Json& rows = ort->at("rows");
  ASSERT_EQ(rows.size(), 4u) << rows.dump();
  for (const Json& row : rows) {
    EXPECT_GT(number_of(row, "ms_per_image"), 0);
    EXPECT_GT(number_of(row, "msinet_fp32_over_ort"), 0);
  }
  EXPECT_EQ(run_msinet({"bench", "--peer", "onnxruntime", "--train"}, tmp_.path(), &out), 2) << out;
  EXPECT_NE(out.find("onnxruntime"), std::string::npos) << out;
}

TEST_F(BenchSmoke, BadOptionsAreUsageErrors) {
  std::string out;
  EXPECT_EQ(run_msinet({"bench", "--sizes", "50x64"}, tmp_.path(), &out), 2) << out;
  EXPECT_NE(out.find("50x64"), std::string::npos) << out;
  EXPECT_EQ(run_msinet({"bench", "--batches", "1,0"}, tmp_.path(), &out), 2) << out;
  EXPECT_NE(out.find("'0'"), std::string::npos) << out;
  EXPECT_EQ(run_msinet({"bench", "--skip", "everything"}, tmp_.path(), &out), 2) << out;
  EXPECT_NE(out.find("everything"), std::string::npos) << out;
  EXPECT_EQ(run_msinet({"bench", "--precision", "fp16", "--device", "cpu"}, tmp_.path(), &out), 2)
      << out;
  EXPECT_NE(out.find("fp16"), std::string::npos) << out;
}

}  // namespace
}  // namespace msinet
