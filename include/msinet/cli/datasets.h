#pragma once
// Turning `-d DATA` (a built-in name or a dataset YAML file) and `--size` into a dataset choice.

#include <filesystem>
#include <string>

#include "msinet/config/config.h"
#include "msinet/data/recipes.h"
#include "msinet/train/train.h"

namespace msinet::cli {

/// The dataset a command works on.
struct DatasetChoice {
  std::string name;            ///< built-in name, or the YAML file's stem
  std::filesystem::path yaml;  ///< set for user datasets
  int height = 0;              ///< input size after --size / size key
  int width = 0;
};

/// Resolves `-d` and the `size` key (which overrides the dataset's own size).
DatasetChoice choose_dataset(const std::string& dataset, const config::Config& cfg);

/// Download and unpacking settings from the configuration (size caps, URL overrides).
data::PrepareOptions prepare_options(const config::Config& cfg);

/// A dataset ready to train or score on: its split and the folders its maps came from.
struct PreparedDataset {
  train::TrainData data;
  std::filesystem::path saliency_dir;   ///< root of the ground-truth maps
  std::filesystem::path fixations_dir;  ///< root of the fixation maps; may not exist
};

/// Prepares (downloading when missing) and splits the dataset for training. `path` is the
/// folder holding the dataset folder (default: data_dir), or the dataset folder itself.
PreparedDataset load_train_data(const DatasetChoice& choice, const std::string& path,
                                const config::Config& cfg);

}  // namespace msinet::cli
