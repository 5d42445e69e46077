#pragma once
// The centre-bias baseline of the Tuebingen protocol: where people look in any image, fitted on
// the training split's fixations, as the MIT/Tuebingen benchmark's centre-bias model is
// (ref: pysaliency/baseline_utils.py BaselineModel, CrossvalMultipleRegularizations).
//
// Model: every training fixation at pixel (x, y) of a w x h fixation map becomes the normalised
// position ((x + 0.5) / w, (y + 0.5) / h). For an image of H x W, the positions are counted in
// a histogram of H x W pixels (pixel floor(u W), floor(v H)), blurred with
// gaussian_filter(sigma_y = b H, sigma_x = b W, 'reflect'), scaled to sum 1 and mixed with the
// uniform density: p = (1 - w) kde + w / (H W). b (bandwidth, in image sides) and w (uniform
// weight) maximise the held-out log-likelihood of a k-fold cross-validation over training
// images, on a kFitGrid x kFitGrid grid of the unit square; see fit().

#include <opencv2/core.hpp>

#include <cstddef>
#include <map>
#include <utility>
#include <vector>

#include "msinet/eval/metrics.h"

namespace msinet::eval {

/// Side of the normalised grid on which the bandwidth and weight are cross-validated.
inline constexpr int kFitGrid = 100;
/// Folds of the cross-validation over training images (fewer when there are fewer images).
inline constexpr int kFitFolds = 10;

/// What fit() chose and how well it did.
struct CentreBiasFit {
  double bandwidth = 0.0;       ///< b, in image sides (sigma_x = b W, sigma_y = b H)
  double uniform_weight = 0.0;  ///< w
  double heldout_bits = 0.0;    ///< held-out log-likelihood, bits per fixation over uniform
  size_t images = 0;            ///< training fixation maps with at least one fixation
  size_t fixations = 0;         ///< fixated pixels in them
  int folds = 0;                ///< cross-validation folds (image i is in fold i mod folds)
};

/// A fitted centre-bias density; log_density() at any image size.
class CentreBias {
 public:
  /// The model with given normalised positions and parameters.
  CentreBias(std::vector<double> u, std::vector<double> v, CentreBiasFit fit);
  /// Fits b and w by cross-validated held-out likelihood over `training` (in the given order;
  /// image i is in fold i mod folds), choosing among kFitBandwidths x kFitWeights (first best
  /// on ties): deterministic. Throws Error(kInput) with fewer than two non-empty maps.
  static CentreBias fit(const std::vector<FixationPoints>& training);
  /// Held-out log-likelihood in bits per fixation over uniform of (b, w) on `training`, with
  /// the folds of fit().
  static double heldout_bits(const std::vector<FixationPoints>& training, double bandwidth,
                             double uniform_weight);
  /// Natural log-density over the pixels of an image of `size` (log-sum-exp 0); cached by size.
  const cv::Mat& log_density(cv::Size size) const;
  /// The parameters and the fit's statistics.
  const CentreBiasFit& parameters() const { return fit_; }

 private:
  std::vector<double> u_, v_;
  CentreBiasFit fit_;
  mutable std::map<std::pair<int, int>, cv::Mat> cache_;
};

/// The bandwidths fit() tries: 10^(-2 + 0.1 k), k = 0..15 (0.01 .. 0.316 image sides).
const std::vector<double>& fit_bandwidths();
/// The uniform weights fit() tries: 10^(-6 + 0.25 k), k = 0..24 (1e-6 .. 1).
const std::vector<double>& fit_weights();

}  // namespace msinet::eval
