#pragma once
// The `train` job: KLD loss, Adam, per-epoch shuffle and validation, best/latest checkpoints,
// history files and loss curve, resume, and a clean stop on Ctrl-C.

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace msinet::train {

/// (stimulus, saliency map) pairs of one split.
using Pairs = std::vector<std::pair<std::filesystem::path, std::filesystem::path>>;

/// The data a run trains on, already split.
struct TrainData {
  std::string name;  ///< names the checkpoints and the history folder
  int height = 0;    ///< input size (multiples of 8)
  int width = 0;
  Pairs train;
  Pairs valid;
};

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
  bool progress = true;
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
TrainResult run_train(const TrainData& data, const TrainOptions& options);

/// Paths of the run's files under `results_dir`.
std::filesystem::path latest_checkpoint_path(const std::filesystem::path& results_dir,
                                             const std::string& name);
std::filesystem::path best_checkpoint_path(const std::filesystem::path& results_dir,
                                           const std::string& name);
std::filesystem::path history_dir(const std::filesystem::path& results_dir,
                                  const std::string& name);

}  // namespace msinet::train
