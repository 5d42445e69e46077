#include "msinet/eval/report.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "msinet/eval/baselines.h"
#include "msinet/util/fs.h"
#include "report_common.h"

namespace msinet::eval {

namespace detail {

std::string number(double v, const char* format) {
  if (!std::isfinite(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

Json json_number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Json interval_json(const Interval& ci) {
  if (!std::isfinite(ci.lo) || !std::isfinite(ci.hi)) return nullptr;
  return Json::array({ci.lo, ci.hi});
}

Json bootstrap_json(int resamples) {
  Json b;
  b["resamples"] = resamples;
  b["level"] = kIntervalLevel;
  b["method"] = "percentile bootstrap over images (linear percentiles of the resampled means)";
  return b;
}

}  // namespace detail

namespace {

using detail::bootstrap_json;
using detail::csv_field;
using detail::interval_json;
using detail::Json;
using detail::json_number;
using detail::number;

/// Per reason: images concerned and the metrics named, in first-seen order.
struct ReasonCount {
  std::string reason;
  size_t images = 0;
  std::set<std::string> metrics;
  bool whole = false;
};

std::vector<ReasonCount> count_reasons(const EvalResult& r) {
  std::vector<ReasonCount> out;
  std::map<std::string, size_t> at;
  std::map<std::string, std::set<std::string>> seen;
  for (const auto& s : r.skipped) {
    auto [it, fresh] = at.emplace(s.reason, out.size());
    if (fresh) out.push_back({s.reason, 0, {}, false});
    ReasonCount& c = out[it->second];
    if (seen[s.reason].insert(s.image).second) ++c.images;
    if (s.metrics.empty()) {
      c.whole = true;
    } else {
      std::stringstream ms(s.metrics);
      std::string m;
      while (std::getline(ms, m, ',')) c.metrics.insert(m);
    }
  }
  return out;
}

size_t whole_images_skipped(const EvalResult& r) {
  std::set<std::string> images;
  for (const auto& s : r.skipped) {
    if (s.metrics.empty()) images.insert(s.image);
  }
  return images.size();
}

}  // namespace

std::string interval_note(int resamples, uint64_t seed) {
  if (resamples <= 0) return "95% intervals: off (--bootstrap 0)";
  return "95% interval: percentile bootstrap of the mean over images, " +
         std::to_string(resamples) + " resamples, seed " + std::to_string(seed);
}

std::string interval_text(const Interval& ci) {
  const std::string lo = number(ci.lo, "%.4f"), hi = number(ci.hi, "%.4f");
  return lo.empty() || hi.empty() ? "-" : "[" + lo + ", " + hi + "]";
}

std::string format_table(const EvalResult& r) {
  std::ostringstream out;
  out << "predictor: " << r.predictor << "\n";
  out << "protocol: " << r.protocol << ", resize: " << r.resize << "\n";
  out << "images scored: " << r.images.size() << ", seed: " << r.seed
      << ", IG baseline: " << r.ig_baseline << "\n";
  out << interval_note(r.bootstrap, r.seed) << "\n\n";
  char line[160];
  std::snprintf(line, sizeof line, "%-10s %10s %10s %7s  %s\n", "metric", "mean", "std", "n",
                r.bootstrap > 0 ? "95% interval" : "");
  out << line;
  for (const auto& s : r.summary) {
    const std::string mean = number(s.mean, "%.4f");
    const std::string sd = number(s.std, "%.4f");
    std::snprintf(line, sizeof line, "%-10s %10s %10s %7zu  %s\n", s.metric.c_str(),
                  mean.empty() ? "-" : mean.c_str(), sd.empty() ? "-" : sd.c_str(), s.n,
                  r.bootstrap > 0 ? interval_text(s.ci).c_str() : "");
    out << line;
  }
  const auto reasons = count_reasons(r);
  if (reasons.empty()) {
    out << "\nskipped: none\n";
  } else {
    out << "\nskipped (" << whole_images_skipped(r) << " whole images):\n";
    for (const auto& c : reasons) {
      out << "  " << c.reason << ": " << c.images << (c.images == 1 ? " image" : " images");
      if (!c.metrics.empty()) {
        std::string ms;
        for (const auto& m : c.metrics) ms += (ms.empty() ? "" : ", ") + m;
        out << " (" << ms << ")";
      }
      out << "\n";
    }
  }
  return out.str();
}

std::string to_csv(const EvalResult& r) {
  std::string out = "image";
  for (const auto& m : r.metrics) out += "," + m;
  out += "\n";
  for (const auto& row : r.images) {
    out += csv_field(row.image);
    for (double v : row.values) out += "," + number(v);
    out += "\n";
  }
  return out;
}

std::string to_json(const EvalResult& r) {
  Json metrics = Json::object();
  for (const auto& s : r.summary) {
    Json m;
    m["mean"] = json_number(s.mean);
    m["std"] = json_number(s.std);
    m["n"] = s.n;
    m["ci95"] = interval_json(s.ci);
    metrics[s.metric] = std::move(m);
  }
  Json by_reason = Json::object();
  for (const auto& c : count_reasons(r)) by_reason[c.reason] = c.images;
  Json items = Json::array();
  for (const auto& s : r.skipped) {
    Json item;
    item["image"] = s.image;
    item["reason"] = s.reason;
    item["metrics"] = s.metrics;
    item["detail"] = s.detail;
    items.push_back(std::move(item));
  }
  Json skipped;
  skipped["images"] = whole_images_skipped(r);
  skipped["by_reason"] = std::move(by_reason);
  skipped["items"] = std::move(items);
  Json doc;
  doc["seed"] = r.seed;
  doc["bootstrap"] = bootstrap_json(r.bootstrap);
  doc["predictor"] = r.predictor;
  doc["protocol"] = r.protocol;
  doc["ig_baseline"] = r.ig_baseline;
  if (r.protocol == "mit") doc["center_sigma_fraction"] = json_number(kCenterSigmaFraction);
  if (!r.baseline_parameters.empty()) {
    Json params = Json::object();
    for (const auto& [name, v] : r.baseline_parameters) params[name] = json_number(v);
    doc["baseline_parameters"] = std::move(params);
  }
  doc["resize"] = r.resize;
  doc["images"] = r.images.size();
  doc["metrics"] = std::move(metrics);
  doc["skipped"] = std::move(skipped);
  // Paths and messages that are not UTF-8 are written with U+FFFD in place of the bad bytes.
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

void write_csv(const std::filesystem::path& path, const EvalResult& result) {
  util::write_file_atomic(path, to_csv(result));
}

void write_json(const std::filesystem::path& path, const EvalResult& result) {
  util::write_file_atomic(path, to_json(result));
}

}  // namespace msinet::eval
