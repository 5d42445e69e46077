#pragma once
// The `train` job: KLD loss, Adam, per-epoch shuffle and validation, best/latest checkpoints,
// history files and loss curve, resume, and a clean stop on Ctrl-C.

#include <cstdint>
#include <filesystem>
#include <string>

#include "msinet/data/splits.h"
#include "msinet/fetch/download.h"

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
  int workers = 2;  ///< threads decoding ahead of the network (validation)
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
/// SIGTERM arrived, Error(kDiverged) on a non-finite loss (the last good checkpoint is kept).
TrainResult run_train(const data::PreparedDataset& data, const TrainOptions& options);

/// <results_dir>/history/<name>: the run's loss lists and curve.
std::filesystem::path history_dir(const std::filesystem::path& results_dir,
                                  const std::string& name);

}  // namespace msinet::train
