#include "msinet/eval/report.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "msinet/eval/baselines.h"
#include "msinet/util/fs.h"
#include "msinet/util/json_text.h"

namespace msinet::eval {

namespace {

std::string number(double v, const char* format = "%.17g") {
  if (!std::isfinite(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string json_number(double v) {
  const std::string s = number(v);
  return s.empty() ? "null" : s;
}

std::string json_string(const std::string& s) { return util::json_quote(s); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

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

std::string format_table(const EvalResult& r) {
  std::ostringstream out;
  out << "predictor: " << r.predictor << "\n";
  out << "images scored: " << r.images.size() << ", seed: " << r.seed
      << ", IG baseline: " << r.ig_baseline << "\n\n";
  char line[128];
  std::snprintf(line, sizeof line, "%-10s %10s %10s %7s\n", "metric", "mean", "std", "n");
  out << line;
  for (const auto& s : r.summary) {
    const std::string mean = number(s.mean, "%.4f");
    const std::string sd = number(s.std, "%.4f");
    std::snprintf(line, sizeof line, "%-10s %10s %10s %7zu\n", s.metric.c_str(),
                  mean.empty() ? "-" : mean.c_str(), sd.empty() ? "-" : sd.c_str(), s.n);
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
  std::ostringstream o;
  o << "{\n  \"seed\": " << r.seed << ",\n  \"predictor\": " << json_string(r.predictor)
    << ",\n  \"ig_baseline\": " << json_string(r.ig_baseline)
    << ",\n  \"center_sigma_fraction\": " << json_number(kCenterSigmaFraction)
    << ",\n  \"resize\": \"bicubic (MATLAB imresize, antialiased when shrinking)\""
    << ",\n  \"images\": " << r.images.size() << ",\n  \"metrics\": {";
  for (size_t i = 0; i < r.summary.size(); ++i) {
    const auto& s = r.summary[i];
    o << (i ? "," : "") << "\n    " << json_string(s.metric)
      << ": {\"mean\": " << json_number(s.mean) << ", \"std\": " << json_number(s.std)
      << ", \"n\": " << s.n << "}";
  }
  o << "\n  },\n  \"skipped\": {\n    \"images\": " << whole_images_skipped(r)
    << ",\n    \"by_reason\": {";
  const auto reasons = count_reasons(r);
  for (size_t i = 0; i < reasons.size(); ++i) {
    o << (i ? "," : "") << "\n      " << json_string(reasons[i].reason) << ": "
      << reasons[i].images;
  }
  o << "\n    },\n    \"items\": [";
  for (size_t i = 0; i < r.skipped.size(); ++i) {
    const auto& s = r.skipped[i];
    o << (i ? "," : "") << "\n      {\"image\": " << json_string(s.image)
      << ", \"reason\": " << json_string(s.reason) << ", \"metrics\": " << json_string(s.metrics)
      << ", \"detail\": " << json_string(s.detail) << "}";
  }
  o << "\n    ]\n  }\n}\n";
  return o.str();
}

void write_csv(const std::filesystem::path& path, const EvalResult& result) {
  util::write_file_atomic(path, to_csv(result));
}

void write_json(const std::filesystem::path& path, const EvalResult& result) {
  util::write_file_atomic(path, to_json(result));
}

}  // namespace msinet::eval
