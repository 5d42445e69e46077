#include "msinet/eval/evaluate.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "msinet/eval/baselines.h"
#include "msinet/eval/map_io.h"
#include "msinet/eval/plots.h"
#include "msinet/eval/report.h"
#include "msinet/eval/tuebingen.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/util/progress.h"

namespace msinet::eval {

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

bool needs_fixations(const std::string& m) {
  return m != "cc" && m != "kld" && m != "sim" && m != "emd";
}

/// Metrics computed only when asked for by name: EMD solves a transport problem per image.
bool off_by_default(const std::string& m) { return m == "emd"; }

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::string last_component(const std::string& key) {
  const size_t slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

std::string size_text(cv::Size s) {
  return std::to_string(s.height) + "x" + std::to_string(s.width);
}

std::vector<std::string> keys_of(const std::vector<fs::path>& files, const fs::path& root) {
  std::vector<std::string> keys;
  keys.reserve(files.size());
  for (const auto& f : files) keys.push_back(map_key(f, root));
  return keys;
}

/// Throws when two files of one folder share a key.
void require_unique(const std::vector<std::string>& keys, const std::vector<fs::path>& files,
                    const char* what) {
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto [it, fresh] = seen.emplace(keys[i], i);
    if (!fresh) {
      throw Error(ErrorCode::kInput, std::string("two ") + what + " for image '" + keys[i] +
                                         "': '" + files[it->second].string() + "' and '" +
                                         files[i].string() + "'; keep one of them");
    }
  }
}

void require_folder(const fs::path& dir, const char* what) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(ErrorCode::kInput, std::string(what) + " folder '" + dir.string() +
                                       "' does not exist or is not a folder");
  }
}

}  // namespace

const std::vector<std::string>& all_metrics() {
  static const std::vector<std::string> kAll{"auc_judd", "auc_borji", "sauc", "nss", "cc",
                                             "kld",      "sim",       "emd",  "ig"};
  return kAll;
}

std::string strip_map_suffix(const std::string& stem) {
  for (const std::string suffix : {"_fixMap", "_fixPts"}) {
    if (stem.size() > suffix.size() &&
        stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return stem.substr(0, stem.size() - suffix.size());
    }
  }
  return stem;
}

std::string map_key(const fs::path& file, const fs::path& root) {
  std::error_code ec;
  fs::path rel = fs::relative(file, root, ec);
  if (ec || rel.empty() || *rel.begin() == "..") rel = file.filename();
  const fs::path parent = rel.parent_path();
  const std::string stem = strip_map_suffix(rel.stem().string());
  return parent.empty() ? stem : (parent / stem).generic_string();
}

std::vector<fs::path> list_maps(const fs::path& root) {
  std::error_code ec;
  if (fs::is_regular_file(root, ec)) return {root};
  if (!fs::is_directory(root, ec)) {
    throw Error(ErrorCode::kInput,
                "folder '" + root.string() + "' does not exist or is not a folder");
  }
  std::vector<fs::path> out;
  for (auto it = fs::recursive_directory_iterator(
           root, fs::directory_options::follow_directory_symlink, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    const std::string name = p.filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && has_map_extension(p)) out.push_back(p);
  }
  if (ec) throw Error(ErrorCode::kInput, "cannot list '" + root.string() + "': " + ec.message());
  std::sort(out.begin(), out.end(),
            [](const fs::path& a, const fs::path& b) { return a.string() < b.string(); });
  return out;
}

