#include "msinet/eval/metrics.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "msinet/util/error.h"
#include "transport.h"

namespace msinet::eval {

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

void require_map(const cv::Mat& m, const char* what) {
  if (m.empty() || m.type() != CV_64FC1) {
    throw Error(ErrorCode::kInternal, std::string("metric input '") + what +
                                          "' must be a non-empty single-channel double map");
  }
}

void require_same_size(const cv::Mat& a, const cv::Mat& b, const char* what_a, const char* what_b) {
  if (a.size() != b.size()) {
    throw Error(ErrorCode::kInput, std::string("map sizes differ: ") + what_a + " is " +
                                       std::to_string(a.rows) + "x" + std::to_string(a.cols) +
                                       ", " + what_b + " is " + std::to_string(b.rows) + "x" +
                                       std::to_string(b.cols) +
                                       " (resize the prediction to the ground truth's size first)");
  }
}

/// A continuous copy of a double map, as a flat vector.
std::vector<double> values_of(const cv::Mat& m) {
  std::vector<double> v;
  v.reserve(m.total());
  for (int y = 0; y < m.rows; ++y) {
    const double* row = m.ptr<double>(y);
    v.insert(v.end(), row, row + m.cols);
  }
  return v;
}

std::vector<double> values_at(const std::vector<double>& v, const std::vector<int>& indices) {
  std::vector<double> out;
  out.reserve(indices.size());
  for (int i : indices) out.push_back(v[static_cast<size_t>(i)]);
  return out;
}

/// Min-max normalisation of a flat vector; false when it is constant.
bool min_max(std::vector<double>& v) {
  const auto [lo_it, hi_it] = std::minmax_element(v.begin(), v.end());
  const double lo = *lo_it;
  const double hi = *hi_it;
  if (!(hi > lo)) return false;
  const double range = hi - lo;
  for (double& x : v) x = (x - lo) / range;
  return true;
}

double sum_of(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return s;
}

bool any_negative(const std::vector<double>& v) {
  return std::any_of(v.begin(), v.end(), [](double x) { return x < 0.0; });
}

bool all_zero(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return x == 0.0; });
}

/// Scales to sum 1; an all-zero vector stays zero.
void to_unit_sum(std::vector<double>& v) {
  const double s = sum_of(v);
  if (s == 0.0) return;
  for (double& x : v) x /= s;
}

double trapezoid(const std::vector<double>& x, const std::vector<double>& y) {
  double area = 0.0;
  for (size_t i = 1; i < x.size(); ++i) area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2.0;
  return area;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Keys' cubic convolution kernel with a = -0.5 (MATLAB imresize's "cubic").
double cubic(double x) {
  const double a = std::abs(x);
  const double a2 = a * a;
  const double a3 = a2 * a;
  if (a <= 1.0) return 1.5 * a3 - 2.5 * a2 + 1.0;
  if (a <= 2.0) return -0.5 * a3 + 2.5 * a2 - 4.0 * a + 2.0;
  return 0.0;
}

struct Contributions {
  int taps = 0;
  std::vector<int> index;      // out * taps source indices, 0-based
  std::vector<double> weight;  // out * taps weights, each row sums to 1
};

// ref: MATLAB imresize.m contributions()
Contributions contributions(int in, int out, double scale) {
  const bool antialias = scale < 1.0;
  const double width = antialias ? 4.0 / scale : 4.0;
  Contributions c;
  c.taps = static_cast<int>(std::ceil(width)) + 2;
  c.index.resize(static_cast<size_t>(out) * c.taps);
  c.weight.resize(c.index.size());
  const long period = 2L * in;
  for (int x = 1; x <= out; ++x) {
    const double u = x / scale + 0.5 * (1.0 - 1.0 / scale);
    const long left = static_cast<long>(std::floor(u - width / 2.0));
    double total = 0.0;
    const size_t row = static_cast<size_t>(x - 1) * c.taps;
    for (int k = 0; k < c.taps; ++k) {
      const long j = left + k;
      const double d = u - static_cast<double>(j);
      const double w = antialias ? scale * cubic(scale * d) : cubic(d);
      c.weight[row + k] = w;
      total += w;
      long m = (j - 1) % period;
      if (m < 0) m += period;
      c.index[row + k] = static_cast<int>(m < in ? m : period - 1 - m);
    }
    for (int k = 0; k < c.taps; ++k) c.weight[row + k] /= total;
  }
  return c;
}

