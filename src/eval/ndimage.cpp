#include "msinet/eval/ndimage.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "msinet/util/error.h"

namespace msinet::eval {

namespace {

std::vector<double> gaussian_weights(double sigma) {
  // ref: scipy/ndimage/_filters.py gaussian_filter1d (radius = int(truncate * sd + 0.5))
  const int radius = static_cast<int>(4.0 * sigma + 0.5);
  std::vector<double> w(static_cast<size_t>(2 * radius + 1));
  double total = 0.0;
  for (int k = -radius; k <= radius; ++k) {
    const double v = std::exp(-0.5 * k * k / (sigma * sigma));
    w[static_cast<size_t>(k + radius)] = v;
    total += v;
  }
  for (double& v : w) v /= total;
  return w;
}

/// Index into [0, n) of position i under scipy's 'reflect' extension; -1 outside for 'constant'.
int border_index(int i, int n, BorderMode mode) {
  if (i >= 0 && i < n) return i;
  if (mode == BorderMode::kConstant) return -1;
  const int period = 2 * n;
  int j = i % period;
  if (j < 0) j += period;
  return j < n ? j : period - 1 - j;
}

/// Source index of each tap of each output position along an axis of `n` (-1: zero).
std::vector<int> tap_sources(int n, int radius, BorderMode mode) {
  std::vector<int> index(static_cast<size_t>(n + 2 * radius));
  for (int i = -radius; i < n + radius; ++i) {
    index[static_cast<size_t>(i + radius)] = border_index(i, n, mode);
  }
  return index;
}

/// Along columns: each output row is the weighted sum of source rows, taps in order.
cv::Mat filter_rows(const cv::Mat& in, const std::vector<double>& w, BorderMode mode) {
  const int radius = static_cast<int>(w.size() / 2);
  const std::vector<int> index = tap_sources(in.rows, radius, mode);
  cv::Mat out = cv::Mat::zeros(in.size(), CV_64FC1);
  for (int y = 0; y < in.rows; ++y) {
    double* dst = out.ptr<double>(y);
    for (size_t k = 0; k < w.size(); ++k) {
      const int j = index[static_cast<size_t>(y) + k];
      if (j < 0) continue;
      const double* src = in.ptr<double>(j);
      const double wk = w[k];
      for (int x = 0; x < in.cols; ++x) dst[x] += wk * src[x];
    }
  }
  return out;
}

/// Along rows: each line padded by its border extension, then correlated, taps in order.
cv::Mat filter_cols(const cv::Mat& in, const std::vector<double>& w, BorderMode mode) {
  const int radius = static_cast<int>(w.size() / 2);
  const std::vector<int> index = tap_sources(in.cols, radius, mode);
  cv::Mat out(in.size(), CV_64FC1);
  std::vector<double> pad(index.size());
  for (int y = 0; y < in.rows; ++y) {
    const double* src = in.ptr<double>(y);
    for (size_t i = 0; i < index.size(); ++i) pad[i] = index[i] < 0 ? 0.0 : src[index[i]];
    double* dst = out.ptr<double>(y);
    for (int x = 0; x < in.cols; ++x) {
      const double* p = pad.data() + x;
      double acc = 0.0;
      for (size_t k = 0; k < w.size(); ++k) acc += w[k] * p[k];
      dst[x] = acc;
    }
  }
  return out;
}

void require_double(const cv::Mat& map, const char* what) {
  if (map.empty() || map.type() != CV_64FC1) {
    throw Error(ErrorCode::kInternal, std::string(what) + " needs a non-empty CV_64FC1 map");
  }
}

}  // namespace

cv::Mat gaussian_filter(const cv::Mat& map, double sigma_y, double sigma_x, BorderMode mode) {
  require_double(map, "gaussian_filter");
  const bool blur_y = sigma_y > 1e-15;
  const bool blur_x = sigma_x > 1e-15;
  const std::vector<double> wy = blur_y ? gaussian_weights(sigma_y) : std::vector<double>{1.0};
  const std::vector<double> wx = blur_x ? gaussian_weights(sigma_x) : std::vector<double>{1.0};
  // OpenCV extends borders as scipy does while a kernel's radius is below the map's side
  // (beyond, scipy reflects again, which the loops below do); its filter2D convolves large
  // kernels through the DFT, faster than separable passes at the benchmark's sigmas.
  if (static_cast<int>(wy.size() / 2) < map.rows && static_cast<int>(wx.size() / 2) < map.cols) {
    cv::Mat out;
    const cv::Mat kernel = cv::Mat(wy) * cv::Mat(wx).t();
    cv::filter2D(map, out, CV_64F, kernel, cv::Point(-1, -1), 0.0,
                 mode == BorderMode::kReflect ? cv::BORDER_REFLECT : cv::BORDER_CONSTANT);
    return out;
  }
  cv::Mat cur = map.clone();
  if (blur_y) cur = filter_rows(cur, wy, mode);
  if (blur_x) cur = filter_cols(cur, wx, mode);
  return cur;
}

std::vector<LinearTap> zoom_taps(int in, int out) {
  // ref: scipy/ndimage/_interpolation.py zoom (grid_mode=False): zoom = (in - 1) / (out - 1).
  std::vector<LinearTap> t(static_cast<size_t>(out));
  const double z = out > 1 ? static_cast<double>(in - 1) / (out - 1) : 1.0;
  for (int o = 0; o < out; ++o) {
    const double c = out > 1 ? o * z : 0.0;
    const int i0 = std::clamp(static_cast<int>(std::floor(c)), 0, in - 1);
    t[static_cast<size_t>(o)] = {i0, std::min(i0 + 1, in - 1), c - i0};
  }
  return t;
}

cv::Mat zoom_linear(const cv::Mat& map, cv::Size size) {
  require_double(map, "zoom_linear");
  if (size.width <= 0 || size.height <= 0) {
    throw Error(ErrorCode::kInternal, "zoom_linear needs a positive size");
  }
  const auto ty = zoom_taps(map.rows, size.height);
  const auto tx = zoom_taps(map.cols, size.width);
  cv::Mat out(size, CV_64FC1);
  for (int y = 0; y < size.height; ++y) {
    const LinearTap& a = ty[static_cast<size_t>(y)];
    const double* r0 = map.ptr<double>(a.i0);
    const double* r1 = map.ptr<double>(a.i1);
    double* dst = out.ptr<double>(y);
    for (int x = 0; x < size.width; ++x) {
      const LinearTap& b = tx[static_cast<size_t>(x)];
      dst[x] = (1 - a.f) * ((1 - b.f) * r0[b.i0] + b.f * r0[b.i1]) +
               a.f * ((1 - b.f) * r1[b.i0] + b.f * r1[b.i1]);
    }
  }
  return out;
}

double log_sum_exp(const cv::Mat& map) {
  require_double(map, "log_sum_exp");
  double hi = -std::numeric_limits<double>::infinity();
  cv::minMaxLoc(map, nullptr, &hi);
  if (!std::isfinite(hi)) return hi;
  double total = 0.0;
  for (int y = 0; y < map.rows; ++y) {
    const double* row = map.ptr<double>(y);
    for (int x = 0; x < map.cols; ++x) total += std::exp(row[x] - hi);
  }
  return hi + std::log(total);
}

}  // namespace msinet::eval
