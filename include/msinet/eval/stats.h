#pragma once
// Uncertainty of the reported means: percentile bootstrap intervals over images, and the
// Wilcoxon signed-rank test of paired per-image differences.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace msinet::eval {

/// Resamples of a bootstrap interval unless told otherwise.
inline constexpr int kBootstrapResamples = 1000;
/// Coverage of the reported intervals.
inline constexpr double kIntervalLevel = 0.95;

/// A two-sided interval; both ends NaN when there is none.
struct Interval {
  double lo;
  double hi;
};

/// Linear-interpolation percentile of ascending `sorted` at fraction q in [0, 1] (NumPy's
/// default: position q * (n - 1) between the neighbouring order statistics).
double percentile_sorted(const std::vector<double>& sorted, double q);

/// Percentile bootstrap interval of the mean of `values`: `resamples` resamples of n values
/// drawn with replacement (index k of resample r is the r * n + k-th Rng(seed).below(n)), the
/// (1 - level) / 2 and (1 + level) / 2 percentiles of their means. NaN when `values` is empty
/// or resamples < 1.
Interval bootstrap_mean_interval(const std::vector<double>& values, int resamples, uint64_t seed,
                                 double level = kIntervalLevel);

/// Wilcoxon signed-rank test of differences, two-sided, normal approximation.
struct WilcoxonResult {
  /// min(W+, W-), the rank sums of positive and negative differences
  double statistic = std::numeric_limits<double>::quiet_NaN();
  /// (statistic - n(n+1)/4) / se, no continuity correction
  double z = std::numeric_limits<double>::quiet_NaN();
  /// 2 * P(Z > |z|); NaN when every difference is zero (or there is none)
  double p = std::numeric_limits<double>::quiet_NaN();
  std::size_t n = 0;  ///< nonzero differences ranked
};

/// The test as scipy.stats.wilcoxon(d, zero_method='wilcox', correction=False, mode='approx'):
/// zero differences are dropped, |d| ranked with ties at their mean rank, and the variance
/// n(n+1)(2n+1)/24 reduced by sum(t^3 - t)/48 over groups of t tied ranks.
WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& differences);

}  // namespace msinet::eval
