#include "msinet/eval/centre_bias.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "msinet/eval/ndimage.h"
#include "msinet/util/error.h"

namespace msinet::eval {

namespace {

struct Positions {
  std::vector<double> u, v;
  std::vector<int> image;  // index among the non-empty maps
  int images = 0;
};

Positions normalise(const std::vector<FixationPoints>& maps) {
  Positions p;
  for (const FixationPoints& m : maps) {
    if (m.indices.empty()) continue;
    const int w = m.size.width;
    const int h = m.size.height;
    for (int i : m.indices) {
      p.u.push_back((i % w + 0.5) / w);
      p.v.push_back((i / w + 0.5) / h);
      p.image.push_back(p.images);
    }
    ++p.images;
  }
  return p;
}

/// Pixel of normalised position t on an axis of n pixels.
int cell(double t, int n) { return std::clamp(static_cast<int>(std::floor(t * n)), 0, n - 1); }

/// Normalised KDE (sum 1) on a rows x cols grid of the positions for which `use` is true.
cv::Mat kde_grid(const Positions& p, const std::vector<bool>* use, cv::Size size,
                 double bandwidth) {
  cv::Mat hist = cv::Mat::zeros(size, CV_64FC1);
  for (size_t i = 0; i < p.u.size(); ++i) {
    if (use && !(*use)[i]) continue;
    hist.at<double>(cell(p.v[i], size.height), cell(p.u[i], size.width)) += 1.0;
  }
  cv::Mat k =
      gaussian_filter(hist, bandwidth * size.height, bandwidth * size.width, BorderMode::kReflect);
  const double total = cv::sum(k)[0];
  if (total > 0) k /= total;
  return k;
}

int folds_for(int images) { return std::min(kFitFolds, images); }

/// Held-out kde values (times the grid's pixel count, i.e. relative to uniform) of every
/// position for one bandwidth, each from the folds that do not hold its image.
std::vector<double> heldout_kde(const Positions& p, double bandwidth) {
  const int folds = folds_for(p.images);
  const cv::Size grid(kFitGrid, kFitGrid);
  std::vector<double> out(p.u.size(), 0.0);
  for (int f = 0; f < folds; ++f) {
    std::vector<bool> train(p.u.size());
    for (size_t i = 0; i < p.u.size(); ++i) train[i] = p.image[i] % folds != f;
    const cv::Mat k = kde_grid(p, &train, grid, bandwidth);
    for (size_t i = 0; i < p.u.size(); ++i) {
      if (train[i]) continue;
      out[i] = k.at<double>(cell(p.v[i], kFitGrid), cell(p.u[i], kFitGrid)) * grid.area();
    }
  }
  return out;
}

double bits_for_weight(const std::vector<double>& kde, double w) {
  double total = 0.0;
  for (double k : kde) total += std::log((1.0 - w) * k + w);
  return total / static_cast<double>(kde.size()) / std::log(2.0);
}

Positions checked(const std::vector<FixationPoints>& training) {
  Positions p = normalise(training);
  if (p.images < 2) {
    throw Error(ErrorCode::kInput,
                "the centre-bias baseline needs training fixation maps with fixations from at "
                "least two images (found " +
                    std::to_string(p.images) + "); check --train-fixations");
  }
  return p;
}

}  // namespace

const std::vector<double>& fit_bandwidths() {
  static const std::vector<double> kB = [] {
    std::vector<double> b;
    for (int k = 0; k <= 15; ++k) b.push_back(std::pow(10.0, -2.0 + 0.1 * k));
    return b;
  }();
  return kB;
}

const std::vector<double>& fit_weights() {
  static const std::vector<double> kW = [] {
    std::vector<double> w;
    for (int k = 0; k <= 24; ++k) w.push_back(std::pow(10.0, -6.0 + 0.25 * k));
    return w;
  }();
  return kW;
}

CentreBias::CentreBias(std::vector<double> u, std::vector<double> v, CentreBiasFit fit)
    : u_(std::move(u)), v_(std::move(v)), fit_(fit) {}

double CentreBias::heldout_bits(const std::vector<FixationPoints>& training, double bandwidth,
                                double uniform_weight) {
  const Positions p = checked(training);
  return bits_for_weight(heldout_kde(p, bandwidth), uniform_weight);
}

CentreBias CentreBias::fit(const std::vector<FixationPoints>& training) {
  Positions p = checked(training);
  CentreBiasFit best;
  best.heldout_bits = -std::numeric_limits<double>::infinity();
  for (double b : fit_bandwidths()) {
    const std::vector<double> kde = heldout_kde(p, b);
    for (double w : fit_weights()) {
      const double bits = bits_for_weight(kde, w);
      if (bits > best.heldout_bits) {
        best.heldout_bits = bits;
        best.bandwidth = b;
        best.uniform_weight = w;
      }
    }
  }
  best.images = static_cast<size_t>(p.images);
  best.fixations = p.u.size();
  best.folds = folds_for(p.images);
  return CentreBias(std::move(p.u), std::move(p.v), best);
}

const cv::Mat& CentreBias::log_density(cv::Size size) const {
  const auto key = std::make_pair(size.height, size.width);
  const auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  Positions p;
  p.u = u_;
  p.v = v_;
  cv::Mat d = kde_grid(p, nullptr, size, fit_.bandwidth);
  d = d * (1.0 - fit_.uniform_weight) + fit_.uniform_weight / size.area();
  cv::Mat ld(size, CV_64FC1);
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) ld.at<double>(y, x) = std::log(d.at<double>(y, x));
  }
  ld -= log_sum_exp(ld);
  return cache_.emplace(key, ld).first->second;
}

}  // namespace msinet::eval