std::vector<int> match_keys(const std::vector<std::string>& targets,
                            const std::vector<std::string>& queries) {
  std::unordered_map<std::string, int> exact;
  std::unordered_map<std::string, int> by_name;  // -2: ambiguous
  for (size_t i = 0; i < targets.size(); ++i) {
    exact.emplace(targets[i], static_cast<int>(i));
    const auto [it, fresh] = by_name.emplace(last_component(targets[i]), static_cast<int>(i));
    if (!fresh) it->second = -2;
  }
  std::unordered_map<std::string, int> query_names;
  for (const auto& q : queries) ++query_names[last_component(q)];
  std::vector<int> out(queries.size(), -1);
  std::vector<bool> taken(targets.size(), false);
  for (size_t i = 0; i < queries.size(); ++i) {
    const auto it = exact.find(queries[i]);
    if (it != exact.end()) {
      out[i] = it->second;
      taken[static_cast<size_t>(it->second)] = true;
    }
  }
  for (size_t i = 0; i < queries.size(); ++i) {
    if (out[i] >= 0) continue;
    const std::string name = last_component(queries[i]);
    const auto it = by_name.find(name);
    if (it == by_name.end() || it->second < 0 || query_names[name] != 1) continue;
    if (taken[static_cast<size_t>(it->second)]) continue;
    out[i] = it->second;
    taken[static_cast<size_t>(it->second)] = true;
  }
  return out;
}

std::vector<GroundTruth> find_ground_truth(const EvalOptions& options) {
  if (options.fixations_dir.empty() && options.maps_dir.empty()) {
    throw Error(ErrorCode::kUsage,
                "no ground truth given: pass a fixation maps folder (and/or a saliency maps "
                "folder)");
  }
  std::vector<GroundTruth> truths;
  std::vector<std::string> keys;
  if (!options.fixations_dir.empty()) {
    require_folder(options.fixations_dir, "fixation maps");
    const auto files = list_maps(options.fixations_dir);
    keys = keys_of(files, options.fixations_dir);
    require_unique(keys, files, "fixation maps");
    for (size_t i = 0; i < files.size(); ++i) truths.push_back({keys[i], files[i], {}, {}});
  }
  if (!options.maps_dir.empty()) {
    require_folder(options.maps_dir, "saliency maps");
    const auto files = list_maps(options.maps_dir);
    const auto map_keys = keys_of(files, options.maps_dir);
    require_unique(map_keys, files, "saliency maps");
    const auto match = match_keys(keys, map_keys);
    for (size_t i = 0; i < files.size(); ++i) {
      if (match[i] >= 0) {
        truths[static_cast<size_t>(match[i])].map = files[i];
      } else {
        truths.push_back({map_keys[i], {}, files[i], {}});
      }
    }
    keys.clear();
    for (const auto& t : truths) keys.push_back(t.image);
  }
  if (!options.baseline_maps_dir.empty()) {
    require_folder(options.baseline_maps_dir, "baseline maps");
    const auto files = list_maps(options.baseline_maps_dir);
    const auto base_keys = keys_of(files, options.baseline_maps_dir);
    require_unique(base_keys, files, "baseline maps");
    const auto match = match_keys(keys, base_keys);
    for (size_t i = 0; i < files.size(); ++i) {
      if (match[i] >= 0) truths[static_cast<size_t>(match[i])].baseline = files[i];
    }
  }
  return truths;
}

struct Evaluator::Truth {
  GroundTruth gt;
  FixationPoints points;
  bool fixations_ok = false;  // fixation map read
  bool broken = false;        // ground truth unreadable, already reported
  bool handled = false;       // scored or reported
};

