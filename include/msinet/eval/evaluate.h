#pragma once
// The evaluation job: scores predicted maps (files, in-memory maps or a baseline predictor)
// against fixation maps and continuous ground-truth maps.
//
// Matching: a file's key is its path relative to its folder, without extension and without a
// trailing "_fixMap" / "_fixPts" ("sub/img_fixPts.png" -> "sub/img"). Keys match exactly, or,
// when the folders are laid out differently, by the last component if it is unique on both sides.
// Sizes: a prediction (and a baseline map) whose size differs from the fixation map's is resized
// to it with resize_prediction(): MATLAB imresize's bicubic, as the MIT benchmark does, clamped
// to the map's own value range.
// Baselines as predictors: "center" is center_map() (see baselines.h). "chance" is the uniform
// map: the ranking and correlation metrics (AUC-Judd, AUC-Borji, sAUC, NSS, CC) see it with seeded
// noise in [0, kJitter) added, so ties are broken at random (AUC ~ 0.5, NSS ~ CC ~ 0); KLD, SIM
// and IG use the exact uniform distribution 1/N (its min-max normalisation would be undefined).
// Randomness: each image and metric draws from its own stream, derive_seed(seed, image, metric),
// so results do not depend on the order or subset of images scored.

#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "msinet/eval/metrics.h"
#include "msinet/eval/stats.h"

namespace msinet::eval {

namespace fs = std::filesystem;

/// Every metric, in report order: auc_judd, auc_borji, sauc, nss, cc, kld, sim, emd, ig.
/// EMD is computed only when named in EvalOptions::metrics.
const std::vector<std::string>& all_metrics();

/// What to score and how.
struct EvalOptions {
  fs::path pred_dir;           ///< predictions (.jpeg/.jpg/.png grayscale, .npy); not with baseline
  fs::path fixations_dir;      ///< binary fixation maps (nonzero = fixated)
  fs::path maps_dir;           ///< continuous ground-truth maps (CC, KLD, SIM); optional
  fs::path baseline_maps_dir;  ///< IG baseline maps matched like predictions; empty: centre map
  std::string baseline;        ///< predictor instead of pred_dir: "" (none), "center", "chance"
  std::vector<std::string> metrics;  ///< from all_metrics(); empty: all applicable but emd
  uint64_t seed = 0;                 ///< seed of every random choice; reported in the results
  bool jitter = true;                ///< AUC-Judd tie-breaking noise
  fs::path csv;                      ///< per-image CSV written by run_eval when set
  fs::path json;                     ///< summary JSON written by run_eval when set
  bool progress = false;             ///< progress on stderr (util::Progress: a bar or log lines)

