#include "winograd_conv.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "msinet/util/error.h"

namespace msinet::runtime {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Type = memory::data_type;

// Channels per step of a transform, so that a tile's intermediate 6x6 values stay in L1.
constexpr int64_t kBlock = 64;
// A thread's chunk of tiles keeps about this many bytes of transformed inputs and products
// live (about L2 size), so that they go through the transforms and products in the cache.
constexpr int64_t kChunkBytes = int64_t{2} << 20;

// What an input position outside the image reads (the 'same' zero padding).
alignas(64) const float kZeros[kBlock] = {};

// Four outputs per sub-grid row and column; the tile's 4x4 outputs are at rows y0 + d*r and
// columns x0 + d*s of image n (r, s < 4), and it reads rows y0 + d*(k-1), k < 6.
struct Tile {
  int64_t n, y0, x0;
};

// One row (or column) of B^T d: six values of a channel -> six, for n channels at once.
// ref: Lavin & Gray 2016, F(4, 3): B^T.
inline void input_1d(const float* __restrict x0, const float* __restrict x1,
                     const float* __restrict x2, const float* __restrict x3,
                     const float* __restrict x4, const float* __restrict x5, float* __restrict o0,
                     float* __restrict o1, float* __restrict o2, float* __restrict o3,
                     float* __restrict o4, float* __restrict o5, int64_t n) {
  for (int64_t c = 0; c < n; ++c) {
    const float a = x1[c], b = x2[c], e = x3[c], f = x4[c];
    o0[c] = 4.f * x0[c] - 5.f * b + f;
    o1[c] = f + e - 4.f * (a + b);
    o2[c] = f - e + 4.f * (a - b);
    o3[c] = f - b + 2.f * (e - a);
    o4[c] = f - b - 2.f * (e - a);
    o5[c] = 4.f * a - 5.f * e + x5[c];
  }
}

// One row of A^T m: six values -> four, for n channels at once; with `bias` (the last step),
// plus the bias and the optional ReLU.
template <bool kBias, bool kRelu>
inline void output_1d(const float* __restrict x0, const float* __restrict x1,
                      const float* __restrict x2, const float* __restrict x3,
                      const float* __restrict x4, const float* __restrict x5, float* __restrict o0,
                      float* __restrict o1, float* __restrict o2, float* __restrict o3,
                      const float* __restrict bias, int64_t n) {
  for (int64_t c = 0; c < n; ++c) {
    const float p = x1[c] + x2[c], m = x1[c] - x2[c];
    const float q = x3[c] + x4[c], r = x3[c] - x4[c];
    float v0 = x0[c] + p + q, v1 = m + 2.f * r, v2 = p + 4.f * q, v3 = m + 8.f * r + x5[c];
    if (kBias) {
      v0 += bias[c], v1 += bias[c], v2 += bias[c], v3 += bias[c];
    }
    if (kRelu) {
      v0 = std::max(v0, 0.f), v1 = std::max(v1, 0.f), v2 = std::max(v2, 0.f);
      v3 = std::max(v3, 0.f);
    }
    o0[c] = v0, o1[c] = v1, o2[c] = v2, o3[c] = v3;
  }
}

// The per-tile transforms are compiled for AVX-512, AVX2 and the baseline, the one the CPU has
// chosen at load time (the build itself targets the baseline).
#define MSINET_WINOGRAD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// V[k][c] (plane k = 6i + j at stride `plane`) = (B^T d B)[i][j] of tile t, all channels.
MSINET_WINOGRAD_CLONES void input_tile(const float* x, int64_t h, int64_t w, int64_t channels,
                                       int64_t d, const Tile& t, float* v, int64_t plane) {
  alignas(64) float tmp[6][6][kBlock];  // B^T d: [row i][column j][channel]
  const float* col[6];
  for (int64_t c0 = 0; c0 < channels; c0 += kBlock) {
    const int64_t n = std::min(kBlock, channels - c0);
    for (int64_t j = 0; j < 6; ++j) {
      const int64_t xj = t.x0 + d * (j - 1);
      for (int64_t k = 0; k < 6; ++k) {
        const int64_t yk = t.y0 + d * (k - 1);
        const bool inside = yk >= 0 && yk < h && xj >= 0 && xj < w;
        col[k] = inside ? x + ((t.n * h + yk) * w + xj) * channels + c0 : kZeros;
      }
      input_1d(col[0], col[1], col[2], col[3], col[4], col[5], tmp[0][j], tmp[1][j], tmp[2][j],
               tmp[3][j], tmp[4][j], tmp[5][j], n);
    }
    for (int64_t i = 0; i < 6; ++i) {
      float* o = v + 6 * i * plane + c0;
      input_1d(tmp[i][0], tmp[i][1], tmp[i][2], tmp[i][3], tmp[i][4], tmp[i][5], o, o + plane,
               o + 2 * plane, o + 3 * plane, o + 4 * plane, o + 5 * plane, n);
    }
  }
}

// The outputs of tile t = A^T M A + bias (ReLU), from its 36 products M (planes at stride
// `plane`), written where they fall inside the image.
MSINET_WINOGRAD_CLONES void output_tile(const float* m, int64_t plane, const float* bias, bool relu,
                                        int64_t h, int64_t w, int64_t channels, int64_t d,
                                        const Tile& t, float* y) {
  alignas(64) float tmp[4][6][kBlock];   // A^T M: [row r][column j][channel]
  alignas(64) float outside[4][kBlock];  // where outputs past the image's edge go
  for (int64_t c0 = 0; c0 < channels; c0 += kBlock) {
    const int64_t n = std::min(kBlock, channels - c0);
    for (int64_t j = 0; j < 6; ++j) {
      const float* s = m + j * plane + c0;
      output_1d<false, false>(s, s + 6 * plane, s + 12 * plane, s + 18 * plane, s + 24 * plane,
                              s + 30 * plane, tmp[0][j], tmp[1][j], tmp[2][j], tmp[3][j], nullptr,
                              n);
    }
    for (int64_t r = 0; r < 4; ++r) {
      const int64_t yr = t.y0 + d * r;
      if (yr >= h) break;
      float* dst[4];
      for (int64_t s = 0; s < 4; ++s) {
        const int64_t xs = t.x0 + d * s;
        dst[s] = xs < w ? y + ((t.n * h + yr) * w + xs) * channels + c0 : outside[s];
      }
      if (relu) {
        output_1d<true, true>(tmp[r][0], tmp[r][1], tmp[r][2], tmp[r][3], tmp[r][4], tmp[r][5],
                              dst[0], dst[1], dst[2], dst[3], bias + c0, n);
      } else {
        output_1d<true, false>(tmp[r][0], tmp[r][1], tmp[r][2], tmp[r][3], tmp[r][4], tmp[r][5],
                               dst[0], dst[1], dst[2], dst[3], bias + c0, n);
      }
    }
  }
}

// The tiles of every image and sub-grid: sub-grid (p, q) of a rate-d convolution holds the rows
// p + d*i and columns q + d*j, ceil((H - p) / d) by ceil((W - q) / d) of them.
std::vector<Tile> make_tiles(int64_t n, int64_t h, int64_t w, int64_t d) {
  std::vector<Tile> tiles;
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t p = 0; p < std::min(d, h); ++p) {
      const int64_t rows = (h - p + d - 1) / d;
      for (int64_t q = 0; q < std::min(d, w); ++q) {
        const int64_t cols = (w - q + d - 1) / d;
        for (int64_t i = 0; i < rows; i += 4) {
          for (int64_t j = 0; j < cols; j += 4) tiles.push_back({b, p + d * i, q + d * j});
        }
      }
    }
  }
  return tiles;
}

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

}  // namespace