Evaluator::Evaluator(std::vector<GroundTruth> truths, EvalOptions options)
    : options_(std::move(options)) {
  if (options_.baseline != "" && options_.baseline != "center" && options_.baseline != "chance") {
    throw Error(ErrorCode::kUsage,
                "unknown baseline '" + options_.baseline + "'; use 'center' or 'chance'");
  }
  if (options_.bootstrap < 0) {
    const std::string n = std::to_string(options_.bootstrap);
    throw Error(ErrorCode::kUsage,
                "--bootstrap must be 0 (no intervals) or a number of resamples, not " + n);
  }
  const bool tuebingen = options_.protocol == "tuebingen";
  if (!tuebingen && options_.protocol != "mit") {
    throw Error(ErrorCode::kUsage,
                "unknown protocol '" + options_.protocol + "'; use 'mit' or 'tuebingen'");
  }
  if (tuebingen && !options_.baseline.empty()) {
    throw Error(
        ErrorCode::kUsage,
        "the tuebingen protocol scores densities, not the '" + options_.baseline +
            "' baseline predictor; give --pred DIR of .npy densities, or use --protocol mit");
  }
  const bool any_fix = std::any_of(truths.begin(), truths.end(),
                                   [](const GroundTruth& t) { return !t.fixations.empty(); });
  const bool any_map = std::any_of(truths.begin(), truths.end(),
                                   [](const GroundTruth& t) { return !t.map.empty(); });
  if (tuebingen) {
    metrics_ = tuebingen_metric_selection(options_.metrics);
  } else {
    std::set<std::string> wanted;
    for (const auto& m : options_.metrics) {
      const std::string name = util::to_lower(m);
      if (std::find(all_metrics().begin(), all_metrics().end(), name) == all_metrics().end()) {
        throw Error(ErrorCode::kUsage,
                    "unknown metric '" + m + "'; choose from " + join(all_metrics(), ", "));
      }
      if (needs_fixations(name) && !any_fix && !truths.empty()) {
        throw Error(ErrorCode::kUsage,
                    "metric '" + name + "' needs binary fixation maps; give a fixations folder");
      }
      if (!needs_fixations(name) && !any_map && !truths.empty()) {
        throw Error(ErrorCode::kUsage, "metric '" + name +
                                           "' needs continuous ground-truth maps; give a saliency "
                                           "maps folder (--maps DIR)");
      }
      wanted.insert(name);
    }
    for (const auto& m : all_metrics()) {
      const bool applicable = needs_fixations(m) ? any_fix : any_map;
      if (wanted.empty() ? applicable && !off_by_default(m) : wanted.count(m) > 0) {
        metrics_.push_back(m);
      }
    }
  }
  result_.seed = options_.seed;
  result_.bootstrap = std::max(options_.bootstrap, 0);
  result_.metrics = metrics_;
  result_.predictor = !options_.baseline.empty()   ? options_.baseline + " baseline"
                      : !options_.pred_dir.empty() ? options_.pred_dir.string()
                                                   : "predictions";
  result_.ig_baseline =
      options_.baseline_maps_dir.empty() ? "center" : options_.baseline_maps_dir.string();

  truths_.reserve(truths.size());
  for (auto& t : truths) {
    if (t.image.empty() || (t.fixations.empty() && t.map.empty())) {
      throw Error(ErrorCode::kInternal, "ground truth entry needs a name and a fixation or map");
    }
    if (!index_.emplace(t.image, truths_.size()).second) {
      throw Error(ErrorCode::kInput,
                  "two ground truth entries for image '" + t.image + "'; each image needs one");
    }
    truths_.push_back(Truth{std::move(t), {}, false, false, false});
  }
  const bool fixation_metric =
      tuebingen || std::any_of(metrics_.begin(), metrics_.end(), needs_fixations);
  for (size_t i = 0; i < truths_.size(); ++i) {
    Truth& t = truths_[i];
    if (t.gt.fixations.empty() || !fixation_metric) continue;
    try {
      t.points = fixation_points(read_map(t.gt.fixations));
      t.fixations_ok = true;
      if (!t.points.indices.empty()) pool_.push_back(i);
    } catch (const Error& e) {
      spdlog::warn("{}", e.what());
      result_.skipped.push_back({t.gt.image, "unreadable ground truth", "", e.what()});
      t.broken = true;
      t.handled = true;
    }
  }
  if (tuebingen) start_tuebingen();
}

Evaluator::~Evaluator() = default;

bool Evaluator::knows(const std::string& image) const { return index_.count(image) > 0; }

void Evaluator::skip(const std::string& image, const std::string& reason,
                     const std::string& detail) {
  spdlog::warn("skipping '{}': {}: {}", image, reason, detail);
  const auto it = index_.find(image);
  if (it != index_.end()) truths_[it->second].handled = true;
  result_.skipped.push_back({image, reason, "", detail});
}