  int bootstrap = kBootstrapResamples;  ///< resamples of each mean's interval; 0: none
  fs::path plots_dir;                   ///< PNG plots written by run_eval when set
  bool keep_roc = false;  ///< keep each image's ROC curve (ImageScores::roc) without plotting
  std::string protocol = "mit";  ///< "mit" or "tuebingen" (densities; see tuebingen.h)
  fs::path train_fixations_dir;  ///< tuebingen: training fixation maps (centre bias)
  std::vector<fs::path> train_fixation_files;  ///< tuebingen: these instead of the folder
  double kernel_size = 24.0;  ///< tuebingen: blur sigma in pixels (kTuebingenKernelSize)
};

/// One scored image; values are aligned with EvalResult::metrics, NaN where undefined.
struct ImageScores {
  std::string image;    ///< matching key
  fs::path prediction;  ///< source file, empty for in-memory maps and baselines
  std::vector<double> values;
  std::vector<double> roc;  ///< AUC-Judd's true-positive rates at roc_grid(), when kept
};

/// Mean and sample standard deviation (N - 1) of one metric over the images where it is defined,
/// and the mean's bootstrap interval (bootstrap_mean_interval, seed derive_seed(seed, metric,
/// "bootstrap")).
struct MetricSummary {
  std::string metric;
  double mean = 0.0;  ///< NaN when n == 0
  double std = 0.0;   ///< NaN when n < 2
  size_t n = 0;
  Interval ci{std::numeric_limits<double>::quiet_NaN(),
              std::numeric_limits<double>::quiet_NaN()};  ///< NaN when off or n == 0
};

/// An image, or some metrics of an image, left out of the summary, and why.
struct Skipped {
  std::string image;
  std::string reason;   ///< short and shared by similar cases ("empty fixation map")
  std::string metrics;  ///< comma-separated metrics concerned; empty = the whole image
  std::string detail;   ///< file path or error message
};

/// Everything a run produced.
struct EvalResult {
  uint64_t seed = 0;
  int bootstrap = 0;                 ///< resamples behind MetricSummary::ci (0: none)
  std::string predictor;             ///< predictions folder, "center baseline", ...
  std::string ig_baseline;           ///< "center" or the baseline maps folder
  std::vector<std::string> metrics;  ///< metrics computed, in report order
  std::vector<ImageScores> images;   ///< scored images, in scoring order
  std::vector<MetricSummary> summary;
  std::vector<Skipped> skipped;
  std::string protocol = "mit";  ///< the scoring rules: "mit" or "tuebingen"
  std::string resize = "bicubic (MATLAB imresize, antialiased when shrinking)";  ///< of maps
  std::vector<std::pair<std::string, double>> baseline_parameters;  ///< tuebingen: centre bias
};

/// Ground truth of one image; any path may be empty except that one of fixations/map is set.
struct GroundTruth {
  std::string image;   ///< matching key
  fs::path fixations;  ///< binary fixation map
  fs::path map;        ///< continuous ground-truth map
  fs::path baseline;   ///< IG baseline map; empty: the centre map
};

/// "img_fixPts" -> "img", "img_fixMap" -> "img"; anything else unchanged.
std::string strip_map_suffix(const std::string& stem);

/// The matching key of `file` inside folder `root` (see the top of this header).
std::string map_key(const fs::path& file, const fs::path& root);

/// Map files (.png/.jpg/.jpeg/.npy, hidden files skipped) under `root`, recursively, sorted.
/// Throws Error(kInput) when `root` is not a folder.
std::vector<fs::path> list_maps(const fs::path& root);

/// For each query key, the index of the matching target key, or -1 (see the top of this header).
std::vector<int> match_keys(const std::vector<std::string>& targets,
                            const std::vector<std::string>& queries);

/// The ground truth in options' fixations_dir / maps_dir / baseline_maps_dir, one entry per
/// fixation map (and per map without a fixation map). Throws Error(kInput) on duplicate keys.
std::vector<GroundTruth> find_ground_truth(const EvalOptions& options);

/// Scores predictions one at a time, so that callers that produce maps (a model) need not keep
/// them all; every entry point below uses it. Typical use: `Evaluator ev(truths, options);`
/// then `ev.add(image, map)` per prediction, `ev.skip(...)` for failures, `ev.finish()`.
class TuebingenScorer;

class Evaluator {
 public:
  /// Reads every fixation map (sAUC draws its negatives from them). Throws Error(kUsage) for
  /// unknown or inapplicable metrics or baselines, Error(kInput) for duplicate images.
  Evaluator(std::vector<GroundTruth> truths, EvalOptions options);
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  /// The metrics this run computes.
  const std::vector<std::string>& metrics() const { return metrics_; }
  /// True when there is ground truth for `image`.
  bool knows(const std::string& image) const;
  /// Scores `prediction` (CV_64FC1, any size; resized when needed) for ground truth `image`.
  void add(const std::string& image, const cv::Mat& prediction, const fs::path& source = {});
  /// Tuebingen protocol: scores a natural log-density (CV_64FC1, log-sum-exp 0, any size;
  /// resized with resize_log_density() when needed) for ground truth `image`. add() under
  /// that protocol reads its map with as_log_density() (throws Error(kInput) when unnormalised).
  void add_log_density(const std::string& image, const cv::Mat& log_density,
                       const fs::path& source = {});
  /// Scores the options' baseline predictor ("center" or "chance") for ground truth `image`.
  void add_baseline(const std::string& image);
  /// Records a prediction for `image` that could not be scored.
  void skip(const std::string& image, const std::string& reason, const std::string& detail);
  /// Ground truth with no prediction yet is reported as skipped; summarises everything.
  EvalResult finish();

 private:
  struct Truth;
  void score(Truth& truth, const cv::Mat& prediction, bool chance, const fs::path& source);
  Truth* accept(const std::string& image, const fs::path& source);
  void record(const std::string& image, const fs::path& source, std::map<std::string, Score> scores,
              const std::map<std::string, std::string>& details, std::vector<double> roc = {});
  void start_tuebingen();

  EvalOptions options_;
  std::vector<std::string> metrics_;
  std::vector<Truth> truths_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<size_t> pool_;  // truths with fixations, for sAUC
  EvalResult result_;
  std::unique_ptr<TuebingenScorer> tuebingen_;
  std::vector<size_t> tuebingen_rows_;  // result_.images row of each log-density scored
  double emd_seconds_ = 0.0;            // time spent in emd(), for the log
  size_t emd_images_ = 0;
};

/// One prediction held in memory (or a file to read) with its ground truth paths.
struct EvalItem {
  std::string image;
  cv::Mat prediction;  ///< CV_64FC1; when empty, prediction_path or options.baseline
  fs::path prediction_path;
  fs::path fixations;
  fs::path map;
  fs::path baseline;
};

/// Scores `items` (all kept in memory; prefer Evaluator for long runs).
EvalResult evaluate(const std::vector<EvalItem>& items, const EvalOptions& options);

/// The folder job: finds and matches the files, scores them, writes options.csv / options.json.
EvalResult run_eval(const EvalOptions& options);

}  // namespace msinet::eval
