#pragma once
// Datasets: the seven built-in ones (sizes, published split sizes) and datasets described by a
// user's YAML file.
//
// A user dataset is a small YAML file; relative paths are relative to the file's folder:
//
//   # mydata.yaml: train with `msinet train -d path/to/mydata.yaml`
//   name: mydata              # optional; default: the file name without .yaml
//   stimuli: images           # folder of stimuli (searched recursively; .png/.jpg/.jpeg)
//   saliency: maps            # folder of ground-truth maps, paired with the stimuli by name
//   fixations: fixations      # optional folder of binary fixation maps (not used in training)
//   size: 240x320             # network input size, height x width, both multiples of 8
//                             # (also accepted: [240, 320])
//   # The split, one of two ways:
//   valid_fraction: 0.2       # share of the pairs held out for validation (default 0.2),
//   seed: 42                  # drawn with numpy's RandomState(seed).shuffle (default 42)
//   # or explicit lists of stimuli, as paths relative to the stimuli folder, either inline or
//   # as the name of a text file with one path per line (blank lines and # comments ignored):
//   # valid: [a.jpg, b.jpg]   # the others train
//   # train: train.txt        # the others validate; with both lists, files in neither are unused
//
// Stimuli and maps pair up in sorted order and must have equal names once the extension and
// the suffixes `_fixMap` / `_fixPts` are removed (`img1.jpg` <-> `img1_fixMap.png`).
// An unknown key or a bad value is Error(kConfig) naming the key and the file; a folder or list
// file it names that does not exist is Error(kInput).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace msinet::data {

namespace fs = std::filesystem;

/// How a built-in dataset is split into training and validation sets.
enum class SplitRule {
  kFolders,      ///< the dataset's own train/ and val/ folders (SALICON)
  kPermutation,  ///< P(total): the first n_train indices train, the rest validate
  kPerCategory   ///< P(100) within each block of 100 sorted files (CAT2000)
};

/// A built-in dataset: input size and published split (ref: saliency/config.py, data.py).
struct DatasetInfo {
  std::string name;                          ///< lower-case name used on the command line
  int height = 0;                            ///< network input height
  int width = 0;                             ///< network input width
  int64_t total = 0;                         ///< published number of stimulus/map pairs
  int64_t n_train = 0;                       ///< published training pairs
  int64_t n_valid = 0;                       ///< published validation pairs
  SplitRule rule = SplitRule::kPermutation;  ///< how the split is drawn
};

/// The seven built-in datasets, in the original's order.
const std::vector<DatasetInfo>& builtin_datasets();

/// True when `name` is a built-in dataset.
bool is_builtin_dataset(const std::string& name);

/// The built-in dataset `name`; Error(kUsage) listing the valid names otherwise.
const DatasetInfo& builtin_dataset(const std::string& name);

/// What to train on: a built-in dataset or one described by a user's YAML file.
struct DatasetSpec {
  std::string name;             ///< built-in name, or the user dataset's name
  bool builtin = true;          ///< true for the seven built-in datasets
  int height = 0;               ///< network input height (multiple of 8)
  int width = 0;                ///< network input width (multiple of 8)
  fs::path source;              ///< the YAML file (user datasets)
  fs::path stimuli_dir;         ///< user datasets: stimuli folder (absolute)
  fs::path saliency_dir;        ///< user datasets: saliency map folder (absolute)
  fs::path fixations_dir;       ///< user datasets: optional fixation map folder (absolute or empty)
  double valid_fraction = 0.2;  ///< user datasets: share held out for validation
  uint32_t seed = 42;           ///< user datasets: permutation seed
  std::vector<std::string> train_list;  ///< user datasets: explicit training stimuli
  std::vector<std::string> valid_list;  ///< user datasets: explicit validation stimuli
};

/// The spec of a built-in dataset; Error(kUsage) listing the valid names otherwise.
DatasetSpec builtin_spec(const std::string& name);

/// Reads a user dataset YAML file (format above); Error(kConfig) naming key and file, Error(kInput)
/// for a missing file or folder.
DatasetSpec load_dataset_yaml(const fs::path& yaml_file);

/// True when a `-d` argument names a YAML file (ends in .yaml or .yml).
bool is_dataset_yaml(const std::string& arg);

/// A `-d` argument: a YAML file path (load_dataset_yaml) or a built-in name (builtin_spec).
DatasetSpec dataset_spec_from_arg(const std::string& arg);

/// The folder of dataset `name` under `path`: `path` itself when it already holds stimuli/ and
/// saliency/, else `path/name`.
fs::path resolve_dataset_dir(const fs::path& path, const std::string& name);

}  // namespace msinet::data
