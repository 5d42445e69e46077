#include "msinet/train/plot.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "msinet/plot/chart.h"

namespace msinet::train {

void write_loss_curve(const std::filesystem::path& path, const std::vector<double>& train,
                      const std::vector<double>& valid) {
  constexpr int kW = 800, kH = 500, kLeft = 80, kRight = 20, kTop = 40, kBottom = 60;
  cv::Mat img = plot::blank_canvas({kW, kH});
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
  const plot::Frame frame{{kLeft, kTop, kW - kLeft - kRight, kH - kTop - kBottom},
                          0.0,
                          n > 1 ? static_cast<double>(n - 1) : 0.0,
                          lo - pad,
                          hi + pad};
  auto px = [&](size_t i) { return frame.x(static_cast<double>(i)); };
  plot::draw_y_grid(img, frame, /*divisions=*/5);
  for (size_t i = 0; i < n; ++i) {
    const bool labelled = n <= 20 || i % ((n + 19) / 20) == 0;
    plot::draw_x_tick(img, frame, px(i), labelled ? std::to_string(i + 1) : "");
  }
  plot::draw_frame(img, frame);
  plot::draw_text(img, "epoch", {kW / 2 - 20, kH - 15}, 0.55);
  plot::draw_text(img, "loss per epoch", {kLeft, 25}, 0.6);
  plot::draw_y_label(img, frame, "KLD loss", /*x=*/4);
  auto draw = [&](const std::vector<double>& s, const cv::Scalar& colour) {
    for (size_t i = 0; i < s.size(); ++i) {
      const cv::Point p(px(i), frame.y(s[i]));
      cv::circle(img, p, 3, colour, cv::FILLED, cv::LINE_AA);
      if (i > 0) cv::line(img, {px(i - 1), frame.y(s[i - 1])}, p, colour, 2, cv::LINE_AA);
    }
  };
  draw(train, plot::kBlue);
  draw(valid, plot::kOrange);
  plot::draw_legend(img, {{"train", plot::kBlue}, {"valid", plot::kOrange}}, {kW - 190, 25},
                    /*step_x=*/80);
  plot::write_png(path, img, "loss curve");
}

}  // namespace msinet::train
