#pragma once
// Paired comparison of predictors scored against the same ground truth: per metric, over the
// images where both are defined, the mean difference B - A, its percentile bootstrap interval
// (the same resampled images for both; seed derive_seed(seed, metric, "paired_bootstrap")),
// the Wilcoxon signed-rank test of the differences, and how often each side is better.

#include <string>
#include <vector>

#include "msinet/eval/evaluate.h"
#include "msinet/eval/stats.h"

namespace msinet::eval {

/// False for metrics where lower is better (kld), true for the others.
bool higher_is_better(const std::string& metric);

/// One metric of one comparison.
struct PairedMetric {
  std::string metric;
  size_t n = 0;             ///< images where both are defined
  double mean_diff = 0.0;   ///< mean of B - A; NaN when n == 0
  Interval ci{0.0, 0.0};    ///< bootstrap interval of mean_diff; NaN when off or n == 0
  WilcoxonResult wilcoxon;  ///< of the differences B - A
  size_t b_better = 0;      ///< images where B is better (higher, or lower for kld)
  size_t a_better = 0;      ///< images where A is better
  size_t ties = 0;          ///< images with equal values
  /// +1: B better (the interval excludes 0 on B's side), -1: A better, 0: not shown.
  int verdict = 0;
};

/// Predictor `b` (index into the runs) against predictor `a`.
struct Comparison {
  size_t a = 0, b = 0;
  std::vector<PairedMetric> metrics;
};

/// The comparison of two runs that scored the same metrics; images are paired by key.
Comparison compare_runs(const EvalResult& a, const EvalResult& b, int resamples, uint64_t seed);

/// Every run and each later run against the first.
struct ComparisonResult {
  std::vector<EvalResult> runs;         ///< one per predictions folder, in order
  std::vector<std::string> labels;      ///< "pred1", "pred2", ...
  std::vector<Comparison> comparisons;  ///< run i against run 0, i = 1..
  int bootstrap = 0;                    ///< resamples of the intervals
  uint64_t seed = 0;
};

/// Scores each of `pred_dirs` as run_eval does (options.pred_dir is ignored) and compares them;
/// writes options.csv (columns per predictor), options.json and options.plots_dir when set.
ComparisonResult run_comparison(const EvalOptions& options, const std::vector<fs::path>& pred_dirs);

/// Each predictor's table, then one comparison table per pair with its verdicts.
std::string format_comparison(const ComparisonResult& result);

/// CSV text: "image,pred1.<metric>...,pred2.<metric>...", one row per image any run scored.
std::string comparison_to_csv(const ComparisonResult& result);

/// JSON text: the predictors (each as to_json()), bootstrap settings and the comparisons.
std::string comparison_to_json(const ComparisonResult& result);

}  // namespace msinet::eval
