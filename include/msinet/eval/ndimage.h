#pragma once
// The two scipy.ndimage operations the MIT/Tuebingen benchmark's Python code applies to maps:
// gaussian_filter (empirical maps, metric-specific blurs, the centre bias) and zoom with
// order 1 (pysaliency's resizing of log-densities). Same index conventions, so that results
// agree with scipy to rounding.

#include <opencv2/core.hpp>

#include <vector>

namespace msinet::eval {

/// How gaussian_filter() extends a map beyond its border.
enum class BorderMode {
  kReflect,  ///< scipy 'reflect': d c b a | a b c d | d c b a (any kernel radius)
  kConstant  ///< scipy 'constant' with cval 0: zeros outside
};

/// scipy.ndimage.gaussian_filter(map, (sigma_y, sigma_x), mode, truncate=4.0) on a CV_64FC1
/// map: per axis (rows first) a correlation with exp(-k^2 / (2 sigma^2)), |k| <= int(4 sigma +
/// 0.5), normalised to sum 1; an axis with sigma <= 1e-15 is left as is.
cv::Mat gaussian_filter(const cv::Mat& map, double sigma_y, double sigma_x, BorderMode mode);

/// One output sample of zoom_linear() on one axis: (1 - f) in[i0] + f in[i1].
struct LinearTap {
  int i0 = 0;      ///< lower neighbour
  int i1 = 0;      ///< upper neighbour (clamped to the last sample, scipy's mode 'nearest')
  double f = 0.0;  ///< weight of i1
};

/// The taps of zoom_linear() along an axis of `in` samples resized to `out`.
std::vector<LinearTap> zoom_taps(int in, int out);

/// scipy.ndimage.zoom(map, (h / rows, w / cols), order=1, mode='nearest') of a CV_64FC1 map to
/// `size`: output pixel o samples input coordinate o * (n_in - 1) / (n_out - 1) (0 when
/// n_out = 1), linearly interpolated between its two neighbours on each axis.
cv::Mat zoom_linear(const cv::Mat& map, cv::Size size);

/// log(sum(exp(map))) of a CV_64FC1 map, computed stably.
double log_sum_exp(const cv::Mat& map);

}  // namespace msinet::eval