void Evaluator::add(const std::string& image, const cv::Mat& prediction, const fs::path& source) {
  const std::string where = source.empty() ? image : source.string();
  if (tuebingen_) {
    add_log_density(image, as_log_density(prediction, where), source);
    return;
  }
  Truth* t = accept(image, source);
  if (!t) return;
  if (prediction.empty() || prediction.channels() != 1) {
    skip(image, "unreadable prediction",
         "prediction '" + where + "' is empty or not single-channel");
    return;
  }
  cv::Mat s;
  prediction.convertTo(s, CV_64F);
  if (!cv::checkRange(s)) {
    skip(image, "unreadable prediction", "prediction '" + where + "' has NaN or infinite values");
    return;
  }
  score(*t, s, /*chance=*/false, source);
}

void Evaluator::add_baseline(const std::string& image) {
  if (options_.baseline.empty()) {
    throw Error(ErrorCode::kInternal, "add_baseline called without a baseline in the options");
  }
  const auto it = index_.find(image);
  if (it == index_.end()) {
    throw Error(ErrorCode::kInternal, "add_baseline: no ground truth for '" + image + "'");
  }
  Truth& t = truths_[it->second];
  if (t.handled) return;
  score(t, cv::Mat(), options_.baseline == "chance", {});
}

void Evaluator::score(Truth& t, const cv::Mat& prediction, bool chance, const fs::path& source) {
  t.handled = true;
  const std::string& image = t.gt.image;
  // A constant map (all zero included) ranks nothing and has no shape: no metric scores it,
  // where the MATLAB code would give KLD and SIM (of an all-zero map) a number and the rest NaN.
  double lo = 0, hi = 0;
  if (!prediction.empty()) cv::minMaxLoc(prediction, &lo, &hi);
  if (!prediction.empty() && lo == hi) {
    result_.skipped.push_back({image, "constant prediction", "",
                               "prediction '" + (source.empty() ? image : source.string()) +
                                   "' has the value " + std::to_string(lo) + " everywhere"});
    return;
  }
  const bool has_fix = t.fixations_ok;
  std::map<std::string, Score> scores;
  std::map<std::string, std::string> details;
  const auto set_all = [&](bool fixation_metrics, const std::string& why,
                           const std::string& detail) {
    for (const auto& m : metrics_) {
      if (needs_fixations(m) == fixation_metrics && !scores.count(m)) {
        scores[m] = Score::none(why);
        if (!detail.empty()) details[why] = detail;
      }
    }
  };

  cv::Mat g;
  const bool map_metric = std::any_of(metrics_.begin(), metrics_.end(),
                                      [](const std::string& m) { return !needs_fixations(m); });
  if (map_metric) {
    if (t.gt.map.empty()) {
      set_all(false, "no ground-truth map", "");
    } else {
      try {
        g = read_map(t.gt.map);
      } catch (const Error& e) {
        set_all(false, "unreadable ground-truth map", e.what());
      }
    }
  }
  if (!has_fix) set_all(true, "no fixation map", "");
  cv::Size size = has_fix ? t.points.size : g.size();
  if (size.empty()) {
    result_.skipped.push_back({image, "unreadable ground truth", "",
                               "no readable fixation or saliency map for '" + image + "'"});
    return;
  }
  if (!g.empty() && g.size() != size) {
    set_all(false, "ground-truth map size differs from fixation map",
            t.gt.map.string() + " is " + size_text(g.size()) + ", " + t.gt.fixations.string() +
                " is " + size_text(size));
    g.release();
  }

  cv::Mat s;
  if (!options_.baseline.empty()) {
    s = chance ? chance_map(size) : center_map(size);
  } else {
    s = prediction.size() == size ? prediction : resize_prediction(prediction, size);
  }
  cv::Mat ranked = s;
  if (chance) {
    Rng rng(derive_seed(options_.seed, image, "chance"));
    ranked = s.clone();
    for (int y = 0; y < ranked.rows; ++y) {
      auto* row = ranked.ptr<double>(y);
      for (int x = 0; x < ranked.cols; ++x) row[x] += rng.uniform() * kJitter;
    }
  }
  cv::Mat fix;
  if (has_fix) fix = fixation_map(t.points);

  cv::Mat base;
  const bool wants_ig = std::find(metrics_.begin(), metrics_.end(), "ig") != metrics_.end();
  if (wants_ig && has_fix) {
    if (!t.gt.baseline.empty()) {
      try {
        base = read_map(t.gt.baseline);
        if (base.size() != size) base = resize_prediction(base, size);
      } catch (const Error& e) {
        scores["ig"] = Score::none("unreadable baseline map");
        details["unreadable baseline map"] = e.what();
      }
    } else if (!options_.baseline_maps_dir.empty()) {
      scores["ig"] = Score::none("no baseline map");
    } else {
      base = center_map(size);
    }
  }

  const double npix = static_cast<double>(size.area());
  for (const auto& m : metrics_) {
    if (scores.count(m)) continue;
    Rng rng(derive_seed(options_.seed, image, m));
    if (m == "auc_judd") {
      scores[m] = auc_judd(ranked, fix, options_.jitter ? &rng : nullptr);
    } else if (m == "auc_borji") {
      scores[m] = auc_borji(ranked, fix, rng);
    } else if (m == "sauc") {
      std::vector<size_t> others;
      others.reserve(pool_.size());
      for (size_t i : pool_) {
        if (&truths_[i] != &t) others.push_back(i);
      }
      Rng pick(derive_seed(options_.seed, image, "sauc_others"));
      const size_t n = std::min(others.size(), static_cast<size_t>(kShuffledOthers));
      std::vector<const FixationPoints*> chosen;
      for (size_t i = 0; i < n; ++i) {
        std::swap(others[i], others[i + pick.below(others.size() - i)]);
        chosen.push_back(&truths_[others[i]].points);
      }
      scores[m] = sauc(ranked, fix, scaled_fixation_union(chosen, size), rng);
    } else if (m == "nss") {
      scores[m] = nss(ranked, fix);
    } else if (m == "cc") {
      scores[m] = cc(ranked, g);
    } else if (m == "kld") {
      scores[m] = kld(s, g);
    } else if (m == "sim") {
      scores[m] =
          chance ? sim_distribution(cv::Mat(size, CV_64FC1, cv::Scalar(1.0 / npix)), g) : sim(s, g);
    } else if (m == "emd") {
      const auto start = std::chrono::steady_clock::now();
      scores[m] = emd(s, g);
      emd_seconds_ +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      ++emd_images_;
    } else if (m == "ig") {
      scores[m] = chance
                      ? ig_distribution(cv::Mat(size, CV_64FC1, cv::Scalar(1.0 / npix)), base, fix)
                      : ig(s, base, fix);
    }
  }

  std::vector<double> roc;
  if (has_fix && (options_.keep_roc || !options_.plots_dir.empty()) &&
      std::find(metrics_.begin(), metrics_.end(), "auc_judd") != metrics_.end()) {
    Rng rng(derive_seed(options_.seed, image, "auc_judd"));  // the draws auc_judd() made
    const RocCurve curve = roc_judd(ranked, fix, options_.jitter ? &rng : nullptr);
    if (curve.undefined.empty()) roc = roc_at(curve, roc_grid());
  }
  record(image, source, std::move(scores), details, std::move(roc));
}

