#pragma once
// `msinet export`: a trained or imported network as a model other runtimes run with the same
// maps: ONNX (ONNX Runtime, OpenCV DNN, TensorRT), a TensorFlow.js graph model (browsers; a
// drop-in for the original webcam demo's models) and a frozen TensorFlow GraphDef in the layout
// of the original's published model_<dataset>_cpu.pb. Every format holds the whole pipeline of
// the network: RGB input 0..255, mean subtraction, the 23 convolutions and the per-image min-max
// normalisation, so its output is the map `msinet test --format npy` writes at the input size.

#include <filesystem>
#include <string>

#include "msinet/fetch/download.h"

namespace msinet::exporter {

/// The model formats `export` writes.
enum class ExportFormat { kOnnx, kTfjs, kGraphDef };

/// "onnx", "tfjs" or "graphdef" -> the format; anything else is Error(kUsage).
ExportFormat parse_export_format(const std::string& text);

/// What `msinet export` needs; every field has the CLI's default.
struct ExportOptions {
  ExportFormat format = ExportFormat::kOnnx;
  std::filesystem::path output;     ///< a file (onnx, graphdef) or a folder (tfjs)
  std::filesystem::path weights;    ///< explicit weights; empty = checkpoint::resolve_weights()
  std::string dataset = "salicon";  ///< default weights, and recorded in the metadata
  std::filesystem::path results_dir = "results";
  std::filesystem::path weights_dir = "weights";
  int height = 0;  ///< fixed input size; 0 x 0 = dynamic (multiples of 8)
  int width = 0;
  std::string precision = "fp32";   ///< onnx: fp32 | fp16 (weights and convolutions in fp16)
  std::string quantize = "none";    ///< tfjs: none | uint8 | uint16 | float16
  std::string layout = "nchw";      ///< onnx input/output layout: nchw | nhwc
  fetch::DownloadOptions download;  ///< for the published weights
};

/// What was written.
struct ExportResult {
  std::filesystem::path output;   ///< the model file, or the tfjs folder's model.json
  std::filesystem::path weights;  ///< the weights exported
  int64_t bytes = 0;              ///< bytes written (all files)
};

/// Loads the weights and writes the model. Throws Error(kUsage) for an option the format cannot
/// express (a size that is not a multiple of 8, --quantize outside tfjs, fp16 outside onnx, an
/// output that is the weights file), Error(kWeights) for unusable weights, Error(kIo) on write
/// errors; files are written atomically, so a failed export leaves no half-written model.
ExportResult run_export(const ExportOptions& options);

}  // namespace msinet::exporter
