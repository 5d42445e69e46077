#include "msinet/runtime/nhwc_ops.h"

#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "msinet/util/error.h"

namespace msinet::runtime {
namespace {

void require_nhwc(const torch::Tensor& x, const char* op) {
  if (!x.defined() || x.dim() != 4 || !x.device().is_cpu() ||
      !x.is_contiguous(torch::MemoryFormat::ChannelsLast) ||
      (x.scalar_type() != torch::kFloat32 && x.scalar_type() != torch::kBFloat16)) {
    throw Error(ErrorCode::kInternal,
                std::string(op) + ": expected a channels-last 4-D float or bfloat16 CPU tensor");
  }
}

void require_slices(const torch::Tensor& x, const std::vector<NhwcSlice>& outputs, int64_t h,
                    int64_t w, const char* op) {
  if (outputs.empty()) throw Error(ErrorCode::kInternal, std::string(op) + ": no outputs");
  for (const NhwcSlice& s : outputs) {
    require_nhwc(s.tensor, op);
    if (s.tensor.scalar_type() != x.scalar_type() || s.tensor.size(0) != x.size(0) ||
        s.tensor.size(2) != h || s.tensor.size(3) != w || s.channel_offset < 0 ||
        s.channel_offset + x.size(1) > s.tensor.size(1)) {
      throw Error(ErrorCode::kInternal, std::string(op) + ": output slice does not fit");
    }
  }
}

// Grain of parallel_for over rows: enough elements per task to amortise the scheduling.
int64_t row_grain(int64_t elements_per_row) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, elements_per_row));
}

inline float to_float(float v) { return v; }
inline float to_float(c10::BFloat16 v) { return static_cast<float>(v); }

// max as torch's pooling computes it: a NaN anywhere wins.
inline float nan_max(float m, float v) { return (v > m || std::isnan(v)) ? v : m; }

template <typename T>
void pool2x2_impl(const torch::Tensor& x, const std::vector<NhwcSlice>& outputs) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t oh = h / 2, ow = w / 2;
  const T* src = x.data_ptr<T>();
  at::parallel_for(0, n * oh, row_grain(ow * c), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t b = r / oh, y = r % oh;
      const T* row0 = src + ((b * h + 2 * y) * w) * c;
      const T* row1 = row0 + w * c;
      const NhwcSlice& first = outputs[0];
      const int64_t ct0 = first.tensor.size(1);
      T* dst0 = first.tensor.data_ptr<T>() + ((b * oh + y) * ow) * ct0 + first.channel_offset;
      for (int64_t x0 = 0; x0 < ow; ++x0) {
        const T* __restrict p00 = row0 + 2 * x0 * c;
        const T* __restrict p01 = p00 + c;
        const T* __restrict p10 = row1 + 2 * x0 * c;
        const T* __restrict p11 = p10 + c;
        T* __restrict d = dst0 + x0 * ct0;
        for (int64_t k = 0; k < c; ++k) {
          float m = to_float(p00[k]);
          m = nan_max(m, to_float(p01[k]));
          m = nan_max(m, to_float(p10[k]));
          m = nan_max(m, to_float(p11[k]));
          d[k] = static_cast<T>(m);
        }
        for (size_t o = 1; o < outputs.size(); ++o) {
          const int64_t ct = outputs[o].tensor.size(1);
          T* e = outputs[o].tensor.data_ptr<T>() + ((b * oh + y) * ow + x0) * ct +
                 outputs[o].channel_offset;
          std::memcpy(e, d, sizeof(T) * c);
        }
      }
    }
  });
}

template <typename T>
void pool_same_impl(const torch::Tensor& x, const std::vector<NhwcSlice>& outputs) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const T* src = x.data_ptr<T>();
  at::parallel_for(0, n * h, row_grain(w * c), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t b = r / h, y = r % h;
      const bool has_below = y + 1 < h;
      const T* row0 = src + ((b * h + y) * w) * c;
      const T* row1 = row0 + w * c;
      const NhwcSlice& first = outputs[0];
      const int64_t ct0 = first.tensor.size(1);
      T* dst0 = first.tensor.data_ptr<T>() + ((b * h + y) * w) * ct0 + first.channel_offset;
      for (int64_t x0 = 0; x0 < w; ++x0) {
        const bool has_right = x0 + 1 < w;
        const T* __restrict p00 = row0 + x0 * c;
        const T* __restrict p01 = has_right ? p00 + c : p00;
        const T* __restrict p10 = has_below ? row1 + x0 * c : p00;
        const T* __restrict p11 = has_below ? p10 + (has_right ? c : 0) : p01;
        T* __restrict d = dst0 + x0 * ct0;
        for (int64_t k = 0; k < c; ++k) {
          float m = to_float(p00[k]);
          m = nan_max(m, to_float(p01[k]));
          m = nan_max(m, to_float(p10[k]));
          m = nan_max(m, to_float(p11[k]));
          d[k] = static_cast<T>(m);
        }
        for (size_t o = 1; o < outputs.size(); ++o) {
          const int64_t ct = outputs[o].tensor.size(1);
          T* e = outputs[o].tensor.data_ptr<T>() + ((b * h + y) * w + x0) * ct +
                 outputs[o].channel_offset;
          std::memcpy(e, d, sizeof(T) * c);
        }
      }
    }
  });
}

