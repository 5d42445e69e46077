#include "msinet/eval/compare.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <unordered_map>

#include "msinet/eval/plots.h"
#include "msinet/eval/report.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "report_common.h"

namespace msinet::eval {

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
using detail::Json;

std::string fixed(double v, const char* format) {
  const std::string s = detail::number(v, format);
  return s.empty() ? "-" : s;
}

std::string verdict_text(const ComparisonResult& r, const Comparison& c, int verdict) {
  if (verdict > 0) return r.labels[c.b] + " better";
  if (verdict < 0) return r.labels[c.a] + " better";
  return "no clear difference";
}

}  // namespace

bool higher_is_better(const std::string& metric) { return metric != "kld"; }

Comparison compare_runs(const EvalResult& a, const EvalResult& b, int resamples, uint64_t seed) {
  if (a.metrics != b.metrics) {
    throw Error(ErrorCode::kInternal, "compared runs must score the same metrics");
  }
  std::unordered_map<std::string, size_t> in_b;
  for (size_t j = 0; j < b.images.size(); ++j) in_b.emplace(b.images[j].image, j);
  Comparison c;
  for (size_t k = 0; k < a.metrics.size(); ++k) {
    const std::string& m = a.metrics[k];
    PairedMetric p;
    p.metric = m;
    std::vector<double> diffs;
    for (const auto& row : a.images) {
      const auto it = in_b.find(row.image);
      if (it == in_b.end()) continue;
      const double x = row.values[k], y = b.images[it->second].values[k];
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      diffs.push_back(y - x);
      if (y == x) {
        ++p.ties;
      } else if ((y > x) == higher_is_better(m)) {
        ++p.b_better;
      } else {
        ++p.a_better;
      }
    }
    p.n = diffs.size();
    double total = 0.0;
    for (double d : diffs) total += d;
    p.mean_diff = diffs.empty() ? kNan : total / static_cast<double>(diffs.size());
    p.ci = bootstrap_mean_interval(diffs, resamples, derive_seed(seed, m, "paired_bootstrap"));
    p.wilcoxon = wilcoxon_signed_rank(diffs);
    if (p.ci.lo > 0.0 || p.ci.hi < 0.0) {
      p.verdict = (p.ci.lo > 0.0) == higher_is_better(m) ? 1 : -1;
    }
    c.metrics.push_back(std::move(p));
  }
  return c;
}

ComparisonResult run_comparison(const EvalOptions& options,
                                const std::vector<fs::path>& pred_dirs) {
  if (pred_dirs.size() < 2) {
    throw Error(ErrorCode::kUsage, "a comparison needs two or more predictions folders (--pred)");
  }
  if (!options.baseline.empty()) {
    throw Error(ErrorCode::kUsage, "give either predictions folders or a baseline, not both");
  }
  ComparisonResult r;
  r.bootstrap = std::max(options.bootstrap, 0);
  r.seed = options.seed;
  EvalOptions one = options;
  one.csv.clear();
  one.json.clear();
  one.plots_dir.clear();
  one.keep_roc = !options.plots_dir.empty();
  for (size_t i = 0; i < pred_dirs.size(); ++i) {
    one.pred_dir = pred_dirs[i];
    r.runs.push_back(run_eval(one));
    r.labels.push_back("pred" + std::to_string(i + 1));
  }
  for (size_t i = 1; i < r.runs.size(); ++i) {
    Comparison c = compare_runs(r.runs[0], r.runs[i], options.bootstrap, options.seed);
    c.a = 0;
    c.b = i;
    r.comparisons.push_back(std::move(c));
  }
  if (!options.csv.empty()) util::write_file_atomic(options.csv, comparison_to_csv(r));
  if (!options.json.empty()) util::write_file_atomic(options.json, comparison_to_json(r));
  if (!options.plots_dir.empty()) {
    std::vector<const EvalResult*> runs;
    for (const auto& run : r.runs) runs.push_back(&run);
    write_plots(options.plots_dir, runs, r.labels);
  }
  return r;
}

