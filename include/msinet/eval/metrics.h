#pragma once
// Saliency benchmark metrics, defined as in the MIT saliency benchmark's reference code.
// Every map is a single-channel cv::Mat of doubles (CV_64FC1); a fixation map counts a pixel as
// fixated when it is nonzero. Metrics that compare maps need equal sizes (see resize_bicubic).

#include <opencv2/core.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace msinet::eval {

/// MATLAB's eps, used by KLD and IG.
inline constexpr double kEps = 2.220446049250313e-16;
/// Upper bound (exclusive) of the uniform noise added to a map to break ties (AUC-Judd).
inline constexpr double kJitter = 1e-7;
/// Random splits of AUC-Borji and sAUC.
inline constexpr int kAucSplits = 100;
/// Threshold step of AUC-Borji and sAUC.
inline constexpr double kAucStep = 0.1;
/// Other images whose fixations serve as sAUC negatives.
inline constexpr int kShuffledOthers = 10;
/// EMD shrinks the ground-truth map by this factor first (MATLAB imresize(map, 1/32)).
inline constexpr int kEmdDownsize = 32;

/// One metric's value on one image, or NaN and the reason it is undefined there.
struct Score {
  double value = 0.0;     ///< NaN when undefined
  std::string undefined;  ///< empty when defined; else a short reason ("constant prediction")
  /// True when the value is defined.
  bool defined() const { return undefined.empty(); }
  /// A defined score.
  static Score of(double v) { return Score{v, {}}; }
  /// An undefined score with its reason.
  static Score none(std::string why);
};

/// A seeded random stream (std::mt19937_64, whose outputs the C++ standard fixes), so that
/// results are the same on every platform and standard library.
class Rng {
 public:
  /// Starts the stream at `seed`.
  explicit Rng(uint64_t seed) : engine_(seed) {}
  /// Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, n), n > 0, without modulo bias.
  size_t below(size_t n);

 private:
  std::mt19937_64 engine_;
};

/// The seed of one random stream (`stream` names the metric or use) for one image (`key`),
/// derived from the run seed; independent of the order in which images are scored.
uint64_t derive_seed(uint64_t seed, std::string_view key, std::string_view stream);

/// Fixated pixels of one fixation map: its size and the row-major indices of nonzero pixels.
struct FixationPoints {
  cv::Size size;             ///< width x height of the fixation map
  std::vector<int> indices;  ///< row-major indices (y * width + x), ascending
};

/// The fixated pixels of a fixation map (nonzero = fixated).
FixationPoints fixation_points(const cv::Mat& fixations);

/// A CV_64FC1 map of `size` with ones at the fixated pixels of `points`, zeros elsewhere.
cv::Mat fixation_map(const FixationPoints& points);

/// Resizes a map the way MATLAB's `imresize(map, [h w], 'bicubic')` does on double data:
/// Keys' cubic kernel (a = -0.5), pixel-centre alignment, symmetric border, kernel widened by
/// 1/scale when shrinking (antialiasing), the dimension shrunk most first. No re-quantisation.
cv::Mat resize_bicubic(const cv::Mat& map, cv::Size size);

/// MATLAB's `imresize(map, scale, 'bicubic')`: the output is ceil(scale * size) and the kernel
/// uses `scale` itself (not the ratio of the rounded sizes), as MATLAB does when given a factor.
cv::Mat resize_bicubic(const cv::Mat& map, double scale);

/// resize_bicubic() followed by clamping to the input's [min, max], so that a non-negative map
/// stays non-negative (MATLAB clamps likewise when it resizes 8-bit images, to 0..255).
cv::Mat resize_prediction(const cv::Mat& map, cv::Size size);

/// Min-max normalisation to [0, 1]; returns false (leaving `map` as is) when it is constant.
bool min_max_normalise(cv::Mat& map);

/// AUC-Judd: thresholds at the fixated values; `jitter` (may be null) adds noise in
/// [0, kJitter) first to break ties.
Score auc_judd(const cv::Mat& s, const cv::Mat& fixations, Rng* jitter);