// One thread's working memory: its chunk's transformed inputs and products, and the
// product's scratchpad, so that each thread runs whole chunks without waiting for the others.
struct ThreadScratch {
  torch::Tensor v, m, pad;  // [36, tiles, I], [36, tiles, O], bytes
  dnnl::stream stream{cpu_engine()};
};

// A product primitive for one chunk size, and the weights it reads.
struct Product {
  dnnl::matmul matmul;
  memory weights;
  memory::desc scratchpad;
  int64_t scratch_bytes = 0;
};

struct WinogradConv::Impl {
  int64_t dilation = 1;
  bool relu = true;
  torch::Tensor weights;  // [36, I, O] float32: G g G^T of every (input, output) channel pair
  torch::Tensor bias;     // [O] float32, zeros when the convolution has none
  std::map<int64_t, Product> products;                      // by tiles per chunk
  std::map<std::vector<int64_t>, std::vector<Tile>> tiles;  // by [N, H, W]
  std::vector<std::unique_ptr<ThreadScratch>> scratch;      // by thread

  // The 36 products [tiles, I] x [I, O] for chunks of `count` tiles, made once. Each runs on
  // one thread (inside at::parallel_for oneDNN does not start threads of its own). The weights
  // stay in their plain layout: oneDNN 2.6's matmul asks for that one anyway (format "any"
  // yields abc), and a second copy in another layout would double the largest memory here.
  Product& product(int64_t count) {
    auto it = products.find(count);
    if (it != products.end()) return it->second;
    const int64_t in = weights.size(1), out = weights.size(2);
    const memory::desc src({36, count, in}, Type::f32, Tag::abc);
    const memory::desc wei({36, in, out}, Type::f32, Tag::abc);
    const memory::desc dst({36, count, out}, Type::f32, Tag::abc);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wei, dst), attr, cpu_engine());
    Product p{dnnl::matmul(pd), memory(wei, cpu_engine(), weights.data_ptr<float>()),
              pd.scratchpad_desc(), static_cast<int64_t>(pd.scratchpad_desc().get_size())};
    return products.emplace(count, std::move(p)).first->second;
  }

  // Every thread's scratch, grown to `chunk` tiles and `pad` scratchpad bytes.
  void reserve(size_t threads, int64_t chunk, int64_t pad) {
    const int64_t in = weights.size(1), out = weights.size(2);
    while (scratch.size() < threads) scratch.push_back(std::make_unique<ThreadScratch>());
    for (auto& s : scratch) {
      if (!s->v.defined() || s->v.numel() < 36 * chunk * in)
        s->v = torch::empty({36 * chunk * in}, torch::kFloat32);
      if (!s->m.defined() || s->m.numel() < 36 * chunk * out)
        s->m = torch::empty({36 * chunk * out}, torch::kFloat32);
      if (!s->pad.defined() || s->pad.numel() < pad) s->pad = torch::empty({pad}, torch::kUInt8);
    }
  }
};

