#pragma once
// Checking one map against its stimulus for a benchmark, and converting it to the format the
// benchmark takes.

#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "msinet/data/image.h"

namespace msinet::submit {

namespace fs = std::filesystem;

/// What a benchmark takes for each stimulus.
enum class MapTarget {
  kGrayJpeg,       ///< a grayscale JPEG saliency map (MIT300, CAT2000)
  kLogDensityNpy,  ///< a 2-D float .npy log-density (the MIT/Tuebingen benchmark)
};

/// Largest distance of a log-density's log-sum-exp from 0 that is accepted.
inline constexpr double kLogSumExpTolerance = 1e-3;

/// What has to be done to a map that passed its checks.
enum class Conversion {
  kCopy,       ///< the file goes in as it is
  kToJpeg,     ///< a .png or .npy map is encoded as a grayscale JPEG (quality 100)
  kRewriteNpy  ///< a .npy log-density is re-encoded as a 2-D C-order array (values unchanged)
};

/// The outcome of check_map.
struct MapCheck {
  std::vector<std::string> problems;  ///< every problem of the map; empty when it passes
  Conversion conversion = Conversion::kCopy;
};

/// log(sum(exp(m))) of a CV_32FC1 or CV_64FC1 map, computed stably in double.
double log_sum_exp(const cv::Mat& m);

/// Checks `map` for `target` against the stimulus size: readable, the format the benchmark
/// takes (or one converted without losing its meaning), of the stimulus's size, finite, for a
/// log-density normalised. Never throws for a bad map; the problems name the file.
MapCheck check_map(const fs::path& map, data::Size2 stimulus, MapTarget target);

/// The bytes that go into the package for a map that passed check_map with `conversion`
/// kToJpeg or kRewriteNpy.
std::string converted_bytes(const fs::path& map, Conversion conversion);

/// The file extension a map has in the package: ".jpg" or ".npy".
std::string package_extension(MapTarget target);

}  // namespace msinet::submit
