#include "msinet/eval/plots.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <unordered_map>

#include "msinet/plot/chart.h"
#include "msinet/util/error.h"

namespace msinet::eval {

namespace {

plot::Frame chart_frame(double x_lo, double x_hi, double y_lo, double y_hi) {
  return {{kChartLeft, kChartTop, kChartWidth - kChartLeft - kChartRight,
           kChartHeight - kChartTop - kChartBottom},
          x_lo,
          x_hi,
          y_lo,
          y_hi};
}

void draw_axes(cv::Mat& img, const plot::Frame& frame, const std::string& title,
               const std::string& x_label, int y_divisions = 5) {
  plot::draw_y_grid(img, frame, y_divisions);
  plot::draw_x_grid(img, frame, /*divisions=*/5);
  // A long title (folder names) is drawn smaller rather than cut at the edge.
  const int room = kChartWidth - kChartLeft - 10;
  const int width = plot::text_width(title, 0.5);
  plot::draw_text(img, title, {kChartLeft, 25}, width > room ? 0.5 * room / width : 0.5);
  plot::draw_text(img, x_label,
                  {(kChartWidth - plot::text_width(x_label, 0.5)) / 2, kChartHeight - 12}, 0.5);
}

/// The last folder name of a predictor ("runs/a/" -> "a"), or the predictor as is.
std::string short_name(const std::string& predictor) {
  fs::path p(predictor);
  if (p.filename().empty()) p = p.parent_path();
  const std::string name = p.filename().string();
  return name.empty() ? predictor : name;
}

std::string interval_text(const MetricSummary& s) {
  std::string out = "mean " + plot::tick_label(s.mean);
  if (std::isfinite(s.ci.lo)) {
    out += ", 95% CI [" + plot::tick_label(s.ci.lo) + ", " + plot::tick_label(s.ci.hi) + "]";
  }
  return out;
}

std::vector<double> defined_values(const EvalResult& r, size_t k) {
  std::vector<double> v;
  for (const auto& row : r.images) {
    if (std::isfinite(row.values[k])) v.push_back(row.values[k]);
  }
  return v;
}

}  // namespace

const std::vector<double>& roc_grid() {
  static const std::vector<double> kGrid = [] {
    std::vector<double> g;
    for (int k = 0; k <= 100; ++k) g.push_back(k / 100.0);
    return g;
  }();
  return kGrid;
}

std::vector<double> roc_at(const RocCurve& curve, const std::vector<double>& fprs) {
  if (curve.fp.empty() || curve.fp.size() != curve.tp.size()) {
    throw Error(ErrorCode::kInternal, "roc_at needs a defined ROC curve");
  }
  std::vector<double> out;
  out.reserve(fprs.size());
  for (double f : fprs) {
    const size_t upper = static_cast<size_t>(std::upper_bound(curve.fp.begin(), curve.fp.end(), f) -
                                             curve.fp.begin());
    if (upper == 0) {
      out.push_back(curve.tp.front());
    } else if (upper == curve.fp.size()) {
      out.push_back(curve.tp.back());
    } else {
      const size_t i = upper - 1;  // fp[i] <= f < fp[i + 1]
      const double t = (f - curve.fp[i]) / (curve.fp[i + 1] - curve.fp[i]);
      out.push_back(curve.tp[i] + (curve.tp[i + 1] - curve.tp[i]) * t);
    }
  }
  return out;
}

Histogram histogram(const std::vector<double>& values, int bins) {
  Histogram h;
  h.counts.assign(static_cast<size_t>(std::max(bins, 1)), 0);
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (!std::isfinite(lo)) return h;
  if (!(hi > lo)) lo -= 0.5, hi += 0.5;
  h.lo = lo;
  h.hi = hi;
  const size_t n = h.counts.size();
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    const double at = (v - lo) / (hi - lo) * static_cast<double>(n);
    ++h.counts[std::min(static_cast<size_t>(std::max(at, 0.0)), n - 1)];
  }
  return h;
}

