// `msinet export` checked by independent runtimes: the ONNX model in ONNX Runtime (the
// onnxruntime-node package) and in OpenCV DNN, the TF.js graph model in TensorFlow.js
// (@tensorflow/tfjs in Node, loaded over HTTP), and the GraphDef by its own bytes against the
// topology TF.js ran. Every map is compared with `msinet test --format npy` on the same image.
// The Node packages come from tests/node (scripts/test.sh installs them with npm ci).
#include <gtest/gtest.h>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <sstream>

#include "msinet/bench/bench.h"
#include "msinet/checkpoint/container.h"
#include "msinet/checkpoint/load.h"
#include "msinet/checkpoint/tf_names.h"
#include "msinet/eval/map_io.h"
#include "msinet/weights/proto_wire.h"
#include "msinet/weights/readers.h"
#include "test_support.h"
#include "tools/synthetic_photo.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using testing::run_msinet;
using testing::TempDir;

const std::vector<std::pair<int, int>> kSizes = {{48, 64}, {96, 128}, {240, 320}};

std::string size_text(int h, int w) { return std::to_string(h) + "x" + std::to_string(w); }

// An RGB float32 image [1, H, W, 3] as .npy (what the Node runner feeds its runtime).
void write_input_npy(const fs::path& path, const cv::Mat& bgr) {
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  rgb.convertTo(rgb, CV_32FC3);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, " +
                       std::to_string(rgb.rows) + ", " + std::to_string(rgb.cols) + ", 3), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.put(static_cast<char>(len & 0xFF));
  out.put(static_cast<char>(len >> 8));
  out << header;
  out.write(reinterpret_cast<const char*>(rgb.ptr<float>()),
            static_cast<std::streamsize>(rgb.total() * 3 * sizeof(float)));
}

double max_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  EXPECT_EQ(a.size(), b.size());
  if (a.size() != b.size()) return INFINITY;
  cv::Mat a64, b64;
  a.convertTo(a64, CV_64F);
  b.convertTo(b64, CV_64F);
  return cv::norm(a64, b64, cv::NORM_INF);
}

class Export : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("export");
    weights_ = dir().path() / "random.msinet";
    bench::write_random_weights(weights_, /*seed=*/23);
    for (const auto& [h, w] : kSizes) {
      cv::RNG rng(h + w);
      cv::Point centre;
      const cv::Mat photo = testing::synthetic_photo(h, w, rng, &centre);
      const std::string stem = "photo_" + size_text(h, w);
      cv::imwrite((dir().path() / (stem + ".png")).string(), photo);
      write_input_npy(dir().path() / (stem + ".npy"), photo);
      // The maps to match: `msinet test` at the image's own size, so no resize acts.
      std::string log;
      const int rc = run_msinet(
          {"test", "--weights", weights_.string(), "--size", size_text(h, w), "--format", "npy",
           "-p", (dir().path() / (stem + ".png")).string(), "-o", (dir().path() / "maps").string()},
          dir().path(), &log);
      ASSERT_EQ(rc, 0) << log;
    }
  }
  static void TearDownTestSuite() { delete dir_; }

  static const TempDir& dir() { return *dir_; }
  static fs::path input(int h, int w) {
    return dir().path() / ("photo_" + size_text(h, w) + ".npy");
  }
  static cv::Mat expected(int h, int w) {
    return eval::read_map(dir().path() / "maps" / ("photo_" + size_text(h, w) + ".npy"));
  }

  // Runs `msinet export ARGS -o OUT` and returns OUT.
  static fs::path export_model(const std::vector<std::string>& args, const std::string& name) {
    const fs::path out = dir().path() / name;
    std::vector<std::string> full = {"export", "--weights", weights_.string(), "-o", out.string()};
    full.insert(full.end(), args.begin(), args.end());
    std::string log;
    EXPECT_EQ(run_msinet(full, dir().path(), &log), 0) << log;
    return out;
  }

  // Runs tests/node/run_model.js; returns its JSON report and the map it wrote.
  static nlohmann::json run_node(const std::vector<std::string>& args, const fs::path& output,
                                 cv::Mat* map) {
    const fs::path script = fs::path(MSINET_SOURCE_DIR) / "tests" / "node" / "run_model.js";
    if (!fs::exists(fs::path(MSINET_SOURCE_DIR) / "tests/node/node_modules/onnxruntime-node") ||
        !fs::exists(fs::path(MSINET_SOURCE_DIR) / "tests/node/node_modules/@tensorflow/tfjs")) {
      ADD_FAILURE() << "NOT RUN: the Node packages are missing; scripts/test.sh installs them "
                       "(npm ci --ignore-scripts --prefix tests/node)";
      return {};
    }
    std::vector<std::string> full = {"/usr/bin/env", "node", script.string()};
    full.insert(full.end(), args.begin(), args.end());
    testing::Process p(full, dir().path());
    const int rc = p.wait();
    const std::string out = p.output();
    EXPECT_EQ(rc, 0) << out;
    if (rc != 0) return {};
    *map = eval::read_map(output);
    // The report is the last line; TF.js prints advice before it.
    const size_t end = out.find_last_not_of('\n');
    const size_t line = end == std::string::npos ? 0 : out.rfind('\n', end);
    return nlohmann::json::parse(out.substr(line == std::string::npos ? 0 : line + 1));
  }

  static TempDir* dir_;
  static fs::path weights_;
};
TempDir* Export::dir_ = nullptr;
fs::path Export::weights_;