cv::Mat resize_rows(const cv::Mat& in, int out_rows, double scale) {
  const Contributions c = contributions(in.rows, out_rows, scale);
  cv::Mat out(out_rows, in.cols, CV_64FC1);
  for (int y = 0; y < out_rows; ++y) {
    double* dst = out.ptr<double>(y);
    std::fill(dst, dst + in.cols, 0.0);
    for (int k = 0; k < c.taps; ++k) {
      const size_t at = static_cast<size_t>(y) * c.taps + k;
      const double w = c.weight[at];
      const double* src = in.ptr<double>(c.index[at]);
      for (int x = 0; x < in.cols; ++x) dst[x] += w * src[x];
    }
  }
  return out;
}

cv::Mat resize_cols(const cv::Mat& in, int out_cols, double scale) {
  const Contributions c = contributions(in.cols, out_cols, scale);
  cv::Mat out(in.rows, out_cols, CV_64FC1);
  for (int y = 0; y < in.rows; ++y) {
    const double* src = in.ptr<double>(y);
    double* dst = out.ptr<double>(y);
    for (int x = 0; x < out_cols; ++x) {
      double v = 0.0;
      const size_t row = static_cast<size_t>(x) * c.taps;
      for (int k = 0; k < c.taps; ++k) v += c.weight[row + k] * src[c.index[row + k]];
      dst[x] = v;
    }
  }
  return out;
}

}  // namespace

Score Score::none(std::string why) { return Score{kNan, std::move(why)}; }

size_t Rng::below(size_t n) {
  const uint64_t bound = static_cast<uint64_t>(n);
  const uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const uint64_t x = engine_();
    if (x >= threshold) return static_cast<size_t>(x % bound);
  }
}

uint64_t derive_seed(uint64_t seed, std::string_view key, std::string_view stream) {
  uint64_t h = 1469598103934665603ULL;
  const auto mix = [&h](std::string_view s) {
    for (unsigned char ch : s) {
      h ^= ch;
      h *= 1099511628211ULL;
    }
    h ^= 0xffU;
    h *= 1099511628211ULL;
  };
  mix(key);
  mix(stream);
  return splitmix64(seed ^ splitmix64(h));
}

FixationPoints fixation_points(const cv::Mat& fixations) {
  require_map(fixations, "fixations");
  FixationPoints p;
  p.size = fixations.size();
  for (int y = 0; y < fixations.rows; ++y) {
    const double* row = fixations.ptr<double>(y);
    for (int x = 0; x < fixations.cols; ++x) {
      if (row[x] != 0.0) p.indices.push_back(y * fixations.cols + x);
    }
  }
  return p;
}

cv::Mat fixation_map(const FixationPoints& points) {
  cv::Mat m = cv::Mat::zeros(points.size, CV_64FC1);
  auto* data = m.ptr<double>(0);
  for (int i : points.indices) data[i] = 1.0;
  return m;
}

cv::Mat resize_bicubic(const cv::Mat& map, cv::Size size) {
  require_map(map, "map");
  if (size.width <= 0 || size.height <= 0) {
    throw Error(ErrorCode::kInternal, "resize_bicubic: target size must be positive");
  }
  if (map.size() == size) return map.clone();
  const double scale_rows = static_cast<double>(size.height) / map.rows;
  const double scale_cols = static_cast<double>(size.width) / map.cols;
  cv::Mat out = map;
  if (scale_rows <= scale_cols) {
    if (size.height != out.rows) out = resize_rows(out, size.height, scale_rows);
    if (size.width != out.cols) out = resize_cols(out, size.width, scale_cols);
  } else {
    if (size.width != out.cols) out = resize_cols(out, size.width, scale_cols);
    if (size.height != out.rows) out = resize_rows(out, size.height, scale_rows);
  }
  return out;
}

// ref: MATLAB imresize.m (a scale factor: output size ceil(scale * size), weights from scale)
cv::Mat resize_bicubic(const cv::Mat& map, double scale) {
  require_map(map, "map");
  if (!(scale > 0.0) || !std::isfinite(scale)) {
    throw Error(ErrorCode::kInternal, "resize_bicubic: scale must be positive and finite");
  }
  if (scale == 1.0) return map.clone();
  const int rows = static_cast<int>(std::ceil(scale * map.rows));
  const int cols = static_cast<int>(std::ceil(scale * map.cols));
  // Equal factors: MATLAB resizes the first dimension (rows) first.
  return resize_cols(resize_rows(map, rows, scale), cols, scale);
}

