// TF1-exact resize kernels (align_corners=True), separable, float32 arithmetic in TF's order.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "msinet/data/image.h"
#include "msinet/util/error.h"

namespace msinet::data {

namespace {

constexpr int64_t kCubicTableSize = 1024;

/// One input index (already clamped and multiplied by the channel count) and its weight.
struct Tap {
  int64_t offset;
  float weight;
};

/// Taps of one output index along one axis.
struct AxisTaps {
  std::vector<size_t> begin;  ///< per output index, first tap; begin[out] == taps.size()
  std::vector<Tap> taps;
};

int64_t clamp_index(int64_t i, int64_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

cv::Mat float_input(const cv::Mat& src, int out_h, int out_w, const char* op) {
  if (src.empty() || src.dims != 2) {
    throw Error(ErrorCode::kInternal, std::string(op) + ": the input image is empty");
  }
  if (out_h < 1 || out_w < 1) {
    throw Error(ErrorCode::kInternal, std::string(op) + ": invalid output size " +
                                          std::to_string(out_h) + "x" + std::to_string(out_w));
  }
  cv::Mat f;
  if (src.depth() == CV_32F) {
    f = src;
  } else {
    src.convertTo(f, CV_32F);
  }
  return f.isContinuous() ? f : f.clone();
}

// ref: tensorflow/core/util/image_resizer_state.h CalculateResizeScale (align_corners=True)
float resize_scale(int64_t in, int64_t out) {
  return out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1)
                 : static_cast<float>(in) / static_cast<float>(out);
}

// ref: tensorflow/core/kernels/image/resize_area_op.cc (weights of the cells under [x0, x1))
AxisTaps area_taps(int64_t in, int64_t out, float scale, int64_t stride) {
  AxisTaps a;
  a.begin.reserve(static_cast<size_t>(out) + 1);
  for (int64_t o = 0; o < out; ++o) {
    a.begin.push_back(a.taps.size());
    const float x0 = static_cast<float>(o) * scale;
    const float x1 = static_cast<float>(o + 1) * scale;
    const auto start = static_cast<int64_t>(std::floor(x0));
    const auto end = static_cast<int64_t>(std::ceil(x1));
    for (int64_t i = start; i < end; ++i) {
      const auto fi = static_cast<float>(i);
      const auto fi1 = static_cast<float>(i + 1);
      const float w = fi < x0 ? (fi1 > x1 ? scale : fi1 - x0) : (fi1 > x1 ? x1 - fi : 1.0f);
      a.taps.push_back({clamp_index(i, in) * stride, w});
    }
  }
  a.begin.push_back(a.taps.size());
  return a;
}

const float* cubic_table() {
  // ref: tensorflow/core/kernels/image/resize_bicubic_op.cc InitCoeffsTable(-0.75)
  static const std::vector<float> table = [] {
    std::vector<float> t(2 * (kCubicTableSize + 1));
    const double a = -0.75;
    for (int64_t i = 0; i <= kCubicTableSize; ++i) {
      auto x = static_cast<float>(static_cast<double>(i) / kCubicTableSize);
      t[2 * i] = static_cast<float>(((a + 2) * x - (a + 3)) * x * x + 1);
      x += 1.0f;
      t[2 * i + 1] = static_cast<float>(((a * x - 5 * a) * x + 8 * a) * x - 4 * a);
    }
    return t;
  }();
  return table.data();
}

// ref: tensorflow/core/kernels/image/resize_bicubic_op.cc GetWeightsAndIndices (legacy scaler)
AxisTaps cubic_taps(int64_t in, int64_t out, float scale, int64_t stride) {
  const float* table = cubic_table();
  AxisTaps a;
  a.begin.reserve(static_cast<size_t>(out) + 1);
  a.taps.reserve(static_cast<size_t>(out) * 4);
  for (int64_t o = 0; o < out; ++o) {
    a.begin.push_back(a.taps.size());
    const float src = static_cast<float>(o) * scale;
    const auto i0 = static_cast<int64_t>(std::floor(src));
    const float delta = src - static_cast<float>(i0);
    const int64_t t = lrintf(delta * static_cast<float>(kCubicTableSize));
    a.taps.push_back({clamp_index(i0 - 1, in) * stride, table[t * 2 + 1]});
    a.taps.push_back({clamp_index(i0, in) * stride, table[t * 2]});
    a.taps.push_back({clamp_index(i0 + 1, in) * stride, table[(kCubicTableSize - t) * 2]});
    a.taps.push_back({clamp_index(i0 + 2, in) * stride, table[(kCubicTableSize - t) * 2 + 1]});
  }
  a.begin.push_back(a.taps.size());
  return a;
}

/// dst[x * cn + c] = sum_k src[tap_k + c] * w_k, accumulated left to right from the first product.
void horizontal_pass(const float* src, float* dst, const AxisTaps& xt, int64_t out_w, int cn) {
  for (int64_t x = 0; x < out_w; ++x) {
    const Tap* first = xt.taps.data() + xt.begin[x];
    const Tap* last = xt.taps.data() + xt.begin[x + 1];
    for (int c = 0; c < cn; ++c) {
      float acc = src[first->offset + c] * first->weight;
      for (const Tap* t = first + 1; t < last; ++t) acc += src[t->offset + c] * t->weight;
      dst[x * cn + c] = acc;
    }
  }
}

}  // namespace

// ref: tensorflow/core/kernels/image/resize_area_op.cc ResizeAreaOp (align_corners=True)
// Per source row, the x-weighted sums are formed first (sum_y), then weighted by the row's
// y-weight and accumulated, then multiplied by float(1.0 / (sy * sx)), all in float32 as TF does;
// doing the x pass once per source row and reusing it for every output row is the same arithmetic.
cv::Mat resize_area_tf(const cv::Mat& src, int out_h, int out_w) {
  const cv::Mat in = float_input(src, out_h, out_w, "resize_area_tf");
  const int cn = in.channels();
  const int64_t in_h = in.rows;
  const int64_t in_w = in.cols;
  if ((in_h == 1 && out_h > 1) || (in_w == 1 && out_w > 1)) {
    throw Error(ErrorCode::kInternal,
                "resize_area_tf: cannot enlarge a single row or column (TF yields NaN there); "
                "use resize_bicubic_tf");
  }
  const float sy = resize_scale(in_h, out_h);
  const float sx = resize_scale(in_w, out_w);
  const AxisTaps xt = area_taps(in_w, out_w, sx, cn);
  const AxisTaps yt = area_taps(in_h, out_h, sy, 1);
  const auto norm = static_cast<float>(1.0 / static_cast<double>(sy * sx));

  const int64_t row_len = static_cast<int64_t>(out_w) * cn;
  cv::Mat rows(static_cast<int>(in_h), static_cast<int>(row_len), CV_32F);
  for (int64_t r = 0; r < in_h; ++r) {
    horizontal_pass(in.ptr<float>(static_cast<int>(r)), rows.ptr<float>(static_cast<int>(r)), xt,
                    out_w, cn);
  }

  cv::Mat out(out_h, out_w, CV_MAKETYPE(CV_32F, cn));
  std::vector<float> acc(static_cast<size_t>(row_len));
  for (int y = 0; y < out_h; ++y) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (size_t k = yt.begin[y]; k < yt.begin[y + 1]; ++k) {
      const float* tr = rows.ptr<float>(static_cast<int>(yt.taps[k].offset));
      const float w = yt.taps[k].weight;
      for (int64_t j = 0; j < row_len; ++j) acc[j] += tr[j] * w;
    }
    float* o = out.ptr<float>(y);
    for (int64_t j = 0; j < row_len; ++j) o[j] = acc[j] * norm;
  }
  return out;
}

