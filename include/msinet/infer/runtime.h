#pragma once
// Where and how the network runs: device choice, CPU threads, and loading any weights file
// (native checkpoint or a TensorFlow form) into a model.

#include <torch/types.h>

#include <filesystem>
#include <string>

#include "msinet/infer/threads.h"
#include "msinet/model/msinet.h"

namespace msinet::infer {

/// "auto" (CUDA when available), "cpu" or "cuda"; "cuda" without CUDA is Error(kUsage).
torch::Device resolve_device(const std::string& name);

/// Loads weights into `net`: an msinet checkpoint, or any TensorFlow form that
/// weights::read_weights understands (frozen GraphDef, SavedModel, TF.js, checkpoint V2).
void load_weights_file(model::MSINet& net, const std::filesystem::path& path);

}  // namespace msinet::infer
