#include "msinet/train/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "msinet/util/error.h"
#include "msinet/util/fs.h"

namespace msinet::train {

namespace {
std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}
}  // namespace

void write_loss_curve(const std::filesystem::path& path, const std::vector<double>& train,
                      const std::vector<double>& valid) {
  constexpr int kW = 800, kH = 500, kLeft = 80, kRight = 20, kTop = 40, kBottom = 60;
  cv::Mat img(kH, kW, CV_8UC3, cv::Scalar(255, 255, 255));
  const size_t n = std::max(train.size(), valid.size());
  double lo = INFINITY, hi = -INFINITY;
  for (const auto* series : {&train, &valid}) {
    for (double v : *series) {
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) hi = lo + 1e-3, lo -= 1e-3;
  const double pad = 0.05 * (hi - lo);
  lo -= pad;
  hi += pad;
  const int pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto px = [&](size_t i) {
    return kLeft +
           (n > 1 ? static_cast<int>(std::lround(static_cast<double>(i) * pw / (n - 1))) : pw / 2);
  };
  auto py = [&](double v) {
    return kTop + static_cast<int>(std::lround((hi - v) / (hi - lo) * ph));
  };
  const cv::Scalar black(0, 0, 0), grey(220, 220, 220);
  for (int t = 0; t <= 5; ++t) {
    const double v = lo + (hi - lo) * t / 5.0;
    const int y = py(v);
    cv::line(img, {kLeft, y}, {kW - kRight, y}, grey, 1);
    cv::putText(img, fmt(v), {5, y + 5}, cv::FONT_HERSHEY_SIMPLEX, 0.45, black, 1, cv::LINE_AA);
  }
  for (size_t i = 0; i < n; ++i) {
    const int x = px(i);
    cv::line(img, {x, kTop + ph}, {x, kTop + ph + 5}, black, 1);
    if (n <= 20 || i % ((n + 19) / 20) == 0) {
      cv::putText(img, std::to_string(i + 1), {x - 5, kTop + ph + 22}, cv::FONT_HERSHEY_SIMPLEX,
                  0.45, black, 1, cv::LINE_AA);
    }
  }
  cv::rectangle(img, {kLeft, kTop}, {kW - kRight, kTop + ph}, black, 1);
  cv::putText(img, "epoch", {kW / 2 - 20, kH - 15}, cv::FONT_HERSHEY_SIMPLEX, 0.55, black, 1,
              cv::LINE_AA);
  cv::putText(img, "KLD loss", {kLeft, 25}, cv::FONT_HERSHEY_SIMPLEX, 0.6, black, 1, cv::LINE_AA);
  const cv::Scalar blue(180, 119, 31), orange(14, 127, 255);  // BGR
  auto draw = [&](const std::vector<double>& s, const cv::Scalar& colour) {
    for (size_t i = 0; i < s.size(); ++i) {
      const cv::Point p(px(i), py(s[i]));
      cv::circle(img, p, 3, colour, cv::FILLED, cv::LINE_AA);
      if (i > 0) cv::line(img, {px(i - 1), py(s[i - 1])}, p, colour, 2, cv::LINE_AA);
    }
  };
  draw(train, blue);
  draw(valid, orange);
  cv::line(img, {kW - 190, 25}, {kW - 165, 25}, blue, 2);
  cv::putText(img, "train", {kW - 160, 30}, cv::FONT_HERSHEY_SIMPLEX, 0.5, black, 1, cv::LINE_AA);
  cv::line(img, {kW - 110, 25}, {kW - 85, 25}, orange, 2);
  cv::putText(img, "valid", {kW - 80, 30}, cv::FONT_HERSHEY_SIMPLEX, 0.5, black, 1, cv::LINE_AA);
  std::vector<uchar> png;
  if (!cv::imencode(".png", img, png)) {
    throw Error(ErrorCode::kIo, "cannot encode the loss curve '" + path.string() + "'");
  }
  util::write_file_atomic(path,
                          std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

}  // namespace msinet::train
