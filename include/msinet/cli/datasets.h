#pragma once
// Turning `-d DATA` (a built-in name or a dataset YAML file) and `--size` into a prepared
// dataset.

#include <string>

#include "msinet/config/config.h"
#include "msinet/data/dataset.h"
#include "msinet/data/recipes.h"
#include "msinet/data/splits.h"

namespace msinet::cli {

/// The dataset a command works on: its spec, with the `size` key (which overrides the
/// dataset's own size) applied.
data::DatasetSpec choose_dataset(const std::string& dataset, const config::Config& cfg);

/// Download and unpacking settings from the configuration (size caps, URL overrides, mirror).
data::PrepareOptions prepare_options(const config::Config& cfg);

/// The folder `-p PATH` names for the dataset folders: `path`, or data_dir when it is empty.
std::filesystem::path data_root(const std::string& path, const config::Config& cfg);

/// The folder of `spec` (built-in: `<root>/<name>`, or root itself when it is the dataset
/// folder; a user dataset: its stimuli folder).
std::filesystem::path dataset_folder(const data::DatasetSpec& spec, const std::string& path,
                                     const config::Config& cfg);

/// Error(kUsage) when `root`, about to receive a download of built-in dataset `name` by
/// `command`, holds images (at its top level or below) but no dataset: a folder of photos
/// given where a data folder was meant. The configured data_dir is never refused.
void refuse_image_folder(const std::filesystem::path& root, const std::string& name,
                         const std::string& command, const config::Config& cfg);

/// Prepares (downloading when missing) and splits the dataset. `path` is the folder holding the
/// dataset folder (default: data_dir), or the dataset folder itself.
data::PreparedDataset load_dataset(const data::DatasetSpec& spec, const std::string& path,
                                   const config::Config& cfg);

}  // namespace msinet::cli
