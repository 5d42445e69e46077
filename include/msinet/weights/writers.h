#pragma once
// Writers for the TensorFlow weight forms the readers accept: TF.js weights (float32 or
// quantized), a frozen GraphDef of Const nodes, and a checkpoint V2 tensor bundle. All files
// are written atomically.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "msinet/weights/float_tensor.h"
#include "msinet/weights/table.h"

namespace msinet::weights {

/// How TF.js weights are stored.
enum class TfjsQuantization { kNone, kUint8, kUint16, kFloat16 };

/// An int32 tensor, row-major (graph constants such as axes and sizes).
struct Int32Tensor {
  std::vector<int64_t> shape;
  std::vector<int32_t> values;
};

/// Layout of a TF.js export.
struct TfjsWriteOptions {
  TfjsQuantization quantization = TfjsQuantization::kNone;
  size_t shard_bytes = size_t{4} << 20;       ///< largest shard (TF.js converter default: 4 MiB)
  std::string shard_prefix = "group1-shard";  ///< shard i of n is "<prefix><i>of<n><extension>"
  std::string shard_extension = ".bin";       ///< "" writes extensionless shards
  bool bare_manifest = false;                 ///< write the weightsManifest array alone
  /// int32 tensors, stored after the float ones and never quantized.
  std::map<std::string, Int32Tensor> int32_tensors;
  /// The text of a JSON object whose members are added to model.json before the manifest
  /// ("modelTopology", "signature", "userDefinedMetadata", ...); empty adds none.
  std::string model_members;
};

/// Writes `tensors` (in name order, one weight group; then options.int32_tensors) as `json_path` (a
/// model.json with a `weightsManifest`, or a bare manifest) plus its shards beside it. uint8/uint16
/// quantization maps [min, max] of each tensor affinely onto the integer range (value = q * scale +
/// min). Throws Error(kWeights) for a non-finite value under quantization or a tensor name that is
/// not valid UTF-8, Error(kIo) on write errors.
void write_tfjs(const std::filesystem::path& json_path, const NamedTensors& tensors,
                const TfjsWriteOptions& options = {});

/// Writes `tensors` as a GraphDef of float32 Const nodes (float_val for one element,
/// tensor_content otherwise), the form of the published model_<dataset>_<device>.pb files.
void write_frozen_graph(const std::filesystem::path& pb_path, const NamedTensors& tensors);

/// Writes `tensors` as a checkpoint V2 bundle: `<prefix>.index` and
/// `<prefix>.data-00000-of-00001`, with CRC32C per tensor.
void write_checkpoint(const std::filesystem::path& prefix, const NamedTensors& tensors,
                      const TableOptions& table_options = {});

}  // namespace msinet::weights