onnx::ModelProto load_onnx(const fs::path& path) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(testing::read_file_bytes(path))) << path;
  return m;
}

std::map<std::string, std::string> onnx_metadata(const onnx::ModelProto& m) {
  std::map<std::string, std::string> out;
  for (const auto& p : m.metadata_props()) out[p.key()] = p.value();
  return out;
}

TEST_F(Export, OnnxPassesTheCheckerAndDescribesItself) {
  const fs::path model = export_model({"-f", "onnx"}, "dynamic.onnx");
  const onnx::ModelProto m = load_onnx(model);
  EXPECT_NO_THROW(onnx::checker::check_model(m));
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_GE(m.opset_import(0).version(), 13);
  const auto& in = m.graph().input(0).type().tensor_type().shape();
  ASSERT_EQ(in.dim_size(), 4);
  EXPECT_EQ(in.dim(1).dim_value(), 3);
  EXPECT_EQ(in.dim(2).dim_param(), "height");  // dynamic height and width by default
  EXPECT_EQ(in.dim(3).dim_param(), "width");
  const auto meta = onnx_metadata(m);
  EXPECT_EQ(meta.at("dataset"), "salicon");
  EXPECT_EQ(meta.at("weights"), "random.msinet");
  EXPECT_EQ(meta.at("weights_sha256").size(), 64u);
  EXPECT_EQ(meta.at("input_size"), "dynamic (multiples of 8)");
  EXPECT_NE(meta.at("mean_rgb").find("103.939,116.779,123.68"), std::string::npos);
  EXPECT_FALSE(meta.at("msinet_version").empty());
  // The TF semantics named in the graph itself.
  std::set<std::string> ops;
  for (const auto& n : m.graph().node()) {
    ops.insert(n.op_type());
    if (n.op_type() == "Resize") {
      for (const auto& a : n.attribute()) {
        if (a.name() == "coordinate_transformation_mode") {
          EXPECT_EQ(a.s(), "asymmetric");
        }
      }
    }
  }
  for (const char* op : {"Conv", "MaxPool", "Resize", "ReduceMean", "Expand", "ReduceMin",
                         "ReduceMax", "Div", "Sub"}) {
    EXPECT_EQ(ops.count(op), 1u) << op;
  }
}

TEST_F(Export, OnnxRuntimeGivesTheMapsOfTestAtThreeSizes) {
  const fs::path model = export_model({"-f", "onnx"}, "ort.onnx");
  for (const auto& [h, w] : kSizes) {
    const fs::path out = dir().path() / ("ort_" + size_text(h, w) + ".npy");
    cv::Mat map;
    const nlohmann::json report = run_node(
        {"ort", model.string(), input(h, w).string(), out.string(), "--threads", "2"}, out, &map);
    ASSERT_FALSE(report.is_null());
    const double diff = max_abs_diff(map, expected(h, w));
    std::cout << "ONNX Runtime " << report.value("version", "") << " fp32 " << size_text(h, w)
              << ": largest difference " << diff << "\n";
    EXPECT_LT(diff, 1e-4) << size_text(h, w);
  }
}

TEST_F(Export, OnnxNhwcLayoutGivesTheSameMaps) {
  const fs::path model = export_model({"-f", "onnx", "--layout", "nhwc"}, "nhwc.onnx");
  const onnx::ModelProto m = load_onnx(model);
  EXPECT_EQ(m.graph().input(0).type().tensor_type().shape().dim(3).dim_value(), 3);
  const fs::path out = dir().path() / "ort_nhwc.npy";
  cv::Mat map;
  ASSERT_FALSE(
      run_node({"ort", model.string(), input(48, 64).string(), out.string(), "--layout", "nhwc"},
               out, &map)
          .is_null());
  EXPECT_LT(max_abs_diff(map, expected(48, 64)), 1e-4);
}

