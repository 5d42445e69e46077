// Which reader a weight source needs, and the entry points that dispatch to it.
#include <fstream>
#include <regex>
#include <string>
#include <system_error>

#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/weights/readers.h"
#include "msinet/weights/tf_proto.h"
#include "reader_util.h"

namespace msinet::weights {

std::string format_name(WeightFormat format) {
  switch (format) {
    case WeightFormat::kTfjs:
      return "tfjs";
    case WeightFormat::kFrozenGraph:
      return "frozen-graph";
    case WeightFormat::kSavedModel:
      return "saved-model";
    case WeightFormat::kCheckpoint:
      return "checkpoint";
    case WeightFormat::kOnnx:
      return "onnx";
  }
  return "unknown";
}

WeightFormat detect_weight_format(const fs::path& src) {
  std::error_code ec;
  const std::string s = src.string();
  if (fs::is_directory(src, ec)) {
    if (fs::is_regular_file(src / "saved_model.pb", ec)) return WeightFormat::kSavedModel;
    if (fs::is_regular_file(src / "model.json", ec)) return WeightFormat::kTfjs;
    try {
      checkpoint_prefix(src);
      return WeightFormat::kCheckpoint;
    } catch (const Error&) {
      for (const auto& e : fs::directory_iterator(src, ec)) {
        if (e.path().extension() == ".index") throw;
      }
      throw Error(ErrorCode::kWeights,
                  "folder '" + s +
                      "' holds no weights: expected saved_model.pb, model.json, or "
                      "a checkpoint (.index + .data files)");
    }
  }
  if (fs::is_regular_file(src, ec)) {
    const std::string ext = util::to_lower(src.extension().string());
    if (ext == ".json") return WeightFormat::kTfjs;
    if (ext == ".onnx") return WeightFormat::kOnnx;
    if (ext == ".pb") {
      if (src.filename() == "saved_model.pb") return WeightFormat::kSavedModel;
      std::ifstream in(src, std::ios::binary);
      std::string head(16, '\0');
      in.read(head.data(), static_cast<std::streamsize>(head.size()));
      head.resize(static_cast<size_t>(in.gcount()));
      return looks_like_saved_model(head) ? WeightFormat::kSavedModel : WeightFormat::kFrozenGraph;
    }
    if (ext == ".index" || std::regex_match(s, detail::data_file_pattern()))
      return WeightFormat::kCheckpoint;
    throw Error(ErrorCode::kWeights, "cannot tell the weight format of '" + s +
                                         "': expected .json (TF.js), .pb (GraphDef or "
                                         "SavedModel), .onnx, or a checkpoint .index");
  }
  if (fs::is_regular_file(s + ".index", ec)) return WeightFormat::kCheckpoint;
  throw Error(ErrorCode::kWeights, "weights '" + s + "' not found");
}

WeightFile read_weight_file(const fs::path& src) {
  switch (detect_weight_format(src)) {
    case WeightFormat::kTfjs:
      return read_tfjs(fs::is_directory(src) ? src / "model.json" : src);
    case WeightFormat::kFrozenGraph:
      return read_frozen_graph(src);
    case WeightFormat::kSavedModel:
      return read_saved_model(fs::is_directory(src) ? src : src.parent_path());
    case WeightFormat::kCheckpoint:
      return read_checkpoint(src);
    case WeightFormat::kOnnx:
      return read_onnx(src);
  }
  throw Error(ErrorCode::kInternal, "unhandled weight format");
}

NamedTensors read_weights(const fs::path& src) { return read_weight_file(src).tensors; }

}  // namespace msinet::weights