std::string format_comparison(const ComparisonResult& r) {
  std::ostringstream out;
  for (size_t i = 0; i < r.runs.size(); ++i) {
    out << "== " << r.labels[i] << " ==\n" << format_table(r.runs[i]) << "\n";
  }
  for (const Comparison& c : r.comparisons) {
    out << "== " << r.labels[c.b] << " (B) against " << r.labels[c.a]
        << " (A), paired over the images where both are defined ==\n";
    out << "difference B - A (kld: lower is better, the others higher)\n"
        << interval_note(r.bootstrap, r.seed) << " (the same images for both)\n"
        << "p: Wilcoxon signed-rank test, two-sided, normal approximation\n\n";
    char line[256];
    std::snprintf(line, sizeof line, "%-10s %7s %10s %22s %10s %9s %9s %6s  %s\n", "metric", "n",
                  "mean B-A", r.bootstrap > 0 ? "95% interval" : "", "p", "B better", "A better",
                  "ties", "verdict");
    out << line;
    for (const PairedMetric& p : c.metrics) {
      std::snprintf(line, sizeof line, "%-10s %7zu %10s %22s %10s %9zu %9zu %6zu  %s\n",
                    p.metric.c_str(), p.n, fixed(p.mean_diff, "%.4f").c_str(),
                    r.bootstrap > 0 ? interval_text(p.ci).c_str() : "",
                    fixed(p.wilcoxon.p, "%.3g").c_str(), p.b_better, p.a_better, p.ties,
                    verdict_text(r, c, p.verdict).c_str());
      out << line;
    }
    out << "\n";
  }
  return out.str();
}

std::string comparison_to_csv(const ComparisonResult& r) {
  std::vector<std::string> order;
  std::unordered_map<std::string, std::vector<const ImageScores*>> rows;
  for (size_t i = 0; i < r.runs.size(); ++i) {
    for (const auto& row : r.runs[i].images) {
      auto [it, fresh] = rows.emplace(row.image, std::vector<const ImageScores*>(r.runs.size()));
      if (fresh) order.push_back(row.image);
      it->second[i] = &row;
    }
  }
  std::string out = "image";
  for (size_t i = 0; i < r.runs.size(); ++i) {
    for (const auto& m : r.runs[i].metrics) out += "," + r.labels[i] + "." + m;
  }
  out += "\n";
  for (const auto& image : order) {
    out += detail::csv_field(image);
    const auto& cells = rows[image];
    for (size_t i = 0; i < r.runs.size(); ++i) {
      for (size_t k = 0; k < r.runs[i].metrics.size(); ++k) {
        out += "," + (cells[i] != nullptr ? detail::number(cells[i]->values[k]) : std::string());
      }
    }
    out += "\n";
  }
  return out;
}

std::string comparison_to_json(const ComparisonResult& r) {
  Json predictors = Json::array();
  for (size_t i = 0; i < r.runs.size(); ++i) {
    Json p;
    p["label"] = r.labels[i];
    p["report"] = Json::parse(to_json(r.runs[i]));
    predictors.push_back(std::move(p));
  }
  Json comparisons = Json::array();
  for (const Comparison& c : r.comparisons) {
    Json metrics = Json::object();
    for (const PairedMetric& p : c.metrics) {
      Json m;
      m["n"] = p.n;
      m["mean_difference"] = detail::json_number(p.mean_diff);
      m["ci95"] = detail::interval_json(p.ci);
      m["wilcoxon"] = {{"statistic", detail::json_number(p.wilcoxon.statistic)},
                       {"z", detail::json_number(p.wilcoxon.z)},
                       {"p", detail::json_number(p.wilcoxon.p)},
                       {"nonzero", p.wilcoxon.n}};
      m["b_better"] = p.b_better;
      m["a_better"] = p.a_better;
      m["ties"] = p.ties;
      m["higher_is_better"] = higher_is_better(p.metric);
      m["better"] = p.verdict > 0   ? Json(r.labels[c.b])
                    : p.verdict < 0 ? Json(r.labels[c.a])
                                    : Json(nullptr);
      metrics[p.metric] = std::move(m);
    }
    Json entry;
    entry["a"] = r.labels[c.a];
    entry["b"] = r.labels[c.b];
    entry["difference"] = "b - a";
    entry["metrics"] = std::move(metrics);
    comparisons.push_back(std::move(entry));
  }
  Json doc;
  doc["seed"] = r.seed;
  doc["bootstrap"] = detail::bootstrap_json(r.bootstrap);
  doc["test"] =
      "Wilcoxon signed-rank, two-sided, normal approximation, zeros dropped, ties "
      "corrected, no continuity correction";
  doc["predictors"] = std::move(predictors);
  doc["comparisons"] = std::move(comparisons);
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace msinet::eval