// fp16 stores and computes the convolutions in half precision: the maps move by the rounding of
// 23 layers. Bound: the largest seen on random weights at these sizes was 1.1e-3; 1e-2 leaves
// margin.
constexpr double kFp16Bound = 1e-2;

TEST_F(Export, OnnxFp16IsHalfTheSizeAndWithinItsBound) {
  const fs::path fp32 = export_model({"-f", "onnx"}, "size32.onnx");
  const fs::path fp16 = export_model({"-f", "onnx", "--precision", "fp16"}, "size16.onnx");
  const double ratio = static_cast<double>(fs::file_size(fp16)) / fs::file_size(fp32);
  EXPECT_NEAR(ratio, 0.5, 0.01);
  EXPECT_NO_THROW(onnx::checker::check_model(load_onnx(fp16)));
  for (const auto& [h, w] : {kSizes[0], kSizes[1]}) {
    const fs::path out = dir().path() / ("ort16_" + size_text(h, w) + ".npy");
    cv::Mat map;
    ASSERT_FALSE(
        run_node({"ort", fp16.string(), input(h, w).string(), out.string()}, out, &map).is_null());
    const double diff = max_abs_diff(map, expected(h, w));
    std::cout << "ONNX Runtime fp16 " << size_text(h, w) << ": largest difference " << diff << "\n";
    EXPECT_LT(diff, kFp16Bound);
    EXPECT_GT(diff, 0.0) << "an fp16 model that matches fp32 exactly did not compute in fp16";
  }
}

TEST_F(Export, OpenCvDnnGivesTheMapsOfTestAtThreeSizes) {
  for (const auto& [h, w] : kSizes) {
    // OpenCV DNN plans every shape when it loads a model: a fixed size.
    const fs::path model =
        export_model({"-f", "onnx", "--size", size_text(h, w)}, "cv_" + size_text(h, w) + ".onnx");
    cv::dnn::Net net = cv::dnn::readNetFromONNX(model.string());
    const cv::Mat photo =
        cv::imread((dir().path() / ("photo_" + size_text(h, w) + ".png")).string());
    cv::Mat blob = cv::dnn::blobFromImage(photo, 1.0, cv::Size(), cv::Scalar(), /*swapRB=*/true,
                                          /*crop=*/false, CV_32F);
    net.setInput(blob, "input");
    const cv::Mat out = net.forward("output");
    ASSERT_EQ(out.dims, 4);
    ASSERT_EQ(out.size[2], h);
    ASSERT_EQ(out.size[3], w);
    const cv::Mat map(h, w, CV_32F, const_cast<float*>(out.ptr<float>()));
    const double diff = max_abs_diff(map, expected(h, w));
    std::cout << "OpenCV DNN " << CV_VERSION << " fp32 " << size_text(h, w)
              << ": largest difference " << diff << "\n";
    EXPECT_LT(diff, 1e-4) << size_text(h, w);
  }
}

TEST_F(Export, TfjsGraphModelGivesTheMapsOfTest) {
  const fs::path model = export_model({"-f", "tfjs"}, "tfjs");
  ASSERT_TRUE(fs::exists(model / "model.json"));
  for (const auto& [h, w] : {kSizes[0], kSizes[1]}) {
    const fs::path out = dir().path() / ("tfjs_" + size_text(h, w) + ".npy");
    cv::Mat map;
    const nlohmann::json report =
        run_node({"tfjs", model.string(), input(h, w).string(), out.string()}, out, &map);
    ASSERT_FALSE(report.is_null());
    EXPECT_EQ(report["inputs"], nlohmann::json::array({"input"}));
    EXPECT_EQ(report["outputs"], nlohmann::json::array({"output"}));
    EXPECT_EQ(report["metadata"]["msinet"]["dataset"], "salicon");
    const double diff = max_abs_diff(map, expected(h, w));
    std::cout << "TensorFlow.js " << report.value("version", "") << " float32 " << size_text(h, w)
              << ": largest difference " << diff << "\n";
    EXPECT_LT(diff, 1e-4) << size_text(h, w);
  }
}