RocSeries mean_roc(const EvalResult& result, const std::string& label) {
  RocSeries s{label, std::vector<double>(roc_grid().size(), 0.0), 0.0, 0};
  for (const auto& row : result.images) {
    if (row.roc.size() != s.tpr.size()) continue;
    for (size_t i = 0; i < s.tpr.size(); ++i) s.tpr[i] += row.roc[i];
    ++s.n;
  }
  for (double& t : s.tpr) t = s.n > 0 ? t / static_cast<double>(s.n) : 0.0;
  for (const auto& m : result.summary) {
    if (m.metric == "auc_judd") s.auc = m.mean;
  }
  return s;
}

void write_roc_plot(const fs::path& path, const std::vector<RocSeries>& series) {
  cv::Mat img = plot::blank_canvas({kChartWidth, kChartHeight});
  const plot::Frame frame = chart_frame(0.0, 1.0, 0.0, 1.0);
  draw_axes(img, frame, "mean ROC curve of AUC-Judd (true positive rate)", "false positive rate");
  cv::line(img, {frame.x(0.0), frame.y(0.0)}, {frame.x(1.0), frame.y(1.0)},
           cv::Scalar(160, 160, 160), 1, cv::LINE_AA);
  plot::draw_frame(img, frame);
  std::vector<plot::LegendEntry> legend;
  const auto& grid = roc_grid();
  for (size_t k = 0; k < series.size(); ++k) {
    const RocSeries& s = series[k];
    if (s.n == 0) continue;
    const cv::Scalar colour = plot::series_colour(k);
    std::vector<cv::Point> points;
    for (size_t i = 0; i < grid.size(); ++i)
      points.emplace_back(frame.x(grid[i]), frame.y(s.tpr[i]));
    cv::polylines(img, points, /*isClosed=*/false, colour, 2, cv::LINE_AA);
    legend.push_back(
        {s.label + ": AUC " + plot::tick_label(s.auc) + " (" + std::to_string(s.n) + " images)",
         colour});
  }
  const int rows = static_cast<int>(legend.size());
  int widest = 0;
  for (const plot::LegendEntry& e : legend) {
    widest = std::max(widest, plot::text_width(e.label, /*scale=*/0.5));
  }
  // Bottom right, inside the frame, where a ROC curve above the diagonal leaves room.
  const int left = std::max(frame.area.x + 10, frame.area.x + frame.area.width - 40 - widest);
  plot::draw_legend(img, legend, {left, frame.area.y + frame.area.height - 20 * rows},
                    /*step_x=*/0);
  plot::write_png(path, img, "ROC plot");
}

void write_histogram_plot(const fs::path& path, const std::string& metric,
                          const std::vector<double>& values, const std::string& title) {
  const Histogram h = histogram(values);
  const size_t most = std::max<size_t>(1, *std::max_element(h.counts.begin(), h.counts.end()));
  // Whole counts at the grid lines: up to 5 lines one count apart, else a multiple of 5 on top.
  const size_t top = most <= 5 ? most : (most + 4) / 5 * 5;
  cv::Mat img = plot::blank_canvas({kChartWidth, kChartHeight});
  const plot::Frame frame = chart_frame(h.lo, h.hi, 0.0, static_cast<double>(top));
  draw_axes(img, frame, title, metric + " (bars: images per bin)",
            static_cast<int>(std::min<size_t>(top, 5)));
  const double width = (h.hi - h.lo) / static_cast<double>(h.counts.size());
  for (size_t i = 0; i < h.counts.size(); ++i) {
    if (h.counts[i] == 0) continue;
    const int x0 = frame.x(h.lo + width * static_cast<double>(i));
    const int x1 = frame.x(h.lo + width * static_cast<double>(i + 1));
    cv::rectangle(img, {x0 + 1, frame.y(static_cast<double>(h.counts[i]))}, {x1 - 1, frame.y(0.0)},
                  plot::kBlue, cv::FILLED);
  }
  double total = 0.0;
  size_t n = 0;
  for (double v : values) {
    if (std::isfinite(v)) total += v, ++n;
  }
  if (n > 0) {
    const int x = frame.x(total / static_cast<double>(n));
    cv::line(img, {x, frame.area.y}, {x, frame.area.y + frame.area.height}, plot::kOrange, 2);
  }
  plot::draw_frame(img, frame);
  plot::draw_legend(img, {{"mean", plot::kOrange}},
                    {kChartWidth - kChartRight - 90, kChartTop + 20},
                    /*step_x=*/0);
  plot::write_png(path, img, "histogram");
}