void Evaluator::record(const std::string& image, const fs::path& source,
                       std::map<std::string, Score> scores,
                       const std::map<std::string, std::string>& details, std::vector<double> roc) {
  ImageScores row{image, source, {}, std::move(roc)};
  std::map<std::string, std::vector<std::string>> undefined;
  std::vector<std::string> order;
  for (const auto& m : metrics_) {
    const Score& sc = scores[m];
    row.values.push_back(sc.defined() ? sc.value : kNan);
    if (!sc.defined() && sc.undefined != kPendingScore) {
      if (!undefined.count(sc.undefined)) order.push_back(sc.undefined);
      undefined[sc.undefined].push_back(m);
    }
  }
  for (const auto& why : order) {
    const auto d = details.find(why);
    const std::string detail = d != details.end() ? d->second : image;
    spdlog::debug("'{}': {} undefined: {}", image, join(undefined[why], ","), why);
    result_.skipped.push_back({image, why, join(undefined[why], ","), detail});
  }
  result_.images.push_back(std::move(row));
}

void Evaluator::start_tuebingen() {
  CentreBias baseline = fit_training_centre_bias(options_);
  result_.protocol = "tuebingen";
  result_.ig_baseline = describe(baseline.parameters());
  result_.baseline_parameters = report_parameters(baseline.parameters(), options_.kernel_size);
  result_.resize = kTuebingenResize;
  tuebingen_ =
      std::make_unique<TuebingenScorer>(metrics_, std::move(baseline), options_.kernel_size);
}