// uint8 quantization: TF.js must run exactly the dequantized weights (to 1e-4 against msinet on
// the weights `import` reads back), and the maps move from fp32 by a bounded amount.
TEST_F(Export, TfjsUint8RunsItsDequantizedWeights) {
  const fs::path model = export_model({"-f", "tfjs", "--quantize", "uint8"}, "tfjs_u8");
  export_model({"-f", "tfjs"}, "tfjs_f32");
  const auto size = [&](const char* name) {
    int64_t total = 0;
    for (const auto& e : fs::directory_iterator(dir().path() / name)) total += e.file_size();
    return total;
  };
  EXPECT_LT(static_cast<double>(size("tfjs_u8")), 0.26 * size("tfjs_f32"));
  const fs::path dequantized = dir().path() / "dequantized.msinet";
  std::string log;
  ASSERT_EQ(run_msinet({"import", model.string(), "-o", dequantized.string()}, dir().path(), &log),
            0)
      << log;
  ASSERT_EQ(run_msinet({"test", "--weights", dequantized.string(), "--size", "48x64", "--format",
                        "npy", "-p", (dir().path() / "photo_48x64.png").string(), "-o",
                        (dir().path() / "maps_u8").string()},
                       dir().path(), &log),
            0)
      << log;
  const cv::Mat reference = eval::read_map(dir().path() / "maps_u8" / "photo_48x64.npy");
  const fs::path out = dir().path() / "tfjs_u8.npy";
  cv::Mat map;
  ASSERT_FALSE(run_node({"tfjs", model.string(), input(48, 64).string(), out.string()}, out, &map)
                   .is_null());
  EXPECT_LT(max_abs_diff(map, reference), 1e-4);
  const double drift = max_abs_diff(map, expected(48, 64));
  std::cout << "TensorFlow.js uint8 48x64: largest difference from fp32 " << drift << "\n";
  EXPECT_LT(drift, 0.1);  // measured 0.023 on these random weights
}

// A NodeDef read straight from the wire: name, op, inputs and attribute names.
struct WireNode {
  std::string name, op;
  std::vector<std::string> inputs;
  std::set<std::string> attrs;
};

// ref: tensorflow/core/framework/graph.proto (node = 1), node_def.proto (name = 1, op = 2,
// input = 3, attr = 5 {key = 1})
std::vector<WireNode> graph_nodes(const std::string& bytes) {
  using weights::wire::Reader;
  using weights::wire::WireType;
  std::vector<WireNode> nodes;
  Reader graph(bytes);
  uint32_t field;
  WireType type;
  while (graph.next(field, type)) {
    if (field != 1) {
      graph.skip(type);
      continue;
    }
    Reader node(graph.bytes());
    WireNode n;
    while (node.next(field, type)) {
      if (type != WireType::kLengthDelimited) {
        node.skip(type);
        continue;
      }
      const std::string_view v = node.bytes();
      if (field == 1) n.name = v;
      if (field == 2) n.op = v;
      if (field == 3) n.inputs.emplace_back(v);
      if (field == 5) {
        Reader entry(v);
        while (entry.next(field, type)) {
          if (field == 1) {
            n.attrs.emplace(entry.bytes());
          } else {
            entry.skip(type);
          }
        }
      }
    }
    nodes.push_back(std::move(n));
  }
  return nodes;
}

TEST_F(Export, GraphDefIsTheGraphTfjsRanWithTheSameWeights) {
  const fs::path pb = export_model({"-f", "graphdef"}, "model_salicon_cpu.pb");
  const fs::path tfjs = export_model({"-f", "tfjs"}, "tfjs_for_pb");
  const std::vector<WireNode> nodes = graph_nodes(testing::read_file_bytes(pb));
  const nlohmann::json topology =
      nlohmann::json::parse(testing::read_file_bytes(tfjs / "model.json"))["modelTopology"]["node"];
  ASSERT_EQ(nodes.size(), topology.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const nlohmann::json& t = topology[i];
    EXPECT_EQ(nodes[i].name, t["name"]);
    EXPECT_EQ(nodes[i].op, t["op"]);
    EXPECT_EQ(nlohmann::json(nodes[i].inputs), t.value("input", nlohmann::json::array()));
    std::set<std::string> keys;
    for (const auto& [k, v] : t["attr"].items()) keys.insert(k);
    EXPECT_EQ(nodes[i].attrs, keys) << nodes[i].name;
  }
  // The names tools built around the original feed and fetch.
  EXPECT_EQ(nodes.front().name, "input");
  EXPECT_EQ(nodes.front().op, "Placeholder");
  EXPECT_EQ(nodes.back().name, "output");
  // Its Consts, read back by the GraphDef reader, are the weights, bit for bit.
  model::MSINet net;
  checkpoint::load_weights_file(net, weights_);
  const weights::NamedTensors want = checkpoint::export_tf_weights(net);
  const weights::WeightFile got = weights::read_frozen_graph(pb);
  for (const auto& [name, t] : want) {
    ASSERT_EQ(got.tensors.count(name), 1u) << name;
    EXPECT_EQ(got.tensors.at(name).shape, t.shape) << name;
    EXPECT_EQ(got.tensors.at(name).values, t.values) << name;
  }
}