void write_scatter_plot(const fs::path& path, const std::string& metric,
                        const std::vector<double>& a, const std::vector<double>& b,
                        const std::string& label_a, const std::string& label_b) {
  if (a.size() != b.size()) throw Error(ErrorCode::kInternal, "scatter needs pairs of values");
  double lo = INFINITY, hi = -INFINITY;
  for (const auto* side : {&a, &b}) {
    for (double v : *side) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0.0, hi = 1.0;
  if (!(hi - lo > 1e-12)) lo -= 0.5, hi += 0.5;
  const double pad = 0.05 * (hi - lo);
  cv::Mat img = plot::blank_canvas({kChartWidth, kChartHeight});
  const plot::Frame frame = chart_frame(lo - pad, hi + pad, lo - pad, hi + pad);
  draw_axes(img, frame,
            metric + " per image (" + std::to_string(a.size()) + "): y = " + label_b +
                ", above the diagonal = y higher",
            "x = " + label_a);
  cv::line(img, {frame.x(lo - pad), frame.y(lo - pad)}, {frame.x(hi + pad), frame.y(hi + pad)},
           plot::kBlack, 1, cv::LINE_AA);
  plot::draw_frame(img, frame);
  for (size_t i = 0; i < a.size(); ++i) {
    cv::circle(img, {frame.x(a[i]), frame.y(b[i])}, 3, plot::kBlue, cv::FILLED, cv::LINE_AA);
  }
  plot::write_png(path, img, "scatter plot");
}

std::vector<fs::path> write_plots(const fs::path& dir, const std::vector<const EvalResult*>& runs,
                                  const std::vector<std::string>& labels) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    throw Error(ErrorCode::kIo, "cannot create the plots folder '" + dir.string() +
                                    "': " + (ec ? ec.message() : "not a folder"));
  }
  const auto name = [&](size_t i) {
    return labels.size() > i ? labels[i] + " " + short_name(runs[i]->predictor)
                             : short_name(runs[i]->predictor);
  };
  std::vector<fs::path> written;
  std::vector<RocSeries> rocs;
  for (size_t i = 0; i < runs.size(); ++i) rocs.push_back(mean_roc(*runs[i], name(i)));
  if (std::any_of(rocs.begin(), rocs.end(), [](const RocSeries& s) { return s.n > 0; })) {
    written.push_back(dir / "roc_auc_judd.png");
    write_roc_plot(written.back(), rocs);
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    const EvalResult& r = *runs[i];
    for (size_t k = 0; k < r.metrics.size(); ++k) {
      const std::vector<double> v = defined_values(r, k);
      if (v.empty()) continue;
      const std::string suffix = runs.size() > 1 && labels.size() > i ? "_" + labels[i] : "";
      written.push_back(dir / ("hist_" + r.metrics[k] + suffix + ".png"));
      write_histogram_plot(
          written.back(), r.metrics[k], v,
          name(i) + ": " + std::to_string(v.size()) + " images, " + interval_text(r.summary[k]));
    }
  }
  if (runs.size() > 1 && labels.size() >= runs.size()) {
    const EvalResult& first = *runs[0];
    std::unordered_map<std::string, size_t> at;
    for (size_t j = 0; j < first.images.size(); ++j) at.emplace(first.images[j].image, j);
    for (size_t i = 1; i < runs.size(); ++i) {
      const EvalResult& r = *runs[i];
      for (size_t k = 0; k < r.metrics.size() && k < first.metrics.size(); ++k) {
        std::vector<double> a, b;
        for (const auto& row : r.images) {
          const auto it = at.find(row.image);
          if (it == at.end()) continue;
          const double x = first.images[it->second].values[k], y = row.values[k];
          if (std::isfinite(x) && std::isfinite(y)) a.push_back(x), b.push_back(y);
        }
        if (a.empty()) continue;
        written.push_back(dir /
                          ("scatter_" + r.metrics[k] + "_" + labels[0] + "_" + labels[i] + ".png"));
        write_scatter_plot(written.back(), r.metrics[k], a, b, name(0), name(i));
      }
    }
  }
  spdlog::info("eval: {} plot(s) in '{}'", written.size(), dir.string());
  return written;
}

}  // namespace msinet::eval