cv::Mat resize_prediction(const cv::Mat& map, cv::Size size) {
  require_map(map, "map");
  double lo = 0.0;
  double hi = 0.0;
  cv::minMaxLoc(map, &lo, &hi);
  cv::Mat out = resize_bicubic(map, size);
  for (int y = 0; y < out.rows; ++y) {
    double* row = out.ptr<double>(y);
    for (int x = 0; x < out.cols; ++x) row[x] = std::clamp(row[x], lo, hi);
  }
  return out;
}

bool min_max_normalise(cv::Mat& map) {
  require_map(map, "map");
  double lo = 0.0;
  double hi = 0.0;
  cv::minMaxLoc(map, &lo, &hi);
  if (!(hi > lo)) return false;
  const double range = hi - lo;
  for (int y = 0; y < map.rows; ++y) {
    double* row = map.ptr<double>(y);
    for (int x = 0; x < map.cols; ++x) row[x] = (row[x] - lo) / range;
  }
  return true;
}

// ref: MIT saliency benchmark AUC_Judd.m
RocCurve roc_judd(const cv::Mat& s, const cv::Mat& fixations, Rng* jitter) {
  require_map(s, "prediction");
  require_map(fixations, "fixations");
  require_same_size(s, fixations, "prediction", "fixation map");
  const FixationPoints fix = fixation_points(fixations);
  if (fix.indices.empty()) return {{}, {}, "empty fixation map"};
  std::vector<double> v = values_of(s);
  if (jitter != nullptr) {
    for (double& x : v) x += jitter->uniform() * kJitter;
  }
  if (!min_max(v)) return {{}, {}, "constant prediction"};
  const size_t npix = v.size();
  const size_t nfix = fix.indices.size();
  if (nfix == npix) return {{}, {}, "every pixel is fixated"};
  // at_least[j] = count(S >= ascending[j - 1]): each pixel counts for the thresholds <= it.
  std::vector<double> ascending = values_at(v, fix.indices);
  std::sort(ascending.begin(), ascending.end());
  std::vector<size_t> at_least(nfix + 2, 0);
  for (double x : v) {
    ++at_least[static_cast<size_t>(std::upper_bound(ascending.begin(), ascending.end(), x) -
                                   ascending.begin())];
  }
  for (size_t j = nfix; j-- > 0;) at_least[j] += at_least[j + 1];
  std::vector<double> tp(nfix + 2, 0.0);
  std::vector<double> fp(nfix + 2, 0.0);
  tp.back() = 1.0;
  fp.back() = 1.0;
  for (size_t i = 1; i <= nfix; ++i) {
    const size_t above = at_least[nfix - i + 1];  // i-th threshold, descending: ascending[nfix-i]
    tp[i] = static_cast<double>(i) / static_cast<double>(nfix);
    fp[i] = static_cast<double>(above - i) / static_cast<double>(npix - nfix);
  }
  return {std::move(fp), std::move(tp), {}};
}

Score auc_judd(const cv::Mat& s, const cv::Mat& fixations, Rng* jitter) {
  const RocCurve roc = roc_judd(s, fixations, jitter);
  if (!roc.undefined.empty()) return Score::none(roc.undefined);
  return Score::of(trapezoid(roc.fp, roc.tp));
}

// ref: MIT saliency benchmark AUC_Borji.m (one split)
double thresholded_roc_area(const std::vector<double>& positives,
                            const std::vector<double>& negatives, double step) {
  if (positives.empty() || negatives.empty() || !(step > 0.0)) {
    throw Error(ErrorCode::kInternal, "thresholded_roc_area needs positives, negatives, step > 0");
  }
  const double top = std::max(*std::max_element(positives.begin(), positives.end()),
                              *std::max_element(negatives.begin(), negatives.end()));
  const long count = top < 0.0 ? -1 : static_cast<long>(std::floor(top / step + 1e-9));
  std::vector<double> tp{0.0};
  std::vector<double> fp{0.0};
  const auto fraction_at_least = [](const std::vector<double>& xs, double t) {
    size_t n = 0;
    for (double x : xs) n += x >= t ? 1 : 0;
    return static_cast<double>(n) / static_cast<double>(xs.size());
  };
  for (long k = count; k >= 0; --k) {
    const double t = static_cast<double>(k) * step;
    tp.push_back(fraction_at_least(positives, t));
    fp.push_back(fraction_at_least(negatives, t));
  }
  tp.push_back(1.0);
  fp.push_back(1.0);
  return trapezoid(fp, tp);
}

