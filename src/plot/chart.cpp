#include "msinet/plot/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "msinet/util/error.h"
#include "msinet/util/fs.h"

namespace msinet::plot {

namespace {
constexpr double kTickScale = 0.45;
}  // namespace

cv::Scalar series_colour(size_t i) {
  static const cv::Scalar kCycle[] = {
      kBlue, kOrange, {44, 160, 44}, {40, 39, 214}, {189, 103, 148}};
  return kCycle[i % (sizeof kCycle / sizeof kCycle[0])];
}

int Frame::x(double v) const {
  if (!(x_hi > x_lo)) return area.x + area.width / 2;
  return area.x + static_cast<int>(std::lround((v - x_lo) * area.width / (x_hi - x_lo)));
}

int Frame::y(double v) const {
  return area.y + static_cast<int>(std::lround((y_hi - v) / (y_hi - y_lo) * area.height));
}

cv::Mat blank_canvas(cv::Size size) { return cv::Mat(size, CV_8UC3, cv::Scalar(255, 255, 255)); }

std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

Ticks nice_ticks(double lo, double hi, int target) {
  Ticks t;
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo) || target < 1) {
    t.values = {lo};
    t.labels = {tick_label(lo)};
    return t;
  }
  const double raw = (hi - lo) / target;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  t.step = 10.0 * power;
  for (double m : {1.0, 2.0, 2.5, 5.0}) {
    if (m * power >= raw * (1.0 - 1e-9)) {
      t.step = m * power;
      break;
    }
  }
  const double first = std::ceil(lo / t.step - 1e-9), last = std::floor(hi / t.step + 1e-9);
  for (double k = first; k <= last; ++k) t.values.push_back(k * t.step);
  // Every value is a multiple of the step: the step's decimals show each one exactly.
  double largest = 0.0;
  for (double v : t.values) largest = std::max(largest, std::fabs(v));
  const bool plain = largest < 1e6 && t.step >= 1e-6;
  int decimals = 0;
  while (plain && decimals < 6) {
    const double scaled = t.step * std::pow(10.0, decimals);
    if (std::fabs(scaled - std::round(scaled)) < 1e-6 * scaled) break;
    ++decimals;
  }
  for (double v : t.values) {
    char buf[32];
    if (plain) {
      std::snprintf(buf, sizeof buf, "%.*f", decimals, v + 0.0);
    } else {
      std::snprintf(buf, sizeof buf, "%.3g", v);
    }
    t.labels.push_back(buf);
  }
  return t;
}

void draw_y_grid(cv::Mat& img, const Frame& frame, int divisions) {
  const Ticks t = nice_ticks(frame.y_lo, frame.y_hi, divisions);
  for (size_t i = 0; i < t.values.size(); ++i) {
    const int y = frame.y(t.values[i]);
    cv::line(img, {frame.area.x, y}, {frame.area.x + frame.area.width, y}, kGrey, 1);
    const int x = frame.area.x - 6 - text_width(t.labels[i], kTickScale);
    draw_text(img, t.labels[i], {x, y + 5}, kTickScale);
  }
}

void draw_y_label(cv::Mat& img, const Frame& frame, const std::string& text, int x) {
  constexpr double kScale = 0.5;
  int baseline = 0;
  const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, kScale, 1, &baseline);
  cv::Mat strip(size.height + baseline + 4, size.width + 4, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::putText(strip, text, {2, size.height + 2}, cv::FONT_HERSHEY_SIMPLEX, kScale, kBlack, 1,
              cv::LINE_AA);
  cv::rotate(strip, strip, cv::ROTATE_90_COUNTERCLOCKWISE);
  const int top = frame.area.y + (frame.area.height - strip.rows) / 2;
  const cv::Rect at = cv::Rect(x, top, strip.cols, strip.rows) & cv::Rect({0, 0}, img.size());
  if (at.area() == 0) return;
  strip(cv::Rect(at.x - x, at.y - top, at.width, at.height)).copyTo(img(at));
}

void draw_x_tick(cv::Mat& img, const Frame& frame, int x, const std::string& label, int label_dx) {
  const int bottom = frame.area.y + frame.area.height;
  cv::line(img, {x, bottom}, {x, bottom + 5}, kBlack, 1);
  if (!label.empty()) draw_text(img, label, {x + label_dx, bottom + 22}, kTickScale);
}

void draw_x_grid(cv::Mat& img, const Frame& frame, int divisions) {
  const Ticks t = nice_ticks(frame.x_lo, frame.x_hi, divisions);
  for (size_t i = 0; i < t.values.size(); ++i) {
    const int x = frame.x(t.values[i]);
    cv::line(img, {x, frame.area.y}, {x, frame.area.y + frame.area.height}, kGrey, 1);
    draw_x_tick(img, frame, x, t.labels[i], -text_width(t.labels[i], kTickScale) / 2);
  }
}

void draw_frame(cv::Mat& img, const Frame& frame) {
  cv::rectangle(img, frame.area.tl(), frame.area.tl() + cv::Point(frame.area.size()), kBlack, 1);
}

void draw_text(cv::Mat& img, const std::string& text, cv::Point at, double scale) {
  cv::putText(img, text, at, cv::FONT_HERSHEY_SIMPLEX, scale, kBlack, 1, cv::LINE_AA);
}

int text_width(const std::string& text, double scale) {
  int baseline = 0;
  return cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline).width;
}

void draw_legend(cv::Mat& img, const std::vector<LegendEntry>& entries, cv::Point at, int step_x) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const int k = static_cast<int>(i);
    const cv::Point p = step_x != 0 ? at + cv::Point(k * step_x, 0) : at + cv::Point(0, 20 * k);
    cv::line(img, p, p + cv::Point(25, 0), entries[i].colour, 2);
    draw_text(img, entries[i].label, p + cv::Point(30, 5), 0.5);
  }
}

void write_png(const std::filesystem::path& path, const cv::Mat& img, const std::string& what) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", img, png)) {
    throw Error(ErrorCode::kIo, "cannot encode the " + what + " '" + path.string() + "'");
  }
  util::write_file_atomic(path,
                          std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

}  // namespace msinet::plot
