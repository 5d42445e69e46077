#pragma once
// The Tuebingen protocol: the MIT/Tuebingen benchmark's scoring of a probabilistic model (a
// fixation density), with each metric computed on the saliency map that is optimal for it given
// the density (Kuemmerer, Wallis & Bethge, "Saliency Benchmarking Made Easy", ECCV 2018;
// ref: saliency-benchmarking/saliency_benchmarking/saliency_map_provider.py, evaluation.py).
//
// For a log-density L of an H x W image (log-sum-exp 0) and its fixated pixels F:
//   ll   = mean over F of (L + log(H W)) / log 2: bits per fixation over the uniform density
//   ig   = mean over F of (L - C) / log 2, C the centre-bias log-density (centre_bias.h)
//   auc  = AUC of exp(L) at F against all pixels (ties count 1/2)
//   sauc = AUC of L - S at F against the other images' fixations, S the average density of the
//          model's predictions for the other images (see TuebingenScorer)
//   nss  = mean over F of (p - mean(p)) / std(p), p = exp(L), std over all pixels with N
//   cc   = Pearson correlation of blur(p) and E
//   kld  = sum of E' log(eps + E' / (P' + eps)), P', E' = blur(p), E scaled to sum 1
//   sim  = sum of min(P', E')
// blur = gaussian_filter(sigma = kernel size, 'constant'); E, the empirical saliency map, =
// gaussian_filter(fixation map, sigma = kernel size, 'reflect'); eps = 2.2204e-16. Every value
// is per image; a run's mean is over images.

#include <opencv2/core.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "msinet/eval/centre_bias.h"
#include "msinet/eval/evaluate.h"
#include "msinet/eval/metrics.h"