// ref: saliency/model.py _upsample (tf.image.resize_bilinear, TF 1.13 defaults)
// Along x first, then y, each step a + (b - a) * 0.5 as in upsample2x_tf_legacy.
template <typename T>
void upsample_impl(const torch::Tensor& x, torch::Tensor& out) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const T* src = x.data_ptr<T>();
  T* dst = out.data_ptr<T>();
  at::parallel_for(0, n * 2 * h, row_grain(4 * w * c), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t b = r / (2 * h), oy = r % (2 * h);
      const int64_t i = oy / 2;
      const bool odd_row = (oy % 2) != 0;
      const T* top = src + ((b * h + i) * w) * c;
      const T* bottom = src + ((b * h + std::min(i + 1, h - 1)) * w) * c;
      T* out_row = dst + ((b * 2 * h + oy) * 2 * w) * c;
      for (int64_t j = 0; j < w; ++j) {
        const int64_t jn = std::min(j + 1, w - 1);
        const T* __restrict a0 = top + j * c;
        const T* __restrict b0 = top + jn * c;
        const T* __restrict a1 = bottom + j * c;
        const T* __restrict b1 = bottom + jn * c;
        T* __restrict even = out_row + (2 * j) * c;
        T* __restrict odd = even + c;
        if (odd_row) {
          for (int64_t k = 0; k < c; ++k) {
            const float t = to_float(a0[k]), u = to_float(a1[k]);
            even[k] = static_cast<T>(t + (u - t) * 0.5f);
            const float tm = t + (to_float(b0[k]) - t) * 0.5f;
            const float um = u + (to_float(b1[k]) - u) * 0.5f;
            odd[k] = static_cast<T>(tm + (um - tm) * 0.5f);
          }
        } else {
          for (int64_t k = 0; k < c; ++k) {
            const float t = to_float(a0[k]);
            even[k] = a0[k];
            odd[k] = static_cast<T>(t + (to_float(b0[k]) - t) * 0.5f);
          }
        }
      }
    }
  });
}

}  // namespace

torch::Tensor empty_nhwc(int64_t n, int64_t c, int64_t h, int64_t w, torch::ScalarType dtype) {
  return torch::empty({n, c, h, w}, torch::TensorOptions().dtype(dtype).memory_format(
                                        torch::MemoryFormat::ChannelsLast));
}

void max_pool2x2_nhwc(const torch::Tensor& x, const std::vector<NhwcSlice>& outputs) {
  require_nhwc(x, "max_pool2x2_nhwc");
  require_slices(x, outputs, x.size(2) / 2, x.size(3) / 2, "max_pool2x2_nhwc");
  if (x.scalar_type() == torch::kFloat32) {
    pool2x2_impl<float>(x, outputs);
  } else {
    pool2x2_impl<c10::BFloat16>(x, outputs);
  }
}

void max_pool_same_s1_nhwc(const torch::Tensor& x, const std::vector<NhwcSlice>& outputs) {
  require_nhwc(x, "max_pool_same_s1_nhwc");
  require_slices(x, outputs, x.size(2), x.size(3), "max_pool_same_s1_nhwc");
  if (x.scalar_type() == torch::kFloat32) {
    pool_same_impl<float>(x, outputs);
  } else {
    pool_same_impl<c10::BFloat16>(x, outputs);
  }
}

torch::Tensor upsample2x_nhwc(const torch::Tensor& x) {
  require_nhwc(x, "upsample2x_nhwc");
  torch::Tensor out =
      empty_nhwc(x.size(0), x.size(1), 2 * x.size(2), 2 * x.size(3), x.scalar_type());
  if (x.numel() == 0) return out;
  if (x.scalar_type() == torch::kFloat32) {
    upsample_impl<float>(x, out);
  } else {
    upsample_impl<c10::BFloat16>(x, out);
  }
  return out;
}

}  // namespace msinet::runtime