// ref: MIT saliency benchmark AUC_Borji.m
Score auc_borji(const cv::Mat& s, const cv::Mat& fixations, Rng& rng, int splits, double step) {
  require_map(s, "prediction");
  require_map(fixations, "fixations");
  require_same_size(s, fixations, "prediction", "fixation map");
  const FixationPoints fix = fixation_points(fixations);
  if (fix.indices.empty()) return Score::none("empty fixation map");
  if (fix.indices.size() < 2) return Score::none("fewer than 2 fixations");
  std::vector<double> v = values_of(s);
  if (!min_max(v)) return Score::none("constant prediction");
  const std::vector<double> positives = values_at(v, fix.indices);
  std::vector<double> negatives(positives.size());
  double total = 0.0;
  for (int split = 0; split < splits; ++split) {
    for (double& n : negatives) n = v[rng.below(v.size())];
    total += thresholded_roc_area(positives, negatives, step);
  }
  return Score::of(total / splits);
}

std::vector<int> scaled_fixation_union(const std::vector<const FixationPoints*>& others,
                                       cv::Size size) {
  std::vector<int> out;
  for (const FixationPoints* p : others) {
    const int w = p->size.width;
    const int h = p->size.height;
    for (int i : p->indices) {
      const int x = i % w;
      const int y = i / w;
      const int sx =
          std::min(size.width - 1, static_cast<int>(std::floor((x + 0.5) * size.width / w)));
      const int sy =
          std::min(size.height - 1, static_cast<int>(std::floor((y + 0.5) * size.height / h)));
      out.push_back(sy * size.width + sx);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// ref: MIT saliency benchmark AUC_shuffled.m
Score sauc(const cv::Mat& s, const cv::Mat& fixations, const std::vector<int>& negatives, Rng& rng,
           int splits, double step) {
  require_map(s, "prediction");
  require_map(fixations, "fixations");
  require_same_size(s, fixations, "prediction", "fixation map");
  const FixationPoints fix = fixation_points(fixations);
  if (fix.indices.empty()) return Score::none("empty fixation map");
  if (fix.indices.size() < 2) return Score::none("fewer than 2 fixations");
  if (negatives.empty()) return Score::none("no fixations on other images");
  const auto npix = static_cast<int>(s.total());
  for (int i : negatives) {
    if (i < 0 || i >= npix) throw Error(ErrorCode::kInternal, "sauc: negative index outside map");
  }
  std::vector<double> v = values_of(s);
  if (!min_max(v)) return Score::none("constant prediction");
  const std::vector<double> positives = values_at(v, fix.indices);
  const size_t take = std::min(fix.indices.size(), negatives.size());
  std::vector<int> order = negatives;
  std::vector<double> drawn(take);
  double total = 0.0;
  for (int split = 0; split < splits; ++split) {
    for (size_t i = 0; i < take; ++i) {
      std::swap(order[i], order[i + rng.below(order.size() - i)]);
      drawn[i] = v[static_cast<size_t>(order[i])];
    }
    total += thresholded_roc_area(positives, drawn, step);
  }
  return Score::of(total / splits);
}

// ref: MIT saliency benchmark NSS.m
Score nss(const cv::Mat& s, const cv::Mat& fixations) {
  require_map(s, "prediction");
  require_map(fixations, "fixations");
  require_same_size(s, fixations, "prediction", "fixation map");
  const FixationPoints fix = fixation_points(fixations);
  if (fix.indices.empty()) return Score::none("empty fixation map");
  const std::vector<double> v = values_of(s);
  if (v.size() < 2) return Score::none("constant prediction");
  const double mean = sum_of(v) / static_cast<double>(v.size());
  double ss = 0.0;
  for (double x : v) ss += (x - mean) * (x - mean);
  const double sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
  if (!(sd > 0.0)) return Score::none("constant prediction");
  double total = 0.0;
  for (int i : fix.indices) total += (v[static_cast<size_t>(i)] - mean) / sd;
  return Score::of(total / static_cast<double>(fix.indices.size()));
}

// ref: MIT saliency benchmark CC.m
Score cc(const cv::Mat& s, const cv::Mat& g) {
  require_map(s, "prediction");
  require_map(g, "ground-truth map");
  require_same_size(s, g, "prediction", "ground-truth map");
  const std::vector<double> a = values_of(s);
  const std::vector<double> b = values_of(g);
  const double n = static_cast<double>(a.size());
  const double ma = sum_of(a) / n;
  const double mb = sum_of(b) / n;
  double sab = 0.0;
  double saa = 0.0;
  double sbb = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double da = a[i] - ma;
    const double db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (!(saa > 0.0)) return Score::none("constant prediction");
  if (!(sbb > 0.0)) return Score::none("constant ground-truth map");
  return Score::of(sab / std::sqrt(saa * sbb));
}

// ref: MIT saliency benchmark KLdiv.m
Score kld(const cv::Mat& s, const cv::Mat& g) {
  require_map(s, "prediction");
  require_map(g, "ground-truth map");
  require_same_size(s, g, "prediction", "ground-truth map");
  std::vector<double> p = values_of(s);
  std::vector<double> q = values_of(g);
  if (any_negative(p)) return Score::none("negative values in prediction");
  if (any_negative(q)) return Score::none("negative values in ground-truth map");
  to_unit_sum(p);
  to_unit_sum(q);
  double total = 0.0;
  for (size_t i = 0; i < p.size(); ++i) total += q[i] * std::log(kEps + q[i] / (p[i] + kEps));
  return Score::of(total);
}

namespace {

/// SIM's normalisation: min-max then sum 1; all-zero stays zero; false when constant nonzero.
bool sim_normalise(std::vector<double>& v) {
  if (all_zero(v)) return true;
  if (!min_max(v)) return false;
  to_unit_sum(v);
  return true;
}

Score sim_of(const std::vector<double>& p, std::vector<double> q) {
  if (!sim_normalise(q)) return Score::none("constant ground-truth map");
  double total = 0.0;
  for (size_t i = 0; i < p.size(); ++i) total += std::min(p[i], q[i]);
  return Score::of(total);
}

Score ig_of(const std::vector<double>& p, const cv::Mat& baseline, const cv::Mat& fixations) {
  const FixationPoints fix = fixation_points(fixations);
  if (fix.indices.empty()) return Score::none("empty fixation map");
  std::vector<double> b = values_of(baseline);
  if (!min_max(b)) return Score::none("constant baseline map");
  to_unit_sum(b);
  double total = 0.0;
  for (int i : fix.indices) {
    const auto k = static_cast<size_t>(i);
    total += std::log2(kEps + p[k]) - std::log2(kEps + b[k]);
  }
  return Score::of(total / static_cast<double>(fix.indices.size()));
}

}  // namespace

// ref: MIT saliency benchmark similarity.m
Score sim(const cv::Mat& s, const cv::Mat& g) {
  require_map(s, "prediction");
  require_map(g, "ground-truth map");
  require_same_size(s, g, "prediction", "ground-truth map");
  std::vector<double> p = values_of(s);
  if (!sim_normalise(p)) return Score::none("constant prediction");
  return sim_of(p, values_of(g));
}

Score sim_distribution(const cv::Mat& p, const cv::Mat& g) {
  require_map(p, "prediction");
  require_map(g, "ground-truth map");
  require_same_size(p, g, "prediction", "ground-truth map");
  return sim_of(values_of(p), values_of(g));
}

// ref: MIT saliency benchmark InfoGain.m
Score ig(const cv::Mat& s, const cv::Mat& baseline, const cv::Mat& fixations) {
  require_map(s, "prediction");
  require_map(baseline, "baseline map");
  require_map(fixations, "fixations");
  require_same_size(s, fixations, "prediction", "fixation map");
  require_same_size(baseline, fixations, "baseline map", "fixation map");
  if (fixation_points(fixations).indices.empty()) return Score::none("empty fixation map");
  std::vector<double> p = values_of(s);
  if (!min_max(p)) return Score::none("constant prediction");
  to_unit_sum(p);
  return ig_of(p, baseline, fixations);
}

Score ig_distribution(const cv::Mat& p, const cv::Mat& baseline, const cv::Mat& fixations) {
  require_map(p, "prediction");
  require_map(baseline, "baseline map");
  require_map(fixations, "fixations");
  require_same_size(p, fixations, "prediction", "fixation map");
  require_same_size(baseline, fixations, "baseline map", "fixation map");
  return ig_of(values_of(p), baseline, fixations);
}

namespace {

/// FastEMD's fixed point for double input: masses in units of 1e-6 of the larger total, costs
/// in units of 1e-6 of the largest ground distance (its MULT_FACTOR).
constexpr double kEmdUnits = 1e6;

/// FastEMD's conversion of a non-negative double to its integer units: floor(x * factor + 0.5).
int64_t to_units(double x, double factor) {
  return static_cast<int64_t>(std::floor(x * factor + 0.5));
}

}  // namespace

// ref: MIT saliency benchmark EMD.m; FastEMD emd_hat_impl.hpp (emd_hat_gd_metric, and
// emd_hat_impl<double> for the conversion to integers)
//
// EMD.m calls FastEMD's emd_hat_gd_metric_mex(P, Q, D, 0): P the shrunk ground truth, Q the
// prediction resized to its size, both divided by their sums, D the plain Euclidean distance
// between bin centres (no threshold), extra_mass_penalty 0. emd_hat_gd_metric first leaves the
// mass both maps share in a bin in place (optimal for a metric ground distance, and
// min(d, cap) is one): what travels is (P - Q)+ to (P - Q)-, two non-negative signatures of
// equal mass, even where bicubic overshoot made a shrunk value negative (MATLAB keeps those;
// so does this code). emd_hat = min over flows F of sum F.D + |sum P - sum Q| * penalty, the
// flow carrying min(sum P, sum Q); with penalty 0 that is the least cost of the transport,
// sum F.D, which this code computes as FastEMD does for doubles: masses times 1e6 / max(sum P,
// sum Q) and distances times 1e6 / max D (D over every pair of bins, after the cap), each
// rounded to the nearest integer, an exact integer min-cost flow in which rounding's excess on
// one side stays free, and its cost divided by both factors.
Score emd(const cv::Mat& s, const cv::Mat& g, int downsize, double max_distance) {
  require_map(s, "prediction");
  require_map(g, "ground-truth map");
  if (downsize < 1 || !(max_distance > 0.0)) {
    throw Error(ErrorCode::kInternal, "emd: downsize must be >= 1 and max_distance > 0");
  }
  if (any_negative(values_of(s))) return Score::none("negative values in prediction");
  if (any_negative(values_of(g))) return Score::none("negative values in ground-truth map");
  const cv::Mat small = resize_bicubic(g, 1.0 / downsize);
  std::vector<double> p = values_of(small);
  std::vector<double> q = values_of(resize_bicubic(s, small.size()));
  if (!(sum_of(p) > 0.0)) return Score::none("all-zero ground-truth map");
  if (!(sum_of(q) > 0.0)) return Score::none("all-zero prediction");
  to_unit_sum(p);
  to_unit_sum(q);

  const double mass_factor = kEmdUnits / std::max(sum_of(p), sum_of(q));
  std::vector<int> from;
  std::vector<int> to;
  std::vector<int64_t> supply;
  std::vector<int64_t> demand;
  for (size_t i = 0; i < p.size(); ++i) {
    const int64_t units = to_units(std::abs(p[i] - q[i]), mass_factor);
    if (units == 0) continue;
    (p[i] > q[i] ? from : to).push_back(static_cast<int>(i));
    (p[i] > q[i] ? supply : demand).push_back(units);
  }
  if (from.empty() || to.empty()) return Score::of(0.0);

  const int cols = small.cols;
  const double largest = std::min(max_distance, std::hypot(small.rows - 1, cols - 1));
  const double cost_factor = kEmdUnits / largest;  // > 0: two bins differ
  std::vector<int64_t> cost;
  cost.reserve(from.size() * to.size());
  for (int a : from) {
    for (int b : to) {
      const double d = std::hypot(a / cols - b / cols, a % cols - b % cols);
      cost.push_back(to_units(std::min(max_distance, d), cost_factor));
    }
  }
  const int64_t units = detail::min_cost_transport(supply, demand, cost);
  return Score::of(static_cast<double>(units) / mass_factor / cost_factor);
}

}  // namespace msinet::eval
