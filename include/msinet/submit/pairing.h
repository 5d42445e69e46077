#pragma once
// Pairing the maps of a submission with the benchmark's stimuli by name, folder by folder.

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace msinet::submit {

namespace fs = std::filesystem;

/// How a benchmark's stimuli are laid out.
enum class Layout {
  kFlat,        ///< one folder of images (MIT300)
  kCategories,  ///< one folder per category, the images inside (CAT2000's test set)
  kEither,      ///< whichever of the two the stimuli folder has (the MIT/Tuebingen benchmark)
};

/// One stimulus and the map that goes with it.
struct Pair {
  fs::path stimulus;  ///< the stimulus file
  fs::path map;       ///< its map file in the maps folder
  std::string stem;   ///< the stimulus's path below the stimuli folder without extension: "i1",
                      ///< "Action/001"
};

/// What pair_maps found: the pairs, and every problem (empty when all is well).
struct Pairing {
  std::vector<Pair> pairs;            ///< in byte order of the stimuli's paths
  std::vector<std::string> problems;  ///< one line each, naming the files
  bool categories = false;            ///< the stimuli were in category folders
};

/// The file extensions a map may have: .jpg, .jpeg, .png, .npy (any case).
bool is_map_file(const fs::path& path);

/// Pairs each stimulus (.jpg, .jpeg, .png below `stimuli_dir`, in the folders `layout` allows)
/// with the one file of `maps_dir` at the same relative path and stem. Lists as problems: a
/// stimulus without a map, a stimulus with two (x.jpg and x.npy), a map or other file without a
/// stimulus, a category folder missing from the maps (once, with its count), stimuli outside the
/// layout's folders, two stimuli of one stem, no stimuli, and more than `max_stimuli` of them.
Pairing pair_maps(const fs::path& stimuli_dir, const fs::path& maps_dir, Layout layout,
                  size_t max_stimuli);

/// The stems of `stems` that the MIT/Tuebingen loader could not tell apart: it takes, for each
/// stimulus, the one file whose stem ends with the stimulus's stem, so "11" is ambiguous where "1"
/// is a stimulus too. One line per ambiguous stimulus.
std::vector<std::string> suffix_ambiguities(const std::vector<std::string>& stems);

}  // namespace msinet::submit
