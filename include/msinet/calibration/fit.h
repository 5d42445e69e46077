#pragma once
// Fitting a calibration (calibration.h) to fixations: maps and fixations downscaled so that the
// longer side is at most FitOptions::fit_size, then Adam on the mean log-likelihood of every
// fixation, through LibTorch's autograd.

#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "msinet/calibration/calibration.h"

namespace msinet::calibration {

/// One image at the fitting resolution: its map and where its fixations fall.
struct FitSample {
  std::string name;
  cv::Mat map;  ///< CV_32FC1, min-max normalised to [0, 1], downscaled (INTER_AREA)
  std::vector<int32_t> fixations;  ///< row-major pixel indices into `map`, one per fixation
};

/// The sample of a map (any 1-channel depth) and its binary fixation map (nonzero = one
/// fixation; any size: fixations are carried over by their pixel centres), downscaled so that the
/// longer side is at most `fit_size` (never upscaled). Error(kInput) naming `name` for an empty,
/// non-finite or multi-channel map; a fixation map without fixations gives no fixations.
FitSample make_sample(const std::string& name, const cv::Mat& map, const cv::Mat& fixation_map,
                      int fit_size);

/// The samples of prediction files in `pred_dir` matched to fixation maps in `fixations_dir` by
/// key (eval/evaluate.h: stem without _fixMap/_fixPts). Error(kInput) for a missing folder, no
/// map files, a fixation map without a prediction or the reverse (every one named, up to 20), or
/// no fixations at all.
std::vector<FitSample> read_samples(const std::filesystem::path& pred_dir,
                                    const std::filesystem::path& fixations_dir, int fit_size);

/// How to fit.
struct FitOptions {
  uint64_t seed = 0;            ///< order of the mini-batches
  int steps = 300;              ///< Adam steps
  double learning_rate = 0.05;  ///< cosine-decayed to 0 over the steps
  int batch_images = 64;        ///< images per step (all when fewer)
  int fit_size = 128;           ///< longer side of the maps, in pixels (make_sample)
};

/// Mean log-likelihood of the samples' fixations under `calibration`, in nats per fixation,
/// at the samples' resolution. NaN when there are no fixations.
double mean_log_likelihood(const std::vector<FitSample>& samples, const Calibration& calibration);

/// Information gain over the uniform density, in bits per fixation: the mean over all fixations
/// of log2(N p(x)), N the pixels of the fixation's image. NaN when there are no fixations.
double information_gain(const std::vector<FitSample>& samples, const Calibration& calibration);

/// Fits the model to `train` by maximising the mean log-likelihood of its fixations, starting at
/// the identity calibration; reproducible bit for bit for a seed (and thread count). Fills the
/// provenance's counts, seed, fit size, steps and information gains (val_*: NaN when `val` has
/// no fixations); `source` is left to the caller. Error(kInput) when `train` has no fixations.
Calibration fit_calibration(const std::vector<FitSample>& train, const std::vector<FitSample>& val,
                            const FitOptions& options);

}  // namespace msinet::calibration