// ref: tensorflow/core/kernels/image/resize_bicubic_op.cc interpolate_with_caching (legacy)
// TF interpolates each of the four columns vertically first, then combines them horizontally;
// the vertical pass over whole rows followed by the horizontal pass is the same arithmetic.
cv::Mat resize_bicubic_tf(const cv::Mat& src, int out_h, int out_w) {
  const cv::Mat in = float_input(src, out_h, out_w, "resize_bicubic_tf");
  const int cn = in.channels();
  const int64_t in_h = in.rows;
  const int64_t in_w = in.cols;
  const AxisTaps yt = cubic_taps(in_h, out_h, resize_scale(in_h, out_h), 1);
  const AxisTaps xt = cubic_taps(in_w, out_w, resize_scale(in_w, out_w), cn);

  const int64_t row_len = in_w * cn;
  std::vector<float> col(static_cast<size_t>(row_len));
  cv::Mat out(out_h, out_w, CV_MAKETYPE(CV_32F, cn));
  for (int y = 0; y < out_h; ++y) {
    const Tap* t = yt.taps.data() + yt.begin[y];
    const float* r0 = in.ptr<float>(static_cast<int>(t[0].offset));
    const float* r1 = in.ptr<float>(static_cast<int>(t[1].offset));
    const float* r2 = in.ptr<float>(static_cast<int>(t[2].offset));
    const float* r3 = in.ptr<float>(static_cast<int>(t[3].offset));
    const float w0 = t[0].weight, w1 = t[1].weight, w2 = t[2].weight, w3 = t[3].weight;
    for (int64_t j = 0; j < row_len; ++j) {
      col[j] = r0[j] * w0 + r1[j] * w1 + r2[j] * w2 + r3[j] * w3;
    }
    horizontal_pass(col.data(), out.ptr<float>(y), xt, out_w, cn);
  }
  return out;
}

}  // namespace msinet::data