/// The ROC curve whose area is AUC-Judd: false- and true-positive rates from (0,0) to (1,1).
struct RocCurve {
  std::vector<double> fp, tp;  ///< ascending; empty when undefined
  std::string undefined;       ///< why there is no curve; empty when defined
};

/// AUC-Judd's ROC curve, computed as auc_judd() does (same jitter draws for the same Rng).
RocCurve roc_judd(const cv::Mat& s, const cv::Mat& fixations, Rng* jitter);

/// Area under the ROC curve of thresholds k * step, k = floor(max / step + 1e-9) down to 0
/// (max = the largest value of both sets; the tolerance keeps max itself when it is on the grid),
/// with (0,0) and (1,1) added; tp and fp are the fractions of positives and negatives >= the
/// threshold. One split of AUC-Borji / sAUC. Both sets must be non-empty.
double thresholded_roc_area(const std::vector<double>& positives,
                            const std::vector<double>& negatives, double step = kAucStep);

/// AUC-Borji: `splits` draws of Nfix uniform pixels (with replacement) as negatives.
Score auc_borji(const cv::Mat& s, const cv::Mat& fixations, Rng& rng, int splits = kAucSplits,
                double step = kAucStep);

/// The union of other images' fixations, their coordinates scaled to `size`
/// (x' = floor((x + 0.5) * W / w), y' alike): ascending row-major indices, each once.
std::vector<int> scaled_fixation_union(const std::vector<const FixationPoints*>& others,
                                       cv::Size size);

/// Shuffled AUC: as AUC-Borji with the values at `negatives` (indices into `s`, e.g. from
/// scaled_fixation_union) as negatives; each split shuffles them and takes the first
/// min(Nfix, count).
Score sauc(const cv::Mat& s, const cv::Mat& fixations, const std::vector<int>& negatives, Rng& rng,
           int splits = kAucSplits, double step = kAucStep);

/// Normalised scanpath saliency: mean over fixated pixels of S standardised with its mean and
/// sample standard deviation (N - 1).
Score nss(const cv::Mat& s, const cv::Mat& fixations);

/// Pearson's linear correlation coefficient of S and G.
Score cc(const cv::Mat& s, const cv::Mat& g);

/// Kullback-Leibler divergence sum(G * log(eps + G / (S + eps))) after scaling S and G to sum 1
/// (an all-zero map stays zero).
Score kld(const cv::Mat& s, const cv::Mat& g);

/// Similarity (histogram intersection) after min-max normalising S and G and scaling them to
/// sum 1 (an all-zero map stays zero).
Score sim(const cv::Mat& s, const cv::Mat& g);

/// SIM with `p` taken as a distribution as is (no normalisation); G is normalised as in sim().
Score sim_distribution(const cv::Mat& p, const cv::Mat& g);

/// Earth mover's distance as the MIT benchmark's EMD.m computes it: G is shrunk by 1/`downsize`
/// (resize_bicubic(g, 1.0 / downsize)), S is resized to that size, both are divided by their
/// sums (values that cubic overshoot leaves below 0 are kept, as MATLAB keeps them) and mass
/// moves over the Euclidean distance between bin centres, in shrunk pixels, capped at
/// `max_distance` (the benchmark caps nothing).
/// S may have any size. Masses and distances are rounded as FastEMD rounds them (to 1e-6 of the
/// larger total and of the largest distance) and the transport is solved exactly.
/// Undefined for an all-zero or negative map.
Score emd(const cv::Mat& s, const cv::Mat& g, int downsize = kEmdDownsize,
          double max_distance = std::numeric_limits<double>::infinity());

/// Information gain in bits over `baseline`: S and the baseline are min-max normalised and
/// scaled to sum 1; mean over fixated pixels of log2(eps + S) - log2(eps + B).
Score ig(const cv::Mat& s, const cv::Mat& baseline, const cv::Mat& fixations);

/// IG with `p` taken as a distribution as is; the baseline is normalised as in ig().
Score ig_distribution(const cv::Mat& p, const cv::Mat& baseline, const cv::Mat& fixations);

}  // namespace msinet::eval