WinogradConv::WinogradConv(const torch::Tensor& weight, const torch::Tensor& bias, int64_t dilation,
                           bool relu)
    : impl_(std::make_unique<Impl>()) {
  if (weight.dim() != 4 || weight.size(2) != 3 || weight.size(3) != 3) {
    throw Error(ErrorCode::kUsage, "Winograd convolution: expected a weight [O, I, 3, 3], got " +
                                       std::to_string(weight.dim()) + " dimensions " +
                                       c10::str(weight.sizes()));
  }
  if (dilation < 1) {
    throw Error(ErrorCode::kUsage,
                "Winograd convolution: dilation " + std::to_string(dilation) + " must be >= 1");
  }
  torch::NoGradGuard no_grad;
  out_ = weight.size(0);
  in_ = weight.size(1);
  Impl& m = *impl_;
  m.dilation = dilation;
  m.relu = relu;
  // ref: Lavin & Gray 2016, F(4, 3): G. In float64, so that the float32 weights are rounded once.
  const torch::Tensor g =
      torch::tensor({1.0 / 4, 0.0, 0.0, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6,
                     1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 24, -1.0 / 12, 1.0 / 6, 0.0, 0.0, 1.0},
                    torch::kFloat64)
          .view({6, 3});
  const torch::Tensor w = weight.detach().to(torch::kCPU, torch::kFloat64);
  const torch::Tensor u = torch::matmul(torch::matmul(g, w), g.t());  // [O, I, 6, 6]
  m.weights = u.permute({2, 3, 1, 0}).reshape({36, in_, out_}).to(torch::kFloat32).contiguous();
  m.bias = bias.defined() ? bias.detach().to(torch::kCPU, torch::kFloat32).contiguous()
                          : torch::zeros({out_}, torch::kFloat32);
  if (m.bias.numel() != out_) {
    throw Error(ErrorCode::kUsage, "Winograd convolution: bias of " +
                                       std::to_string(m.bias.numel()) + " values for " +
                                       std::to_string(out_) + " output channels");
  }
}

