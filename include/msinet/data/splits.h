#pragma once
// Training/validation splits exactly as the original draws them (reference semantics, sec. 4).

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "msinet/data/dataset.h"

namespace msinet::data {

/// numpy's legacy `np.random.RandomState(seed).shuffle(np.arange(n))`, bit for bit.
std::vector<int64_t> legacy_permutation(int64_t n, uint32_t seed = 42);

/// A stimulus and its ground-truth map.
using FilePair = std::pair<fs::path, fs::path>;

/// The files a run trains and validates on.
struct Split {
  std::vector<FilePair> train;        ///< (stimulus, saliency map), in the original's order
  std::vector<FilePair> valid;        ///< (stimulus, saliency map), in the original's order
  std::vector<std::string> warnings;  ///< also logged: e.g. a subset of a built-in dataset
};

/// A dataset ready to train or score on: its split, its network input size, and the folders its
/// maps came from.
struct PreparedDataset {
  std::string name;  ///< names checkpoints, histories and reports
  int height = 0;    ///< network input size (multiples of 8)
  int width = 0;
  Split split;
  fs::path saliency_dir;   ///< root of the ground-truth maps
  fs::path fixations_dir;  ///< root of the fixation maps; may not exist
};

/// The name two paired files share: the file name without extension, with every `_fixMap` and
/// `_fixPts` removed.
std::string pairing_stem(const fs::path& path);

/// Pairs two sorted lists. Error(kInput) when the counts differ or a pair's stems differ, naming
/// the first mismatch.
std::vector<FilePair> pair_files(const std::vector<fs::path>& stimuli,
                                 const std::vector<fs::path>& maps);

/// The split of a dataset. Built-in datasets read `dataset_dir`/stimuli and /saliency (SALICON:
/// their train/ and val/ subfolders); user datasets read their own folders and ignore
/// `dataset_dir`. A count that differs from a built-in dataset's published size only warns.
/// Error(kInput) for missing folders, no images, or pairs that do not match.
Split make_split(const DatasetSpec& spec, const fs::path& dataset_dir);

/// Writes the validation stimuli of `split`, one path per line, atomically to `file`.
void write_validation_list(const Split& split, const fs::path& file);

}  // namespace msinet::data
