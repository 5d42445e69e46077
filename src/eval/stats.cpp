#include "msinet/eval/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "msinet/eval/metrics.h"

namespace msinet::eval {

namespace {
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
}  // namespace

double percentile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return kNan;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(pos));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(below);
  return sorted[below] + (sorted[above] - sorted[below]) * frac;
}

Interval bootstrap_mean_interval(const std::vector<double>& values, int resamples, uint64_t seed,
                                 double level) {
  if (values.empty() || resamples < 1) return {kNan, kNan};
  Rng rng(seed);
  const size_t n = values.size();
  std::vector<double> means(static_cast<size_t>(resamples));
  for (double& m : means) {
    double total = 0.0;
    for (size_t k = 0; k < n; ++k) total += values[rng.below(n)];
    m = total / static_cast<double>(n);
  }
  std::sort(means.begin(), means.end());
  return {percentile_sorted(means, (1.0 - level) / 2.0),
          percentile_sorted(means, (1.0 + level) / 2.0)};
}

// ref: scipy/stats/_morestats.py wilcoxon (scipy 1.10, mode 'approx')
WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& differences) {
  std::vector<double> d;
  for (double x : differences) {
    if (x != 0.0) d.push_back(x);
  }
  const size_t n = d.size();
  if (n == 0) return {};
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return std::fabs(d[a]) < std::fabs(d[b]); });
  double plus = 0.0, minus = 0.0, ties = 0.0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && std::fabs(d[order[j]]) == std::fabs(d[order[i]])) ++j;
    const double rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    const double t = static_cast<double>(j - i);
    if (j - i > 1) ties += t * (t * t - 1.0);
    for (size_t k = i; k < j; ++k) (d[order[k]] > 0.0 ? plus : minus) += rank;
    i = j;
  }
  const double count = static_cast<double>(n);
  const double statistic = std::min(plus, minus);
  const double mean = count * (count + 1.0) * 0.25;
  const double se = std::sqrt((count * (count + 1.0) * (2.0 * count + 1.0) - 0.5 * ties) / 24.0);
  if (!(se > 0.0)) return {statistic, kNan, kNan, n};
  const double z = (statistic - mean) / se;
  return {statistic, z, std::erfc(std::fabs(z) / std::sqrt(2.0)), n};
}

}  // namespace msinet::eval
