#include "onednn_kernels.h"

#include <ATen/Parallel.h>

#include <algorithm>

namespace msinet::runtime {

// ref: saliency/model.py _upsample (tf.image.resize_bilinear, TF 1.13 defaults)
// Along x first, then y, each step a + (b - a) * 0.5 as in upsample2x_tf_legacy.
void upsample2x_nhwc_into(const float* src, float* dst, int64_t n, int64_t h, int64_t w,
                          int64_t c) {
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, 4 * w * c));
  at::parallel_for(0, n * 2 * h, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t b = r / (2 * h), oy = r % (2 * h), i = oy / 2;
      const float* top = src + (b * h + i) * w * c;
      const float* bottom = src + (b * h + std::min(i + 1, h - 1)) * w * c;
      float* out_row = dst + (b * 2 * h + oy) * 2 * w * c;
      for (int64_t j = 0; j < w; ++j) {
        const int64_t jn = std::min(j + 1, w - 1);
        const float* __restrict a0 = top + j * c;
        const float* __restrict b0 = top + jn * c;
        const float* __restrict a1 = bottom + j * c;
        const float* __restrict b1 = bottom + jn * c;
        float* __restrict even = out_row + 2 * j * c;
        float* __restrict odd = even + c;
        if (oy % 2 != 0) {
          for (int64_t k = 0; k < c; ++k) {
            const float t = a0[k], u = a1[k];
            even[k] = t + (u - t) * 0.5f;
            const float tm = t + (b0[k] - t) * 0.5f;
            const float um = u + (b1[k] - u) * 0.5f;
            odd[k] = tm + (um - tm) * 0.5f;
          }
        } else {
          for (int64_t k = 0; k < c; ++k) {
            even[k] = a0[k];
            odd[k] = a0[k] + (b0[k] - a0[k]) * 0.5f;
          }
        }
      }
    }
  });
}

}  // namespace msinet::runtime
