#pragma once
// Getting weights into a network: an msinet checkpoint or any TensorFlow form, the published
// weights (downloaded on first use and imported once into the weights folder), and where a
// training run keeps its checkpoints.

#include <filesystem>
#include <string>

#include "msinet/fetch/download.h"
#include "msinet/model/msinet.h"

namespace msinet::checkpoint {

/// <results_dir>/ckpts/latest/<name>.msinet: the state a training run resumes from.
std::filesystem::path latest_checkpoint_path(const std::filesystem::path& results_dir,
                                             const std::string& name);

/// <results_dir>/ckpts/best/<name>.msinet: the weights with the lowest validation loss.
std::filesystem::path best_checkpoint_path(const std::filesystem::path& results_dir,
                                           const std::string& name);

/// Loads weights into `net`: an msinet checkpoint, or any form that weights::read_weights
/// understands (frozen GraphDef, SavedModel, TF.js, checkpoint V2, ONNX), with TensorFlow names
/// or parameter names (checkpoint/tf_names.h).
void load_weights_file(model::MSINet& net, const std::filesystem::path& path);

/// Imports any TensorFlow form (or an msinet checkpoint) into a native checkpoint at `out`.
void import_weights(const std::filesystem::path& src, const std::filesystem::path& out);

/// <weights_dir>/<dataset>.msinet, importing the published model for `dataset` first when it is
/// missing (downloaded with `download`, its mirror included). A failed download is
/// Error(kNetwork) saying where to put the file by hand.
std::filesystem::path ensure_published_weights(const std::string& dataset,
                                               const std::filesystem::path& weights_dir,
                                               const fetch::DownloadOptions& download = {});

/// The weights used for `dataset` when none are given: the best checkpoint trained here
/// (best_checkpoint_path), else the published model (ensure_published_weights).
std::filesystem::path resolve_weights(const std::string& dataset,
                                      const std::filesystem::path& results_dir,
                                      const std::filesystem::path& weights_dir,
                                      const fetch::DownloadOptions& download = {});

}  // namespace msinet::checkpoint