Evaluator::Truth* Evaluator::accept(const std::string& image, const fs::path& source) {
  const auto it = index_.find(image);
  const std::string where = source.empty() ? image : source.string();
  if (it == index_.end()) {
    skip(image, "no ground truth", "no fixation or saliency map for prediction '" + where + "'");
    return nullptr;
  }
  Truth& t = truths_[it->second];
  if (t.broken) return nullptr;
  if (t.handled) {
    result_.skipped.push_back({image, "duplicate prediction", "", where});
    return nullptr;
  }
  return &t;
}

void Evaluator::add_log_density(const std::string& image, const cv::Mat& log_density,
                                const fs::path& source) {
  if (!tuebingen_) {
    throw Error(ErrorCode::kInternal, "add_log_density needs the tuebingen protocol");
  }
  Truth* t = accept(image, source);
  if (!t) return;
  t->handled = true;
  if (!t->fixations_ok) {
    result_.skipped.push_back({image, "no fixation map", "", image});
    return;
  }
  const cv::Mat ld = log_density.size() == t->points.size
                         ? log_density
                         : resize_log_density(log_density, t->points.size);
  std::vector<const FixationPoints*> others;
  for (size_t i : pool_) {
    if (&truths_[i] != t) others.push_back(&truths_[i].points);
  }
  const std::vector<Score> values =
      tuebingen_->score(ld, t->points, shuffled_nonfixations(others, t->points.size));
  std::map<std::string, Score> scores;
  for (size_t k = 0; k < metrics_.size(); ++k) scores[metrics_[k]] = values[k];
  tuebingen_rows_.push_back(result_.images.size());
  record(image, source, std::move(scores), {});
}

EvalResult Evaluator::finish() {
  const auto sauc_at = std::find(metrics_.begin(), metrics_.end(), "sauc");
  if (tuebingen_ && sauc_at != metrics_.end()) {
    const size_t k = static_cast<size_t>(sauc_at - metrics_.begin());
    const std::vector<Score> sauc = tuebingen_->finish_sauc();
    for (size_t r = 0; r < sauc.size(); ++r) {
      ImageScores& row = result_.images[tuebingen_rows_[r]];
      row.values[k] = sauc[r].defined() ? sauc[r].value : kNan;
      if (!sauc[r].defined())
        result_.skipped.push_back({row.image, sauc[r].undefined, "sauc", row.image});
    }
  }
  if (emd_images_ > 0) {
    spdlog::info("emd: {:.1f} ms per image over {} images",
                 1e3 * emd_seconds_ / static_cast<double>(emd_images_), emd_images_);
  }
  for (const Truth& t : truths_) {
    if (!t.handled) {
      result_.skipped.push_back({t.gt.image, "no prediction", "",
                                 "no prediction for ground truth '" +
                                     (t.gt.fixations.empty() ? t.gt.map : t.gt.fixations).string() +
                                     "'"});
    }
  }
  result_.summary.clear();
  for (size_t k = 0; k < metrics_.size(); ++k) {
    std::vector<double> v;
    for (const auto& row : result_.images) {
      if (!std::isnan(row.values[k])) v.push_back(row.values[k]);
    }
    MetricSummary s{metrics_[k], kNan, kNan, v.size(), {kNan, kNan}};
    if (!v.empty()) {
      double total = 0.0;
      for (double x : v) total += x;
      s.mean = total / static_cast<double>(v.size());
    }
    if (v.size() > 1) {
      double ss = 0.0;
      for (double x : v) ss += (x - s.mean) * (x - s.mean);
      s.std = std::sqrt(ss / static_cast<double>(v.size() - 1));
    }
    s.ci = bootstrap_mean_interval(v, options_.bootstrap,
                                   derive_seed(options_.seed, metrics_[k], "bootstrap"));
    result_.summary.push_back(s);
  }
  return result_;
}

