#include "msinet/eval/tuebingen.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include "msinet/eval/map_io.h"
#include "msinet/eval/ndimage.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"

namespace msinet::eval {

namespace {

constexpr double kLn2 = 0.69314718055994530942;

cv::Mat exp_of(const cv::Mat& log_density) {
  cv::Mat p(log_density.size(), CV_64FC1);
  for (int y = 0; y < p.rows; ++y) {
    const double* src = log_density.ptr<double>(y);
    double* dst = p.ptr<double>(y);
    for (int x = 0; x < p.cols; ++x) dst[x] = std::exp(src[x]);
  }
  return p;
}

cv::Mat log_of(const cv::Mat& density) {
  cv::Mat l(density.size(), CV_64FC1);
  for (int y = 0; y < l.rows; ++y) {
    const double* src = density.ptr<double>(y);
    double* dst = l.ptr<double>(y);
    for (int x = 0; x < l.cols; ++x) dst[x] = std::log(src[x]);
  }
  return l;
}

double at(const cv::Mat& m, int index) { return m.ptr<double>()[index]; }

Score no_fixations() { return Score::none("empty fixation map"); }

/// pysaliency's convert_saliency_map_to_density with minimum_value 0.
cv::Mat as_distribution(const cv::Mat& map) {
  double lo = 0;
  cv::minMaxLoc(map, &lo, nullptr);
  cv::Mat d = lo < 0 ? cv::Mat(map - lo) : map.clone();
  const double total = cv::sum(d)[0];
  if (total != 0) return d / total;
  return cv::Mat(map.size(), CV_64FC1, cv::Scalar(1.0 / static_cast<double>(map.total())));
}

}  // namespace

const std::vector<std::string>& tuebingen_metrics() {
  static const std::vector<std::string> kAll{"ll", "ig", "auc", "sauc", "nss", "cc", "kld", "sim"};
  return kAll;
}

std::vector<std::string> tuebingen_metric_selection(const std::vector<std::string>& wanted) {
  std::set<std::string> chosen;
  for (const std::string& w : wanted) {
    const std::string name = util::to_lower(w);
    if (std::find(tuebingen_metrics().begin(), tuebingen_metrics().end(), name) ==
        tuebingen_metrics().end()) {
      std::string all;
      for (const auto& m : tuebingen_metrics()) all += (all.empty() ? "" : ", ") + m;
      throw Error(ErrorCode::kUsage,
                  "unknown metric '" + w + "' for the tuebingen protocol; choose from " + all);
    }
    chosen.insert(name);
  }
  std::vector<std::string> out;
  for (const auto& m : tuebingen_metrics()) {
    if (chosen.empty() || chosen.count(m)) out.push_back(m);
  }
  return out;
}

CentreBias fit_training_centre_bias(const EvalOptions& options) {
  std::vector<fs::path> files = options.train_fixation_files;
  if (files.empty()) {
    if (options.train_fixations_dir.empty()) {
      throw Error(ErrorCode::kUsage,
                  "the tuebingen protocol needs the training split's fixation maps for its "
                  "centre-bias baseline: give --train-fixations DIR");
    }
    std::error_code ec;
    if (!fs::is_directory(options.train_fixations_dir, ec)) {
      throw Error(ErrorCode::kInput, "training fixation maps folder '" +
                                         options.train_fixations_dir.string() +
                                         "' does not exist or is not a folder");
    }
    files = list_maps(options.train_fixations_dir);
  }
  std::vector<FixationPoints> maps;
  maps.reserve(files.size());
  for (const auto& f : files) maps.push_back(fixation_points(read_map(f)));
  return CentreBias::fit(maps);
}

std::string describe(const CentreBiasFit& f) {
  char text[256];
  std::snprintf(text, sizeof text,
                "centre bias fitted on %zu training images (%zu fixations): bandwidth %.4g of the "
                "image side, uniform weight %.4g, held-out %.4f bit/fixation over uniform "
                "(%d-fold)",
                f.images, f.fixations, f.bandwidth, f.uniform_weight, f.heldout_bits, f.folds);
  return text;
}

std::vector<std::pair<std::string, double>> report_parameters(const CentreBiasFit& f,
                                                              double kernel_size) {
  return {{"bandwidth", f.bandwidth},
          {"uniform_weight", f.uniform_weight},
          {"heldout_bits_per_fixation", f.heldout_bits},
          {"training_images", static_cast<double>(f.images)},
          {"training_fixations", static_cast<double>(f.fixations)},
          {"folds", static_cast<double>(f.folds)},
          {"kernel_size", kernel_size}};
}

void require_npy_predictions(const std::vector<fs::path>& files) {
  std::string bad;
  size_t count = 0;
  for (const auto& f : files) {
    if (util::to_lower(f.extension().string()) == ".npy") continue;
    if (++count <= 5) bad += (bad.empty() ? "'" : ", '") + f.string() + "'";
  }
  if (count == 0) return;
  throw Error(
      ErrorCode::kInput,
      "the tuebingen protocol reads densities or log-densities as .npy (float32/float64); " + bad +
          (count > 5 ? " and " + std::to_string(count - 5) + " more" : "") +
          (count == 1 ? " is not" : " are not") +
          " (write them with `msinet test --output density`, or use --protocol mit)");
}

cv::Mat as_log_density(const cv::Mat& prediction, const std::string& name) {
  cv::Mat m;
  prediction.convertTo(m, CV_64F);
  double lo = 0;
  cv::minMaxLoc(m, &lo, nullptr);
  char buf[64];
  if (lo < 0) {
    const double lse = log_sum_exp(m);
    if (!(std::abs(lse) <= kNormalisationTolerance)) {
      std::snprintf(buf, sizeof buf, "%.6g", lse);
      throw Error(ErrorCode::kInput, "'" + name +
                                         "' has negative values, so it is read as a log-density, "
                                         "but its log-sum-exp is " +
                                         buf +
                                         ", not 0 within 1e-3; save log(density) normalised "
                                         "over the image");
    }
    return m - lse;
  }
  const double total = cv::sum(m)[0];
  if (!(std::abs(total - 1.0) <= kNormalisationTolerance)) {
    std::snprintf(buf, sizeof buf, "%.6g", total);
    throw Error(ErrorCode::kInput,
                "'" + name + "' is read as a density (no negative values), but it sums to " + buf +
                    ", not 1 within 1e-3; save a density (sums to 1) or a log-density (log-sum-exp "
                    "0), e.g. from `msinet test --output density`");
  }
  return log_of(m / total);
}

cv::Mat resize_log_density(const cv::Mat& log_density, cv::Size size) {
  // ref: pysaliency/models.py ResizingModel
  cv::Mat z = zoom_linear(log_density, size);
  return z - log_sum_exp(z);
}

double ranked_auc(const std::vector<double>& positives, std::vector<double> negatives) {
  // ref: pysaliency/roc.pyx general_rocs_per_positive
  std::sort(negatives.begin(), negatives.end());
  double total = 0.0;
  for (double p : positives) {
    const auto [lo, hi] = std::equal_range(negatives.begin(), negatives.end(), p);
    total += static_cast<double>(lo - negatives.begin()) + 0.5 * static_cast<double>(hi - lo);
  }
  return total / static_cast<double>(negatives.size()) / static_cast<double>(positives.size());
}

std::vector<int> shuffled_nonfixations(const std::vector<const FixationPoints*>& others,
                                       cv::Size size) {
  // ref: pysaliency/saliency_map_models.py FullShuffledNonfixationProvider
  std::vector<int> out;
  for (const FixationPoints* o : others) {
    const double fx = static_cast<double>(size.width) / o->size.width;
    const double fy = static_cast<double>(size.height) / o->size.height;
    for (int i : o->indices) {
      const int x = std::min(static_cast<int>((i % o->size.width) * fx), size.width - 1);
      const int y = std::min(static_cast<int>((i / o->size.width) * fy), size.height - 1);
      out.push_back(y * size.width + x);
    }
  }
  return out;
}

cv::Mat empirical_saliency_map(const FixationPoints& points, double sigma) {
  // ref: pysaliency/saliency_map_models.py FixationMap (kernel_size, convolution_mode 'reflect')
  return gaussian_filter(fixation_map(points), sigma, sigma, BorderMode::kReflect);
}

cv::Mat blurred_density(const cv::Mat& log_density, double sigma) {
  // ref: saliency_benchmarking/saliency_map_provider.py saliency_map_model_for_CC (mode constant)
  return gaussian_filter(exp_of(log_density), sigma, sigma, BorderMode::kConstant);
}

Score tuebingen_ll(const cv::Mat& log_density, const FixationPoints& points) {
  // ref: saliency_benchmarking/multi_metric_evaluation.py IG without baseline
  if (points.indices.empty()) return no_fixations();
  const double uniform = -std::log(static_cast<double>(log_density.total()));
  double total = 0.0;
  for (int i : points.indices) total += at(log_density, i) - uniform;
  return Score::of(total / static_cast<double>(points.indices.size()) / kLn2);
}

Score tuebingen_ig(const cv::Mat& log_density, const cv::Mat& baseline,
                   const FixationPoints& points) {
  // ref: pysaliency/models.py information_gains
  if (points.indices.empty()) return no_fixations();
  double total = 0.0;
  for (int i : points.indices) total += at(log_density, i) - at(baseline, i);
  return Score::of(total / static_cast<double>(points.indices.size()) / kLn2);
}

Score tuebingen_auc(const cv::Mat& log_density, const FixationPoints& points) {
  if (points.indices.empty()) return no_fixations();
  const cv::Mat p = exp_of(log_density);
  std::vector<double> pos;
  for (int i : points.indices) pos.push_back(at(p, i));
  return Score::of(ranked_auc(pos, std::vector<double>(p.begin<double>(), p.end<double>())));
}

Score tuebingen_nss(const cv::Mat& log_density, const FixationPoints& points) {
  // ref: pysaliency/metrics.py NSS (np.std: divides by N)
  if (points.indices.empty()) return no_fixations();
  const cv::Mat p = exp_of(log_density);
  cv::Scalar mean, sd;
  cv::meanStdDev(p, mean, sd);
  double total = 0.0;
  for (int i : points.indices) {
    const double v = at(p, i) - mean[0];
    total += sd[0] > 0 ? v / sd[0] : v;
  }
  return Score::of(total / static_cast<double>(points.indices.size()));
}

Score tuebingen_cc(const cv::Mat& a, const cv::Mat& b) {
  // ref: pysaliency/metrics.py CC
  cv::Scalar ma, sa, mb, sb;
  cv::meanStdDev(a, ma, sa);
  cv::meanStdDev(b, mb, sb);
  if (!(sb[0] > 0)) return Score::none("constant empirical map");
  if (!(sa[0] > 0)) return Score::of(0.0);
  double cov = 0.0;
  for (int y = 0; y < a.rows; ++y) {
    const double* ra = a.ptr<double>(y);
    const double* rb = b.ptr<double>(y);
    for (int x = 0; x < a.cols; ++x) cov += (ra[x] - ma[0]) * (rb[x] - mb[0]);
  }
  cov /= static_cast<double>(a.total());
  return Score::of(cov / (sa[0] * sb[0]));
}

Score tuebingen_kld(const cv::Mat& model, const cv::Mat& empirical) {
  // ref: pysaliency/metrics.py MIT_KLDiv (minimum_value 0, both regularisations 2.2204e-16)
  const cv::Mat p = as_distribution(model);
  const cv::Mat g = as_distribution(empirical);
  double total = 0.0;
  for (int y = 0; y < p.rows; ++y) {
    const double* rp = p.ptr<double>(y);
    const double* rg = g.ptr<double>(y);
    for (int x = 0; x < p.cols; ++x) {
      if (rg[x] != 0) total += rg[x] * std::log(kBenchmarkEps + rg[x] / (rp[x] + kBenchmarkEps));
    }
  }
  return Score::of(total);
}

Score tuebingen_sim(const cv::Mat& model, const cv::Mat& empirical) {
  // ref: pysaliency/metrics.py SIM
  cv::Mat m;
  cv::min(as_distribution(model), as_distribution(empirical), m);
  return Score::of(cv::sum(m)[0]);
}

struct TuebingenScorer::Pending {
  cv::Size size;
  std::vector<int> points;  // positives first, then negatives
  size_t positives = 0;
  std::vector<double> log_p;  // L at each point
  std::vector<double> own;    // the image's zoomed density at the 4 grid neighbours of each
};

TuebingenScorer::TuebingenScorer(std::vector<std::string> metrics, CentreBias baseline,
                                 double kernel_size)
    : metrics_(std::move(metrics)), baseline_(std::move(baseline)), kernel_size_(kernel_size) {
  wants_sauc_ = std::find(metrics_.begin(), metrics_.end(), "sauc") != metrics_.end();
  if (wants_sauc_) {
    density_sum_ = cv::Mat::zeros(kShuffledComputeSide, kShuffledComputeSide, CV_64FC1);
  }
}

TuebingenScorer::~TuebingenScorer() = default;

std::vector<Score> TuebingenScorer::score(const cv::Mat& log_density, const FixationPoints& points,
                                          const std::vector<int>& negatives) {
  const cv::Size size = log_density.size();
  if (size != points.size) {
    throw Error(ErrorCode::kInternal, "TuebingenScorer::score: sizes differ");
  }
  cv::Mat blurred, empirical;
  std::vector<Score> out;
  for (const std::string& m : metrics_) {
    if ((m == "cc" || m == "kld" || m == "sim") && blurred.empty()) {
      blurred = blurred_density(log_density, kernel_size_);
      empirical = empirical_saliency_map(points, kernel_size_);
    }
    if (m == "ll") {
      out.push_back(tuebingen_ll(log_density, points));
    } else if (m == "ig") {
      out.push_back(tuebingen_ig(log_density, baseline_.log_density(size), points));
    } else if (m == "auc") {
      out.push_back(tuebingen_auc(log_density, points));
    } else if (m == "sauc") {
      out.push_back(Score::none(kPendingScore));
    } else if (m == "nss") {
      out.push_back(tuebingen_nss(log_density, points));
    } else if (points.indices.empty()) {
      out.push_back(no_fixations());
    } else if (m == "cc") {
      out.push_back(tuebingen_cc(blurred, empirical));
    } else if (m == "kld") {
      out.push_back(tuebingen_kld(blurred, empirical));
    } else if (m == "sim") {
      out.push_back(tuebingen_sim(blurred, empirical));
    } else {
      throw Error(ErrorCode::kInternal, "unknown Tuebingen metric '" + m + "'");
    }
  }
  if (!wants_sauc_) return out;
  // ref: pysaliency/models.py ShuffledBaselineModel (compute_size 500 x 500)
  const cv::Size grid(kShuffledComputeSide, kShuffledComputeSide);
  const cv::Mat own = exp_of(resize_log_density(log_density, grid));
  density_sum_ += own;
  Pending p;
  p.size = size;
  p.points = points.indices;
  p.positives = p.points.size();
  p.points.insert(p.points.end(), negatives.begin(), negatives.end());
  const auto ty = zoom_taps(grid.height, size.height);
  const auto tx = zoom_taps(grid.width, size.width);
  p.log_p.reserve(p.points.size());
  p.own.reserve(4 * p.points.size());
  for (int i : p.points) {
    p.log_p.push_back(at(log_density, i));
    const LinearTap& a = ty[static_cast<size_t>(i / size.width)];
    const LinearTap& b = tx[static_cast<size_t>(i % size.width)];
    for (int r : {a.i0, a.i1}) {
      for (int c : {b.i0, b.i1}) p.own.push_back(own.at<double>(r, c));
    }
  }
  pending_.push_back(std::move(p));
  return out;
}

std::vector<Score> TuebingenScorer::finish_sauc() {
  std::vector<Score> out;
  const size_t n = pending_.size();
  const cv::Size grid(kShuffledComputeSide, kShuffledComputeSide);
  for (const Pending& p : pending_) {
    if (n < 2) {
      out.push_back(Score::none("sauc needs two images"));
      continue;
    }
    if (p.positives == 0) {
      out.push_back(no_fixations());
      continue;
    }
    if (p.points.size() == p.positives) {
      out.push_back(Score::none("no other image's fixations"));
      continue;
    }
    const auto ty = zoom_taps(grid.height, p.size.height);
    const auto tx = zoom_taps(grid.width, p.size.width);
    const double nn = static_cast<double>(n);
    std::vector<double> values;
    values.reserve(p.points.size());
    for (size_t k = 0; k < p.points.size(); ++k) {
      const int i = p.points[k];
      const LinearTap& a = ty[static_cast<size_t>(i / p.size.width)];
      const LinearTap& b = tx[static_cast<size_t>(i % p.size.width)];
      double s[4];
      int j = 0;
      for (int r : {a.i0, a.i1}) {
        for (int c : {b.i0, b.i1}) {
          // The average of the other images' densities; clamped where rounding leaves <= 0.
          const double others = (density_sum_.at<double>(r, c) - p.own[4 * k + j]) / (nn - 1.0);
          s[j++] = std::log(std::max(others, std::numeric_limits<double>::min()));
        }
      }
      const double base =
          (1 - a.f) * ((1 - b.f) * s[0] + b.f * s[1]) + a.f * ((1 - b.f) * s[2] + b.f * s[3]);
      values.push_back(p.log_p[k] - base);
    }
    const std::vector<double> pos(values.begin(), values.begin() + p.positives);
    const std::vector<double> neg(values.begin() + p.positives, values.end());
    out.push_back(Score::of(ranked_auc(pos, neg)));
  }
  pending_.clear();
  return out;
}

}  // namespace msinet::eval
