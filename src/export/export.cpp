#include "msinet/export/export.h"

#include <map>

#include <spdlog/spdlog.h>

#include "msinet/checkpoint/load.h"
#include "msinet/checkpoint/tf_names.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/util/size.h"
#include "msinet/weights/writers.h"
#include "onnx_model.h"
#include "tf_graph.h"
#include "tfjs_model.h"

namespace msinet::exporter {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void usage(const std::string& message) { throw Error(ErrorCode::kUsage, message); }

weights::TfjsQuantization parse_quantization(const std::string& q) {
  if (q == "none") return weights::TfjsQuantization::kNone;
  if (q == "uint8") return weights::TfjsQuantization::kUint8;
  if (q == "uint16") return weights::TfjsQuantization::kUint16;
  if (q == "float16") return weights::TfjsQuantization::kFloat16;
  usage("unknown --quantize '" + q + "': use none, uint8, uint16 or float16");
}

// Refuses what the format cannot express before any weights are read.
void check_options(const ExportOptions& o) {
  if (o.output.empty())
    usage("export needs an output: -o FILE (onnx, graphdef) or -o FOLDER (tfjs)");
  if ((o.height > 0) != (o.width > 0)) usage("--size needs both a height and a width");
  if (o.height > 0) util::check_input_size({o.height, o.width}, "--size");
  if (o.precision != "fp32" && o.precision != "fp16") {
    usage("unknown --precision '" + o.precision + "': use fp32 or fp16");
  }
  if (o.precision == "fp16" && o.format != ExportFormat::kOnnx) {
    usage(
        "--precision fp16 is for ONNX; a TF.js model stores float16 weights with --quantize "
        "float16, and a GraphDef is float32");
  }
  parse_quantization(o.quantize);
  if (o.quantize != "none" && o.format != ExportFormat::kTfjs) {
    usage("--quantize is for TF.js models (-f tfjs); ONNX has --precision fp16");
  }
  if (!o.layout.empty() && o.layout != "nchw" && o.layout != "nhwc") {
    usage("unknown --layout '" + o.layout + "': use nchw or nhwc");
  }
  if (o.layout == "nchw" && o.format != ExportFormat::kOnnx) {
    usage("TensorFlow graphs (tfjs, graphdef) are NHWC; --layout nchw is for ONNX");
  }
}

// An output never replaces an input: not the weights file, nor the folder that holds them.
void check_not_input(const fs::path& output, const fs::path& model_file, const fs::path& weights) {
  std::error_code ec;
  for (const fs::path& written : {output, model_file}) {
    if (fs::exists(written, ec) && fs::exists(weights, ec) &&
        fs::equivalent(written, weights, ec)) {
      usage("the export '" + written.string() + "' would replace its weights '" + weights.string() +
            "': choose another output");
    }
  }
}

std::string size_text(int h, int w) {
  return h > 0 ? std::to_string(h) + "x" + std::to_string(w) : "dynamic (multiples of 8)";
}

int64_t bytes_under(const fs::path& p) {
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) return static_cast<int64_t>(fs::file_size(p, ec));
  int64_t total = 0;
  for (const auto& e : fs::directory_iterator(p, ec)) {
    if (e.is_regular_file(ec)) total += static_cast<int64_t>(e.file_size(ec));
  }
  return total;
}

}  // namespace

ExportFormat parse_export_format(const std::string& text) {
  if (text == "onnx") return ExportFormat::kOnnx;
  if (text == "tfjs") return ExportFormat::kTfjs;
  if (text == "graphdef") return ExportFormat::kGraphDef;
  usage("unknown export format '" + text + "': use onnx, tfjs or graphdef");
}

ExportResult run_export(const ExportOptions& o) {
  check_options(o);
  const bool tfjs = o.format == ExportFormat::kTfjs;
  ExportResult result;
  result.output = tfjs ? o.output / "model.json" : o.output;
  result.weights = o.weights.empty() ? checkpoint::resolve_weights(o.dataset, o.results_dir,
                                                                   o.weights_dir, o.download)
                                     : o.weights;
  check_not_input(o.output, result.output, result.weights);
  model::MSINet net;
  checkpoint::load_weights_file(net, result.weights);

  const std::string layout =
      o.format == ExportFormat::kOnnx && o.layout != "nhwc" ? "NCHW" : "NHWC";
  const std::map<std::string, std::string> metadata = {
      {"dataset", o.dataset},
      {"msinet_version", MSINET_VERSION},
      {"weights", result.weights.filename().string()},
      {"weights_sha256",
       fetch::sha256_file(fs::is_directory(result.weights) ? result.weights / "model.json"
                                                           : result.weights)},
      {"input_size", size_text(o.height, o.width)},
      {"input", "RGB, float32, values 0..255, " + layout},
      {"mean_rgb", "103.939,116.779,123.68 (subtracted inside the model)"},
      {"output", "saliency map in [0, 1], min-max normalised per image, " + layout}};

  if (o.format == ExportFormat::kOnnx) {
    OnnxOptions onnx;
    onnx.height = o.height;
    onnx.width = o.width;
    onnx.fp16 = o.precision == "fp16";
    onnx.nhwc = o.layout == "nhwc";
    onnx.metadata = metadata;
    util::write_file_atomic(o.output,
                            onnx_model_bytes(checkpoint::export_parameter_weights(net), onnx));
  } else {
    const TfGraph graph = build_tf_graph(checkpoint::export_tf_weights(net), o.height, o.width);
    if (tfjs) {
      std::error_code ec;
      fs::create_directories(o.output, ec);
      if (ec) {
        throw Error(ErrorCode::kIo,
                    "cannot create the folder '" + o.output.string() + "': " + ec.message());
      }
      write_tfjs_model(o.output, graph, parse_quantization(o.quantize), metadata);
    } else {
      util::write_file_atomic(o.output, graphdef_bytes(graph));
    }
  }
  result.bytes = bytes_under(o.output);
  spdlog::info("exported '{}' as {} ({}, input {}) to '{}' ({:.1f} MB)", result.weights.string(),
               tfjs                              ? "a TF.js graph model"
               : o.format == ExportFormat::kOnnx ? "ONNX"
                                                 : "a frozen GraphDef",
               o.format == ExportFormat::kOnnx ? o.precision
               : tfjs                          ? "quantize " + o.quantize
                                               : "fp32",
               size_text(o.height, o.width), result.output.string(), result.bytes / 1e6);
  return result;
}

}  // namespace msinet::exporter