namespace msinet::eval {

/// The Tuebingen metrics, in report order: ll, ig, auc, sauc, nss, cc, kld, sim.
const std::vector<std::string>& tuebingen_metrics();

/// Default blur sigma in pixels of the empirical map and of the CC/KLD/SIM maps: MIT300's and
/// MIT1003's in the benchmark (CAT2000 uses 40, COCO-Freeview 30).
inline constexpr double kTuebingenKernelSize = 24.0;
/// The benchmark's KLD regularisation (it writes 2.2204e-16, not MATLAB's full eps).
inline constexpr double kBenchmarkEps = 2.2204e-16;
/// Side of the square grid on which sAUC's average prediction is computed (pysaliency default).
inline constexpr int kShuffledComputeSide = 500;
/// How far a density's sum from 1 (a log-density's log-sum-exp from 0) may be.
inline constexpr double kNormalisationTolerance = 1e-3;

/// Reason of the sAUC value score() leaves for finish_sauc().
inline constexpr const char* kPendingScore = "pending";

/// The metrics of a run: `wanted` (names from tuebingen_metrics(), any case) in report order,
/// or all of them when empty. Throws Error(kUsage) naming an unknown metric and the choices.
std::vector<std::string> tuebingen_metric_selection(const std::vector<std::string>& wanted);

/// The centre bias fitted on options.train_fixation_files, or on the maps in
/// options.train_fixations_dir. Throws Error(kUsage) when neither is given, Error(kInput) when
/// the folder is missing or its maps unreadable or too few.
CentreBias fit_training_centre_bias(const EvalOptions& options);

/// How the protocol resizes a prediction of another size (see resize_log_density()).
inline constexpr const char* kTuebingenResize =
    "log-density zoomed bilinearly (scipy.ndimage.zoom order 1) and renormalised, as "
    "pysaliency's ResizingModel";

/// One line saying what the fitted centre bias is (for reports).
std::string describe(const CentreBiasFit& fit);

/// The centre bias' parameters and statistics, and the blur sigma, as reports list them.
std::vector<std::pair<std::string, double>> report_parameters(const CentreBiasFit& fit,
                                                              double kernel_size);

/// Throws Error(kInput) naming (up to five of) the `files` that are not .npy: the protocol
/// reads densities and log-densities only from .npy.
void require_npy_predictions(const std::vector<fs::path>& files);

/// The log-density of a prediction: a map with a negative value is a log-density, whose
/// log-sum-exp must be within kNormalisationTolerance of 0; otherwise a density, whose sum must
/// be within kNormalisationTolerance of 1. Renormalised exactly. Throws Error(kInput) naming
/// `name` and the sum found otherwise.
cv::Mat as_log_density(const cv::Mat& prediction, const std::string& name);

/// A log-density resized as pysaliency's ResizingModel does: zoom_linear() of the
/// log-density, then renormalised.
cv::Mat resize_log_density(const cv::Mat& log_density, cv::Size size);

/// Area under the ROC curve of `positives` against `negatives`: mean over positives of the
/// fraction of negatives below it, ties counted 1/2 (pysaliency's general_rocs_per_positive).
double ranked_auc(const std::vector<double>& positives, std::vector<double> negatives);

/// The pixels (row-major indices into an image of `size`) of other images' fixations as
/// pysaliency's shuffled nonfixations: x' = int(x * W / w), y' = int(y * H / h), every fixation
/// of every other image, duplicates kept.
std::vector<int> shuffled_nonfixations(const std::vector<const FixationPoints*>& others,
                                       cv::Size size);

/// The empirical saliency map: the fixation map blurred with gaussian_filter(sigma, 'reflect').
cv::Mat empirical_saliency_map(const FixationPoints& points, double sigma);

/// The metric-specific map of CC, KLD and SIM: exp(L) blurred with gaussian_filter(sigma,
/// 'constant').
cv::Mat blurred_density(const cv::Mat& log_density, double sigma);

/// ll (see the top of this header).
Score tuebingen_ll(const cv::Mat& log_density, const FixationPoints& points);
/// ig against `baseline` (a log-density of the same size).
Score tuebingen_ig(const cv::Mat& log_density, const cv::Mat& baseline,
                   const FixationPoints& points);
/// auc: exp(L) at the fixations against every pixel.
Score tuebingen_auc(const cv::Mat& log_density, const FixationPoints& points);
/// nss on exp(L), population standard deviation (as pysaliency's NSS).
Score tuebingen_nss(const cv::Mat& log_density, const FixationPoints& points);
/// pysaliency's CC: 0 when only `a` is constant, undefined when `b` is.
Score tuebingen_cc(const cv::Mat& a, const cv::Mat& b);
/// The benchmark's KLD of `model` from `empirical` (maps shifted to >= 0, scaled to sum 1).
Score tuebingen_kld(const cv::Mat& model, const cv::Mat& empirical);
/// pysaliency's SIM (maps shifted to >= 0, scaled to sum 1; sum of the minimum).
Score tuebingen_sim(const cv::Mat& model, const cv::Mat& empirical);

/// Scores log-densities one image at a time. sAUC needs every image's prediction (its
/// baseline S, as pysaliency's ShuffledBaselineModel, is the average of the densities predicted
/// for the other images: each log-density is zoomed to a kShuffledComputeSide square and
/// renormalised; S = log((N avg - own) / (N - 1)) there, zoomed back to the image's size), so
/// score() keeps L and the image's own zoomed density at the points sAUC reads, and
/// finish_sauc() computes it once all N images are in.
class TuebingenScorer {
 public:
  /// `metrics`: a subset of tuebingen_metrics(); `kernel_size`: the blur sigma in pixels.
  TuebingenScorer(std::vector<std::string> metrics, CentreBias baseline, double kernel_size);
  ~TuebingenScorer();
  TuebingenScorer(const TuebingenScorer&) = delete;
  TuebingenScorer& operator=(const TuebingenScorer&) = delete;

  /// The centre-bias baseline of ig.
  const CentreBias& baseline() const { return baseline_; }
  /// Scores `log_density` (of points.size) for one image; `negatives` are its shuffled
  /// nonfixations (shuffled_nonfixations()). Values align with the metrics; sAUC's is left
  /// undefined ("pending") for finish_sauc().
  std::vector<Score> score(const cv::Mat& log_density, const FixationPoints& points,
                           const std::vector<int>& negatives);
  /// sAUC of every image score() saw, in that order (undefined for fewer than two images).
  std::vector<Score> finish_sauc();

 private:
  struct Pending;
  std::vector<std::string> metrics_;
  CentreBias baseline_;
  double kernel_size_;
  bool wants_sauc_ = false;
  cv::Mat density_sum_;  // sum of the zoomed densities
  std::vector<Pending> pending_;
};

}  // namespace msinet::eval
