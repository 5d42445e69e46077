#pragma once
// The `train` job: KLD loss, Adam, per-epoch shuffle and validation, best/latest checkpoints,
// history files and loss curve, resume, and a clean stop on Ctrl-C; in one process or as one
// rank of a data-parallel group.

#include <cstdint>
#include <filesystem>
#include <string>

#include <functional>
#include "msinet/data/splits.h"

#include "msinet/fetch/download.h"

namespace msinet::dist {
class Group;
struct GroupConfig;
}  // namespace msinet::dist

namespace msinet::train {

/// Knobs of one run; the CLI fills them from the resolved configuration.
struct TrainOptions {
  std::filesystem::path results_dir = "results";
  std::filesystem::path weights_dir = "weights";
  int epochs = 10;
  int batch_size = 1;
  double learning_rate = 1e-5;
  uint64_t seed = 42;
  std::string init = "auto";  ///< auto | random | vgg16 | salicon | <weights file>
  std::string device = "auto";
  int workers = 2;         ///< threads decoding ahead of the network (validation)
  int loader_workers = 2;  ///< threads decoding training batches ahead of the step (0: none)
  int accumulate = 1;      ///< micro-batches per optimisation step (gradient accumulation)
  std::string mixed_precision = "off";  ///< off | bf16 | fp16 (forward pass; weights stay fp32)
  bool channels_last = false;  ///< the network and its inputs in channels-last memory format
  /// The data-parallel group this process is a rank of; null: train alone. Rank 0 alone writes
  /// checkpoints and history; every rank must pass the same options.
  dist::Group* group = nullptr;
  bool progress = true;
  fetch::DownloadOptions download;  ///< for the VGG16 checkpoint
};

/// What happened.
struct TrainResult {
  int64_t epochs_done = 0;
  double best_valid = -1;
  std::filesystem::path latest;
  std::filesystem::path best;
  std::filesystem::path history_dir;
};

/// Runs (or resumes) training. Throws Error(kInterrupted) after saving `latest` when SIGINT or
/// SIGTERM arrived (on any rank), Error(kDiverged) on a non-finite loss (the last good checkpoint
/// is kept), Error(kDistributed) when another rank fails.
TrainResult run_train(const data::PreparedDataset& data, const TrainOptions& options);

/// Runs training as one rank of the group that `config` describes: joins it (a CUDA rank
/// computes on the GPU of its local rank), calls `load` (the first rank of each node before the
/// others, so that it prepares the dataset and they find it ready), then run_train().
TrainResult run_train_rank(const dist::GroupConfig& config,
                           const std::function<data::PreparedDataset()>& load,
                           TrainOptions options);

/// <results_dir>/history/<name>: the run's loss lists and curve.
std::filesystem::path history_dir(const std::filesystem::path& results_dir,
                                  const std::string& name);

}  // namespace msinet::train
