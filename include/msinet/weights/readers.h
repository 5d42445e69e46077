#pragma once
// Readers for TensorFlow and TensorFlow.js weight files, without TensorFlow: TF.js weight
// manifests, frozen GraphDefs, SavedModel folders and checkpoint V2 tensor bundles. Every
// reader is strict: a truncated or corrupt file, a wrong magic, a CRC mismatch, an offset
// past the end or an unknown dtype is Error(kWeights) naming the file and the tensor.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "msinet/weights/float_tensor.h"

namespace msinet::weights {

namespace fs = std::filesystem;

/// The four forms of published TensorFlow weights, and ONNX models.
enum class WeightFormat { kTfjs, kFrozenGraph, kSavedModel, kCheckpoint, kOnnx };

/// "tfjs", "frozen-graph", "saved-model", "checkpoint" or "onnx".
std::string format_name(WeightFormat format);

/// What a reader found in one weight source.
struct WeightFile {
  WeightFormat format = WeightFormat::kCheckpoint;
  fs::path source;                            ///< the file or folder that was read
  NamedTensors tensors;                       ///< every numeric tensor, as float32
  std::map<std::string, std::string> dtypes;  ///< stored type per tensor: "float32", "int32",
                                              ///< "float16", "uint8-quantized float32", ...
  std::vector<std::string> skipped;           ///< non-numeric entries, as "name (dtype)"
};

/// Which reader `src` needs: a folder with saved_model.pb or model.json, a *.json file, a
/// *.pb file (GraphDef, or a SavedModel by content), a *.onnx file, or a checkpoint (prefix,
/// *.index,
/// *.data-*, or a folder with a `checkpoint` state file or a single *.index).
/// Throws Error(kWeights) naming `src` when it is none of these.
WeightFormat detect_weight_format(const fs::path& src);

/// Reads `src` in whichever form detect_weight_format finds.
WeightFile read_weight_file(const fs::path& src);

/// The tensors of `src` in whichever form detect_weight_format finds.
NamedTensors read_weights(const fs::path& src);

/// A TF.js `model.json` (its `weightsManifest`) or a bare `*-weights_manifest.json`: shards of
/// each group concatenated in `paths` order (relative to the json file, with or without an
/// extension), entries in manifest order; float32, int32, float16, bool, and quantized
/// uint8/uint16 (`q * scale + min`) or float16. The shard bytes must match the manifest exactly.
WeightFile read_tfjs(const fs::path& json_path);

/// The Const nodes of a frozen GraphDef (top-level and function library; a name that several
/// functions hold with different values is kept once per function as "<function>/<name>").
/// A SavedModel .pb passed here contributes its graph's Consts only.
WeightFile read_frozen_graph(const fs::path& pb_path);

/// A SavedModel folder: Const nodes of the saved_model.pb graph (including its function
/// library) plus the variables/ bundle when present; bundle values take precedence.
WeightFile read_saved_model(const fs::path& dir);

/// An ONNX model: its graph initializers (float32, float16 and int64), named and shaped as
/// stored (for MSI-Net exported by msinet: parameter names such as "encoder.conv1_1.weight",
/// kernels OIHW). Initializers kept in external files are refused.
WeightFile read_onnx(const fs::path& path);

/// A checkpoint V2 tensor bundle: `<prefix>.index` and `<prefix>.data-NNNNN-of-NNNNN`.
/// `path` may be the prefix, the .index or a .data file, or a folder (see detect_weight_format).
/// DT_STRING entries (the object graph) are listed in `skipped`.
WeightFile read_checkpoint(const fs::path& path);

/// The prefix a checkpoint path stands for (see read_checkpoint); throws Error(kWeights).
fs::path checkpoint_prefix(const fs::path& path);

}  // namespace msinet::weights
