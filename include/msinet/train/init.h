#pragma once
// Where a training run starts from, decided before any data is fetched: the latest checkpoint
// it resumes, or the initialisation of a fresh run (`init`), so that a run that cannot start
// says so before a dataset download.

#include <filesystem>
#include <optional>
#include <string>

#include "msinet/checkpoint/container.h"
#include "msinet/train/train.h"

namespace msinet::train {

/// The initial weights of a fresh run, as `init` resolves for a dataset.
struct InitSource {
  enum class Kind { kRandom, kVgg16, kSalicon, kFile };
  Kind kind = Kind::kRandom;
  std::filesystem::path file;   ///< the weights (vgg16: the checkpoint prefix); empty for random
  bool needs_download = false;  ///< vgg16 not yet in the weights folder: fetched at the start
  /// One line for logs and plans: "best SALICON checkpoint 'results/ckpts/best/salicon.msinet'".
  std::string describe() const;
};

/// Resolves `init` (auto: vgg16 for salicon, else salicon) for dataset `dataset`. Throws
/// Error(kWeights) when the weights it names are missing: the best SALICON checkpoint in
/// `results_dir`, or a given file. Reads nothing but file names.
InitSource resolve_init(const std::string& init, const std::string& dataset,
                        const std::filesystem::path& results_dir,
                        const std::filesystem::path& weights_dir);

/// What a run of `dataset` at height x width starts from.
struct StartPlan {
  std::filesystem::path latest;  ///< the checkpoint it resumes from when it exists
  std::filesystem::path best;    ///< where its best checkpoint goes
  std::optional<checkpoint::CheckpointMeta> resumed;  ///< its metadata; empty: a fresh run
  InitSource init;     ///< a fresh run's initialisation (unresolved when resuming)
  std::string device;  ///< the device `device` resolves to ("cpu", "cuda:0")
};

/// The start of a run of `dataset`, checked before any data is fetched: the latest checkpoint
/// (only its metadata is read), or resolve_init(). Throws Error(kUsage) when the latest
/// checkpoint was trained at another size, and resolve_init's errors.
StartPlan plan_start(const TrainOptions& options, const std::string& dataset, int height,
                     int width);

/// Error(kUsage) when the checkpoint `latest` (metadata `meta`) was trained at another size
/// than height x width.
void check_resume_size(const checkpoint::CheckpointMeta& meta, const std::filesystem::path& latest,
                       int height, int width);

}  // namespace msinet::train
