#include "msinet/data/blur.h"

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
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

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define MSINET_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MSINET_VECTOR_CLONES
#endif

// The element-wise steps of a pass; each lane does the same IEEE operations, so every clone
// gives the same bits.
MSINET_VECTOR_CLONES void set_scaled(double* __restrict o, const double* __restrict a, double w,
                                     int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = a[i] * w;
}

MSINET_VECTOR_CLONES void add_scaled(double* __restrict o, const double* __restrict a, double w,
                                     int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] += a[i] * w;
}

MSINET_VECTOR_CLONES void add_pair_scaled(double* __restrict o, const double* __restrict a,
                                          const double* __restrict b, double w, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] += (a[i] + b[i]) * w;
}

// One output line of a correlate1d pass over a stack of input lines (nullptr: a line of zeros),
// vectorised along the lines: scipy's symmetric-kernel sum in scipy's order,
// c * w[r], then += (in[i - d] + in[i + d]) * w[r - d] for d = r .. 1, where i - d and i + d
// are reflected into the stack. Zero lines contribute exact zeros and are skipped.
// Returns false (and leaves `out` untouched) when every line in reach is zero.
// ref: scipy/ndimage/src/ni_filters.c NI_Correlate1D
bool correlate_line(const std::vector<const double*>& lines, int64_t len, int64_t i,
                    const std::vector<double>& w, bool round_f32, double* out) {
  const int64_t n = static_cast<int64_t>(lines.size());
  const int64_t r = static_cast<int64_t>(w.size() / 2);
  bool started = false;
  const auto start = [&] {
    if (!started) std::fill(out, out + len, 0.0);
    started = true;
  };
  if (lines[static_cast<size_t>(i)] != nullptr) {
    set_scaled(out, lines[static_cast<size_t>(i)], w[static_cast<size_t>(r)], len);
    started = true;
  }
  for (int64_t d = r; d >= 1; --d) {
    const double* a = lines[static_cast<size_t>(reflect_index(i - d, n))];
    const double* b = lines[static_cast<size_t>(reflect_index(i + d, n))];
    if (a == nullptr && b == nullptr) continue;
    start();
    const double wt = w[static_cast<size_t>(r - d)];
    if (a == nullptr || b == nullptr) {
      add_scaled(out, a == nullptr ? b : a, wt, len);
    } else {
      add_pair_scaled(out, a, b, wt, len);
    }
  }
  if (started && round_f32) {
    for (int64_t x = 0; x < len; ++x) out[x] = static_cast<double>(static_cast<float>(out[x]));
  }
  return started;
}

bool all_zero(const double* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (p[i] != 0.0) return false;
  }
  return true;
}

// Per-thread scratch space, so that converting many maps does not allocate for each one.
struct Workspace {
  std::vector<double> compact, pass0, pass0_t, line;
};

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
// Columns that are entirely zero stay zero through the first pass, so that pass runs on the
// non-zero columns only; the second pass reads the transposed result, one line per column.
cv::Mat gaussian_filter(const cv::Mat& map, double sigma) {
  if (map.channels() != 1 || (map.depth() != CV_64F && map.depth() != CV_32F)) {
    throw Error(ErrorCode::kInternal, "gaussian_filter: expected a CV_64FC1 or CV_32FC1 map");
  }
  const bool f32 = map.depth() == CV_32F;
  const auto w = gaussian_kernel(sigma);
  const int64_t rows = map.rows;
  const int64_t cols = map.cols;
  cv::Mat out(map.rows, map.cols, CV_64F, cv::Scalar(0.0));
  if (rows == 0 || cols == 0) {
    if (f32) out.convertTo(out, CV_32F);
    return out;
  }
  cv::Mat src;
  if (map.depth() == CV_64F && map.isContinuous()) {
    src = map;
  } else {
    map.convertTo(src, CV_64F);
  }
  const double* in = src.ptr<double>();

  std::vector<int64_t> active;  // columns holding a non-zero value
  std::vector<char> col_active(static_cast<size_t>(cols), 0);
  for (int64_t y = 0; y < rows; ++y) {
    const double* row = in + y * cols;
    for (int64_t x = 0; x < cols; ++x) {
      if (row[x] != 0.0) col_active[static_cast<size_t>(x)] = 1;
    }
  }
  for (int64_t x = 0; x < cols; ++x) {
    if (col_active[static_cast<size_t>(x)]) active.push_back(x);
  }
  const int64_t k = static_cast<int64_t>(active.size());
  if (k == 0) {
    if (f32) out.convertTo(out, CV_32F);
    return out;
  }

  thread_local Workspace ws;
  ws.compact.resize(static_cast<size_t>(rows * k));
  ws.pass0.resize(static_cast<size_t>(rows * k));
  ws.pass0_t.resize(static_cast<size_t>(rows * k));
  ws.line.resize(static_cast<size_t>(rows));

  // Pass along axis 0 on the active columns: lines are rows of the compact matrix.
  std::vector<const double*> lines(static_cast<size_t>(rows));
  for (int64_t y = 0; y < rows; ++y) {
    double* c = ws.compact.data() + y * k;
    const double* row = in + y * cols;
    for (int64_t j = 0; j < k; ++j) c[j] = row[active[static_cast<size_t>(j)]];
    lines[static_cast<size_t>(y)] = all_zero(c, k) ? nullptr : c;
  }
  for (int64_t y = 0; y < rows; ++y) {
    double* o = ws.pass0.data() + y * k;
    if (!correlate_line(lines, k, y, w, f32, o)) std::fill(o, o + k, 0.0);
  }
  // Pass along axis 1: lines are columns (transposed); inactive columns are zero lines.
  for (int64_t y = 0; y < rows; ++y) {
    const double* p = ws.pass0.data() + y * k;
    for (int64_t j = 0; j < k; ++j) ws.pass0_t[static_cast<size_t>(j * rows + y)] = p[j];
  }
  std::vector<const double*> col_lines(static_cast<size_t>(cols), nullptr);
  for (int64_t j = 0; j < k; ++j) {
    const double* line = ws.pass0_t.data() + j * rows;
    col_lines[static_cast<size_t>(active[static_cast<size_t>(j)])] =
        all_zero(line, rows) ? nullptr : line;
  }
  double* o = out.ptr<double>();
  for (int64_t x = 0; x < cols; ++x) {
    if (!correlate_line(col_lines, rows, x, w, f32, ws.line.data())) continue;
    for (int64_t y = 0; y < rows; ++y) o[y * cols + x] = ws.line[static_cast<size_t>(y)];
  }
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