EvalResult evaluate(const std::vector<EvalItem>& items, const EvalOptions& options) {
  std::vector<GroundTruth> truths;
  truths.reserve(items.size());
  for (const auto& it : items) truths.push_back({it.image, it.fixations, it.map, it.baseline});
  Evaluator ev(std::move(truths), options);
  util::Progress bar("eval", static_cast<int64_t>(items.size()), options.progress);
  int64_t done = 0;
  for (const auto& it : items) {
    if (!it.prediction.empty()) {
      ev.add(it.image, it.prediction, it.prediction_path);
    } else if (!it.prediction_path.empty()) {
      try {
        ev.add(it.image, read_map(it.prediction_path), it.prediction_path);
      } catch (const Error& e) {
        ev.skip(it.image, "unreadable prediction", e.what());
      }
    } else if (!options.baseline.empty()) {
      ev.add_baseline(it.image);
    }
    bar.update(++done);
  }
  bar.finish();
  return ev.finish();
}

EvalResult run_eval(const EvalOptions& options) {
  if (options.baseline.empty() && options.pred_dir.empty()) {
    throw Error(ErrorCode::kUsage,
                "nothing to score: give a predictions folder (--pred DIR) or a baseline "
                "(--baseline center|chance)");
  }
  if (!options.baseline.empty() && !options.pred_dir.empty()) {
    throw Error(ErrorCode::kUsage, "give either a predictions folder or a baseline, not both");
  }
  if (!options.pred_dir.empty()) require_folder(options.pred_dir, "predictions");
  const std::vector<GroundTruth> truths = find_ground_truth(options);
  if (truths.empty()) {
    throw Error(
        ErrorCode::kInput,
        "no ground truth maps (.png, .jpg, .jpeg, .npy) found in '" +
            (options.fixations_dir.empty() ? options.maps_dir : options.fixations_dir).string() +
            "'");
  }
  Evaluator ev(truths, options);
  if (!options.baseline.empty()) {
    util::Progress bar("eval", static_cast<int64_t>(truths.size()), options.progress);
    int64_t done = 0;
    for (const auto& t : truths) {
      ev.add_baseline(t.image);
      bar.update(++done);
    }
    bar.finish();
  } else {
    const auto files = list_maps(options.pred_dir);
    if (files.empty()) {
      throw Error(ErrorCode::kInput, "no predicted maps (.png, .jpg, .jpeg, .npy) found in '" +
                                         options.pred_dir.string() + "'");
    }
    if (options.protocol == "tuebingen") require_npy_predictions(files);
    const auto keys = keys_of(files, options.pred_dir);
    std::vector<std::string> truth_keys;
    for (const auto& t : truths) truth_keys.push_back(t.image);
    const auto match = match_keys(truth_keys, keys);
    util::Progress bar("eval", static_cast<int64_t>(files.size()), options.progress);
    for (size_t i = 0; i < files.size(); ++i) {
      if (match[i] < 0) {
        ev.skip(keys[i], "no ground truth",
                "no fixation or saliency map for prediction '" + files[i].string() + "'");
      } else {
        const std::string& image = truths[static_cast<size_t>(match[i])].image;
        cv::Mat s;
        try {
          s = read_map(files[i]);
        } catch (const Error& e) {
          ev.skip(image, "unreadable prediction", e.what());
        }
        if (!s.empty()) ev.add(image, s, files[i]);
      }
      bar.update(static_cast<int64_t>(i + 1));
    }
    bar.finish();
  }
  EvalResult result = ev.finish();
  if (!options.csv.empty()) write_csv(options.csv, result);
  if (!options.json.empty()) write_json(options.json, result);
  if (!options.plots_dir.empty()) write_plots(options.plots_dir, {&result}, {});
  return result;
}

}  // namespace msinet::eval