WinogradConv::~WinogradConv() = default;

torch::Tensor WinogradConv::run(const torch::Tensor& input) {
  if (input.dim() != 4 || input.size(1) != in_ || !input.device().is_cpu() ||
      input.scalar_type() != torch::kFloat32) {
    throw Error(ErrorCode::kUsage, "Winograd convolution: expected a float32 CPU input [N, " +
                                       std::to_string(in_) + ", H, W], got " +
                                       std::string(input.toString()) + " " +
                                       c10::str(input.sizes()));
  }
  Impl& m = *impl_;
  const torch::Tensor x = input.contiguous(torch::MemoryFormat::ChannelsLast);
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3), in = in_, out = out_;
  torch::Tensor y = torch::empty(
      {n, out, h, w},
      torch::TensorOptions(torch::kFloat32).memory_format(torch::MemoryFormat::ChannelsLast));
  if (y.numel() == 0) return y;
  const std::vector<int64_t> key = {n, h, w};
  auto found = m.tiles.find(key);
  if (found == m.tiles.end()) found = m.tiles.emplace(key, make_tiles(n, h, w, m.dilation)).first;
  const std::vector<Tile>& tiles = found->second;
  const int64_t count = static_cast<int64_t>(tiles.size());

  // Chunks of tiles small enough for their transformed inputs and products to stay in the
  // cache, but no smaller than the weights (each chunk reads them all), at least one per thread.
  const int64_t threads = at::get_num_threads();
  const int64_t tile_bytes = 36 * 4 * (in + out), weight_bytes = 36 * 4 * in * out;
  int64_t chunk = std::max<int64_t>({kChunkBytes / tile_bytes, weight_bytes / tile_bytes, 16});
  int64_t chunks = (count + chunk - 1) / chunk;
  chunks = std::min(count, (chunks + threads - 1) / threads * threads);
  chunk = (count + chunks - 1) / chunks;
  chunks = (count + chunk - 1) / chunk;
  const int64_t last = count - (chunks - 1) * chunk;
  Product& full = m.product(chunk);
  Product& tail = m.product(last);
  m.reserve(static_cast<size_t>(threads), chunk, std::max(full.scratch_bytes, tail.scratch_bytes));

  const float* xp = x.data_ptr<float>();
  const float* bias = m.bias.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  const int64_t d = m.dilation;
  at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
    ThreadScratch& s = *m.scratch.at(static_cast<size_t>(at::get_thread_num()));
    float* v = s.v.data_ptr<float>();
    float* prod = s.m.data_ptr<float>();
    for (int64_t c = begin; c < end; ++c) {
      const int64_t first = c * chunk, size = c + 1 == chunks ? last : chunk;
      for (int64_t t = 0; t < size; ++t)
        input_tile(xp, h, w, in, d, tiles[first + t], v + t * in, size * in);
      const Product& p = size == chunk ? full : tail;
      const memory::desc src({36, size, in}, Type::f32, Tag::abc);
      const memory::desc dst({36, size, out}, Type::f32, Tag::abc);
      p.matmul.execute(
          s.stream, {{DNNL_ARG_SRC, memory(src, cpu_engine(), v)},
                     {DNNL_ARG_WEIGHTS, p.weights},
                     {DNNL_ARG_DST, memory(dst, cpu_engine(), prod)},
                     {DNNL_ARG_SCRATCHPAD, memory(p.scratchpad, cpu_engine(), s.pad.data_ptr())}});
      s.stream.wait();
      for (int64_t t = 0; t < size; ++t) {
        output_tile(prod + t * out, size * out, bias, m.relu, h, w, out, d, tiles[first + t], yp);
      }
    }
  });
  return y;
}

}  // namespace msinet::runtime