// `import` of every export gives back the weights: exactly for float32 forms, within half a
// quantization step (or float16 rounding) for the others.
TEST_F(Export, ImportGivesBackTheWeights) {
  model::MSINet original;
  checkpoint::load_weights_file(original, weights_);
  const weights::NamedTensors want = checkpoint::export_parameter_weights(original);
  struct Case {
    std::vector<std::string> args;
    std::string name;
    double tolerance;  // relative to the tensor's range; 0 = bit-exact
  };
  const std::vector<Case> cases = {
      {{"-f", "onnx"}, "rt.onnx", 0},
      {{"-f", "onnx", "--layout", "nhwc", "--size", "48x64"}, "rt_nhwc.onnx", 0},
      {{"-f", "graphdef"}, "rt.pb", 0},
      {{"-f", "tfjs"}, "rt_tfjs", 0},
      {{"-f", "onnx", "--precision", "fp16"}, "rt16.onnx", 1.0 / 1024},
      {{"-f", "tfjs", "--quantize", "float16"}, "rt_tfjs16", 1.0 / 1024},
      {{"-f", "tfjs", "--quantize", "uint16"}, "rt_tfjs_u16", 0.5 / 65535 + 1e-7},
      {{"-f", "tfjs", "--quantize", "uint8"}, "rt_tfjs_u8", 0.5 / 255 + 1e-6},
  };
  for (const Case& c : cases) {
    const fs::path exported = export_model(c.args, c.name);
    const fs::path back = dir().path() / (c.name + ".msinet");
    std::string log;
    ASSERT_EQ(run_msinet({"import", exported.string(), "-o", back.string()}, dir().path(), &log), 0)
        << c.name << "\n"
        << log;
    model::MSINet net;
    checkpoint::load_weights_file(net, back);
    const weights::NamedTensors got = checkpoint::export_parameter_weights(net);
    for (const auto& [name, t] : want) {
      const std::vector<float>& g = got.at(name).values;
      ASSERT_EQ(g.size(), t.values.size());
      if (c.tolerance == 0) {
        EXPECT_EQ(g, t.values) << c.name << " " << name;
        continue;
      }
      const auto [lo, hi] = std::minmax_element(t.values.begin(), t.values.end());
      double worst = 0, magnitude = std::max(std::fabs(*lo), std::fabs(*hi));
      for (size_t i = 0; i < g.size(); ++i)
        worst = std::max(worst, std::fabs(double{g[i]} - t.values[i]));
      // uint8/uint16 steps span the tensor's range; float16 rounding scales with magnitude.
      const double scale =
          c.name.find("u8") != std::string::npos || c.name.find("u16") != std::string::npos
              ? double{*hi} - *lo
              : magnitude;
      EXPECT_LE(worst, c.tolerance * scale) << c.name << " " << name;
    }
  }
}

TEST_F(Export, RefusesWhatTheFormatCannotExpress) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"-f", "onnx", "--size", "50x64"}, "multiples of 8"},
      {{"-f", "onnx", "--size", "8200x64"}, "8192"},
      {{"-f", "onnx", "--quantize", "uint8"}, "--quantize is for TF.js"},
      {{"-f", "graphdef", "--precision", "fp16"}, "fp16 is for ONNX"},
      {{"-f", "tfjs", "--layout", "nchw"}, "NHWC"},
      {{"-f", "pt"}, "pt"},
  };
  for (const auto& [args, message] : cases) {
    std::vector<std::string> full = {"export", "--weights", weights_.string(), "-o",
                                     (dir().path() / "refused.onnx").string()};
    full.insert(full.end(), args.begin(), args.end());
    std::string log;
    EXPECT_EQ(run_msinet(full, dir().path(), &log), static_cast<int>(ErrorCode::kUsage)) << log;
    EXPECT_NE(log.find(message), std::string::npos) << log;
    EXPECT_FALSE(fs::exists(dir().path() / "refused.onnx"));
  }
  // An export never replaces its weights.
  const std::string before = testing::read_file_bytes(weights_);
  std::string log;
  EXPECT_EQ(
      run_msinet({"export", "--weights", weights_.string(), "-f", "onnx", "-o", weights_.string()},
                 dir().path(), &log),
      static_cast<int>(ErrorCode::kUsage))
      << log;
  EXPECT_NE(log.find("would replace its weights"), std::string::npos) << log;
  EXPECT_EQ(testing::read_file_bytes(weights_), before);
}

}  // namespace
}  // namespace msinet
