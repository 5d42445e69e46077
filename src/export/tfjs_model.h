#pragma once
// A TfGraph as a TensorFlow.js graph model: model.json (the GraphDef as JSON under
// "modelTopology", a signature, user metadata, the weights manifest) and its weight shards.

#include <filesystem>
#include <map>
#include <string>

#include "msinet/weights/writers.h"
#include "tf_graph.h"

namespace msinet::exporter {

/// Writes `dir`/model.json and `dir`/group1-shard*of*.bin. `metadata` becomes the model's
/// userDefinedMetadata (tf.GraphModel.metadata in TF.js). Float weights are quantized as
/// `quantization` says; int32 constants never are.
void write_tfjs_model(const std::filesystem::path& dir, const TfGraph& graph,
                      weights::TfjsQuantization quantization,
                      const std::map<std::string, std::string>& metadata);

}  // namespace msinet::exporter
