#include "msinet/eval/ndimage.h"

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

/// Correlates each line of `n` samples (stride `step` apart, `lines` lines `line_step` apart).
void filter_lines(const double* in, double* out, int n, int step, int lines, int line_step,
                  const std::vector<double>& w, BorderMode mode) {
  const int radius = static_cast<int>(w.size() / 2);
  std::vector<int> index(static_cast<size_t>(n + 2 * radius));
  for (int i = -radius; i < n + radius; ++i) {
    index[static_cast<size_t>(i + radius)] = border_index(i, n, mode);
  }
  for (int l = 0; l < lines; ++l) {
    const double* src = in + static_cast<ptrdiff_t>(l) * line_step;
    double* dst = out + static_cast<ptrdiff_t>(l) * line_step;
    for (int i = 0; i < n; ++i) {
      double acc = 0.0;
      for (size_t k = 0; k < w.size(); ++k) {
        const int j = index[static_cast<size_t>(i) + k];
        if (j >= 0) acc += w[k] * src[static_cast<ptrdiff_t>(j) * step];
      }
      dst[static_cast<ptrdiff_t>(i) * step] = acc;
    }
  }
}

void require_double(const cv::Mat& map, const char* what) {
  if (map.empty() || map.type() != CV_64FC1) {
    throw Error(ErrorCode::kInternal, std::string(what) + " needs a non-empty CV_64FC1 map");
  }
}

}  // namespace

cv::Mat gaussian_filter(const cv::Mat& map, double sigma_y, double sigma_x, BorderMode mode) {
  require_double(map, "gaussian_filter");
  cv::Mat cur = map.clone();
  const int rows = cur.rows;
  const int cols = cur.cols;
  if (sigma_y > 1e-15) {
    cv::Mat next(cur.size(), CV_64FC1);
    filter_lines(cur.ptr<double>(), next.ptr<double>(), rows, cols, cols, 1,
                 gaussian_weights(sigma_y), mode);
    cur = next;
  }
  if (sigma_x > 1e-15) {
    cv::Mat next(cur.size(), CV_64FC1);
    filter_lines(cur.ptr<double>(), next.ptr<double>(), cols, 1, rows, cols,
                 gaussian_weights(sigma_x), mode);
    cur = next;
  }
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
