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

/// Prepares (downloading when missing) and splits the dataset. `path` is the folder holding the
/// dataset folder (default: data_dir), or the dataset folder itself.
data::PreparedDataset load_dataset(const data::DatasetSpec& spec, const std::string& path,
                                   const config::Config& cfg);

}  // namespace msinet::cli
