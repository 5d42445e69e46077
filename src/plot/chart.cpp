#include "msinet/plot/chart.h"

#include <cmath>
#include <cstdio>
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

void draw_y_grid(cv::Mat& img, const Frame& frame, int divisions) {
  for (int t = 0; t <= divisions; ++t) {
    const double v = frame.y_lo + (frame.y_hi - frame.y_lo) * t / static_cast<double>(divisions);
    const int y = frame.y(v);
    cv::line(img, {frame.area.x, y}, {frame.area.x + frame.area.width, y}, kGrey, 1);
    draw_text(img, tick_label(v), {5, y + 5}, kTickScale);
  }
}

void draw_x_tick(cv::Mat& img, const Frame& frame, int x, const std::string& label, int label_dx) {
  const int bottom = frame.area.y + frame.area.height;
  cv::line(img, {x, bottom}, {x, bottom + 5}, kBlack, 1);
  if (!label.empty()) draw_text(img, label, {x + label_dx, bottom + 22}, kTickScale);
}

void draw_x_grid(cv::Mat& img, const Frame& frame, int divisions) {
  for (int t = 0; t <= divisions; ++t) {
    const double v = frame.x_lo + (frame.x_hi - frame.x_lo) * t / static_cast<double>(divisions);
    const int x = frame.x(v);
    cv::line(img, {x, frame.area.y}, {x, frame.area.y + frame.area.height}, kGrey, 1);
    const std::string label = tick_label(v);
    draw_x_tick(img, frame, x, label, -text_width(label, kTickScale) / 2);
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
