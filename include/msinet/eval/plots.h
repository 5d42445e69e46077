#pragma once
// PNG plots of an evaluation: the mean ROC curve of AUC-Judd, a histogram per metric, and for
// comparisons a per-image scatter of one predictor against another per metric.
//
// Every chart is kChartWidth x kChartHeight with the plotting area inset by the kChart* margins.
// ROC: x and y span [0, 1]. Histogram: kHistogramBins equal bins over [min, max] of the values
// (the maximum in the last bin), y from 0 to the largest count (rounded up to a multiple of 5
// above 5, so that the grid lines fall on whole counts). Scatter: both axes span the
// same range, [min, max] of all values shown widened by 5% on each side.

#include <filesystem>
#include <string>
#include <vector>

#include "msinet/eval/evaluate.h"
#include "msinet/eval/metrics.h"

namespace msinet::eval {

/// Chart width in pixels.
inline constexpr int kChartWidth = 640;
/// Chart height in pixels.
inline constexpr int kChartHeight = 480;
/// Left margin (tick labels).
inline constexpr int kChartLeft = 70;
/// Right margin.
inline constexpr int kChartRight = 20;
/// Top margin (title, legend).
inline constexpr int kChartTop = 40;
/// Bottom margin (tick labels, axis label).
inline constexpr int kChartBottom = 60;
/// Bins of each metric's histogram.
inline constexpr int kHistogramBins = 20;

/// False-positive rates at which each image's ROC curve is sampled: 0, 0.01, ..., 1.
const std::vector<double>& roc_grid();

/// True-positive rate of `curve` at each of `fprs`: linear between the curve's points, taking
/// at each false-positive rate the highest true-positive rate the curve reaches there.
std::vector<double> roc_at(const RocCurve& curve, const std::vector<double>& fprs);

/// Counts of `values` in `bins` equal bins over [lo, hi] = [min, max] (the max in the last
/// bin); a constant sample gets [v - 0.5, v + 0.5].
struct Histogram {
  double lo = 0.0, hi = 1.0;
  std::vector<size_t> counts;
};

/// The histogram drawn for `values` (finite values only).
Histogram histogram(const std::vector<double>& values, int bins = kHistogramBins);

/// One predictor's mean ROC curve for the ROC chart.
struct RocSeries {
  std::string label;        ///< legend text before the AUC
  std::vector<double> tpr;  ///< mean true-positive rate at roc_grid()
  double auc = 0.0;         ///< mean AUC-Judd over the images (from the scores)
  size_t n = 0;             ///< images averaged
};

/// Mean of the images' ROC curves (ImageScores::roc) of `result`; n == 0 when there are none.
RocSeries mean_roc(const EvalResult& result, const std::string& label);

/// The mean ROC chart: one curve per series, the chance diagonal, the mean AUC in the legend.
void write_roc_plot(const fs::path& path, const std::vector<RocSeries>& series);

/// A histogram chart of `values` of `metric`, with the mean as a vertical line.
void write_histogram_plot(const fs::path& path, const std::string& metric,
                          const std::vector<double>& values, const std::string& title);

/// A scatter chart: one point per image at (a, b), and the diagonal a = b.
void write_scatter_plot(const fs::path& path, const std::string& metric,
                        const std::vector<double>& a, const std::vector<double>& b,
                        const std::string& label_a, const std::string& label_b);

/// Writes every chart of `runs` into `dir` (created when missing) and returns their paths:
/// roc_auc_judd.png (when AUC-Judd curves were kept); one run: hist_<metric>.png; several
/// (`labels[i]` names run i): hist_<metric>_<label>.png and, for each run after the first,
/// scatter_<metric>_<first>_<label>.png over the images both score.
std::vector<fs::path> write_plots(const fs::path& dir, const std::vector<const EvalResult*>& runs,
                                  const std::vector<std::string>& labels);

}  // namespace msinet::eval
