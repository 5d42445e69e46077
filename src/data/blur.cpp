#include "msinet/data/blur.h"

#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <cstdint>
#include <fstream>

#include "msinet/util/error.h"

namespace msinet::data {

namespace {

// ref: numpy/core/src/umath/loops_utils.h.src pairwise_sum (as np.sum adds float64 arrays)
double pairwise_sum(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.0;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

// scipy's "reflect" extension of a line of length n, infinitely repeated: period 2n.
int64_t reflect_index(int64_t i, int64_t n) {
  const int64_t period = 2 * n;
  int64_t m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

// One correlate1d pass along axis 0 of a rows x cols row-major array, vectorised across the
// columns; each output gets scipy's symmetric-kernel sum in scipy's order:
// c * w[r], then += (in[y - d] + in[y + d]) * w[r - d] for d = r .. 1.
// Rows that are entirely zero contribute exact zeros and are skipped.
// ref: scipy/ndimage/src/ni_filters.c NI_Correlate1D
void correlate_axis0(const double* in, double* out, int64_t rows, int64_t cols,
                     const std::vector<double>& w, bool round_f32) {
  const int64_t r = static_cast<int64_t>(w.size() / 2);
  std::vector<char> zero(static_cast<size_t>(rows), 1);
  for (int64_t y = 0; y < rows; ++y) {
    const double* row = in + y * cols;
    for (int64_t x = 0; x < cols; ++x) {
      if (row[x] != 0.0) {
        zero[static_cast<size_t>(y)] = 0;
        break;
      }
    }
  }
  for (int64_t y = 0; y < rows; ++y) {
    double* __restrict o = out + y * cols;
    if (zero[static_cast<size_t>(y)]) {
      for (int64_t x = 0; x < cols; ++x) o[x] = 0.0;
    } else {
      const double* __restrict c = in + y * cols;
      const double wc = w[static_cast<size_t>(r)];
      for (int64_t x = 0; x < cols; ++x) o[x] = c[x] * wc;
    }
    for (int64_t d = r; d >= 1; --d) {
      const int64_t ya = reflect_index(y - d, rows);
      const int64_t yb = reflect_index(y + d, rows);
      const bool za = zero[static_cast<size_t>(ya)];
      const bool zb = zero[static_cast<size_t>(yb)];
      if (za && zb) continue;
      const double wt = w[static_cast<size_t>(r - d)];
      if (za || zb) {
        const double* __restrict b = in + (za ? yb : ya) * cols;
        for (int64_t x = 0; x < cols; ++x) o[x] += b[x] * wt;
      } else {
        const double* __restrict a = in + ya * cols;
        const double* __restrict b = in + yb * cols;
        for (int64_t x = 0; x < cols; ++x) o[x] += (a[x] + b[x]) * wt;
      }
    }
    if (round_f32) {
      for (int64_t x = 0; x < cols; ++x) o[x] = static_cast<double>(static_cast<float>(o[x]));
    }
  }
}

}  // namespace

// ref: scipy/ndimage/_filters.py _gaussian_kernel1d
std::vector<double> gaussian_kernel(double sigma) {
  if (!(sigma > 0.0)) {
    throw Error(ErrorCode::kInternal, "gaussian_kernel: sigma must be positive");
  }
  const int64_t radius = static_cast<int64_t>(4.0 * sigma + 0.5);
  const double scale = -0.5 / (sigma * sigma);
  std::vector<double> w(static_cast<size_t>(2 * radius + 1));
  for (int64_t x = -radius; x <= radius; ++x) {
    w[static_cast<size_t>(x + radius)] = std::exp(scale * static_cast<double>(x * x));
  }
  const double sum = pairwise_sum(w.data(), w.size());
  for (double& v : w) v /= sum;
  return w;
}

// ref: scipy/ndimage/_filters.py gaussian_filter (axis 0, then axis 1)
cv::Mat gaussian_filter(const cv::Mat& map, double sigma) {
  if (map.channels() != 1 || (map.depth() != CV_64F && map.depth() != CV_32F)) {
    throw Error(ErrorCode::kInternal, "gaussian_filter: expected a CV_64FC1 or CV_32FC1 map");
  }
  const bool f32 = map.depth() == CV_32F;
  cv::Mat src;
  map.convertTo(src, CV_64F);
  src = src.isContinuous() ? src : src.clone();
  const auto w = gaussian_kernel(sigma);
  const int64_t rows = src.rows;
  const int64_t cols = src.cols;
  cv::Mat pass0(src.rows, src.cols, CV_64F);
  if (rows > 0 && cols > 0) {
    correlate_axis0(src.ptr<double>(), pass0.ptr<double>(), rows, cols, w, f32);
  }
  cv::Mat t0;
  cv::transpose(pass0, t0);
  cv::Mat t1(t0.rows, t0.cols, CV_64F);
  if (rows > 0 && cols > 0) {
    correlate_axis0(t0.ptr<double>(), t1.ptr<double>(), cols, rows, w, f32);
  }
  cv::Mat out;
  cv::transpose(t1, out);
  if (f32) {
    cv::Mat o32;
    out.convertTo(o32, CV_32F);
    return o32;
  }
  return out;
}

// ref: matplotlib colors.Normalize.__call__, Colormap.__call__(bytes=True), cm.gray lookup table
cv::Mat gray_levels(const cv::Mat& map) {
  if (map.channels() != 1 || (map.depth() != CV_64F && map.depth() != CV_32F)) {
    throw Error(ErrorCode::kInternal, "gray_levels: expected a CV_64FC1 or CV_32FC1 map");
  }
  uint8_t lut[256];
  for (int k = 0; k < 256; ++k) {
    lut[k] = static_cast<uint8_t>(std::trunc((k * (1.0 / 255)) * 255.0));
  }
  cv::Mat out(map.rows, map.cols, CV_8UC1, cv::Scalar(0));
  if (map.empty()) return out;
  double vmin = 0;
  double vmax = 0;
  cv::minMaxLoc(map, &vmin, &vmax);
  if (vmin == vmax) return out;
  const auto level = [&lut](auto t, auto n) {
    if (!(t >= 0)) return lut[0];  // NaN: matplotlib's "bad" colour, transparent black
    if (t == n) t = n - 1;
    return lut[static_cast<int>(t)];
  };
  for (int y = 0; y < map.rows; ++y) {
    uint8_t* o = out.ptr<uint8_t>(y);
    if (map.depth() == CV_64F) {
      const double* in = map.ptr<double>(y);
      const double range = vmax - vmin;
      for (int x = 0; x < map.cols; ++x) o[x] = level(((in[x] - vmin) / range) * 256.0, 256.0);
    } else {
      const float* in = map.ptr<float>(y);
      const float fmin = static_cast<float>(vmin);
      const float range = static_cast<float>(vmax) - fmin;
      for (int x = 0; x < map.cols; ++x) o[x] = level(((in[x] - fmin) / range) * 256.0f, 256.0f);
    }
  }
  return out;
}

void write_gray_png(const std::filesystem::path& path, const cv::Mat& gray) {
  if (gray.type() != CV_8UC1) {
    throw Error(ErrorCode::kInternal, "write_gray_png: expected a CV_8UC1 image");
  }
  std::vector<uchar> bytes;
  if (!cv::imencode(".png", gray, bytes)) {
    throw Error(ErrorCode::kIo, "cannot encode PNG '" + path.string() + "'");
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    throw Error(ErrorCode::kIo, "cannot write '" + path.string() + "' (is the disk full?)");
  }
}

}  // namespace msinet::data
