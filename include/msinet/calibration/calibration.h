#pragma once
// The calibration of a saliency map into a probability density over the image's pixels: the
// model the MIT/Tuebingen benchmark fits for classic saliency maps (Kuemmerer, Wallis & Bethge,
// PNAS 2015), its parameters, where they came from, and the small YAML file that holds them.
//
// For a map m of H x W pixels (N = H * W):
//   s      = (m - min m) / (max m - min m)            (0 everywhere for a constant map)
//   s~     = G_sigma * s, sigma = blur * min(H, W) px  (none when sigma < kMinBlurPixels; edges
//            replicated, the kernel cut at ceil(4 sigma) and normalised to sum 1)
//   q(x)   = f(s~(x)) * c(d(x))
//   p(x)   = (1 - w) * q(x) / sum_y q(y) + w / N       (q = 1 everywhere when sum_y q(y) = 0)
// f is piecewise linear through (k / (K - 1), nonlinearity[k]), k = 0..K-1 (K = 20 when
// fitted), c piecewise linear through (j / (J - 1), centre_bias[j]) (J = 12), and d the distance
// of the pixel's centre from the image centre in coordinates normalised to [-1, 1] on each axis,
// divided by sqrt(2): d = sqrt(u^2 + v^2) / sqrt(2), u = 2 (x + 0.5) / W - 1,
// v = 2 (y + 0.5) / H - 1, so d is in [0, 1]. Blur as a fraction of the image and the centre
// bias on normalised coordinates make the parameters independent of the resolution: those fitted
// on downscaled maps apply at the original size. The log-density log p sums (log-sum-exp) to 0.

#include <filesystem>
#include <string>
#include <vector>

namespace msinet::calibration {

/// Below this many pixels the Gaussian blur is left out (its kernel would be a single 1).
inline constexpr double kMinBlurPixels = 0.1;

/// Knots of the nonlinearity and of the centre bias that fitting uses.
inline constexpr int kNonlinearityKnots = 20;
inline constexpr int kCentreBiasKnots = 12;

/// The uniform weight of the identity calibration.
inline constexpr double kIdentityUniformWeight = 1e-3;

/// The file format version write_calibration() writes and read_calibration() accepts.
inline constexpr int kCalibrationVersion = 1;

/// What the parameters were fitted on, and how well they do (bits per fixation over the uniform
/// density). Empty / NaN for the identity calibration.
struct Provenance {
  std::string source;  ///< "dataset osie, weights results/osie/best.msinet" or the folders
  long long train_images = 0;
  long long train_fixations = 0;
  long long val_images = 0;
  long long val_fixations = 0;
  unsigned long long seed = 0;
  int fit_size = 0;  ///< longer side of the maps the fit saw, in pixels
  int steps = 0;     ///< Adam steps
  double train_ig_before = 0, train_ig_after = 0;  ///< on the training split
  double val_ig_before = 0, val_ig_after = 0;      ///< on the validation split (NaN: none)
};

/// The model's parameters (see the top of this header) and their provenance.
struct Calibration {
  double blur = 0;                   ///< Gaussian sigma as a fraction of min(height, width)
  std::vector<double> nonlinearity;  ///< f at map values 0, 1/(K-1), ..., 1; nondecreasing, >= 0
  std::vector<double> centre_bias;   ///< c at distances 0, 1/(J-1), ..., 1; > 0
  double uniform_weight = kIdentityUniformWeight;  ///< w in (0, 1]
  Provenance provenance;
};

/// No blur, f(s) = s (20 knots), a flat centre bias (12 knots), w = 1e-3: the density is the
/// map divided by its sum, mixed with 0.1% of the uniform density, so that its log stays finite
/// (log(1e-3 / N)) where the map is 0.
Calibration identity_calibration();

/// Throws Error(kInput) naming `what` and the offending key unless the parameters are usable:
/// blur in [0, 1], at least 2 knots each, a finite nondecreasing nonlinearity >= 0 that is not
/// all 0, a finite centre bias > 0, and w in (0, 1].
void validate(const Calibration& calibration, const std::string& what);

/// Reads a calibration file; Error(kInput) naming the file and the key when it is not a YAML
/// mapping, has another `version`, or a key is missing, of the wrong type or out of range.
Calibration read_calibration(const std::filesystem::path& path);

/// Writes `calibration` (validated) as YAML, atomically, doubles to 17 significant digits so that
/// reading it back gives the same numbers.
void write_calibration(const std::filesystem::path& path, const Calibration& calibration);

}  // namespace msinet::calibration
