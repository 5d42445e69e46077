#pragma once
// Shared drawing of the PNG charts (OpenCV imgproc): a plotting frame that maps data to pixels,
// grid lines with tick labels, tick marks, text, a legend and the atomic PNG write.

#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace msinet::plot {

/// Black, the grid's grey, and the two series colours (matplotlib's first two), in BGR.
inline const cv::Scalar kBlack(0, 0, 0);
/// Grid lines.
inline const cv::Scalar kGrey(220, 220, 220);
/// First series (matplotlib C0).
inline const cv::Scalar kBlue(180, 119, 31);
/// Second series (matplotlib C1).
inline const cv::Scalar kOrange(14, 127, 255);

/// Colour of series i: matplotlib's cycle (blue, orange, green, red, purple), repeating.
cv::Scalar series_colour(size_t i);

/// The plotting area of a chart: its pixel rectangle and the data ranges it shows.
struct Frame {
  cv::Rect area;  ///< pixels; x_lo maps to area.x, y_hi to area.y
  double x_lo = 0.0, x_hi = 1.0, y_lo = 0.0, y_hi = 1.0;
  /// Pixel column of data value `v` (the area's middle when the x range is empty).
  int x(double v) const;
  /// Pixel row of data value `v`.
  int y(double v) const;
};

/// A white BGR image of `size`.
cv::Mat blank_canvas(cv::Size size);

/// "%.4g" of `v`, the tick label format.
std::string tick_label(double v);

/// Rounded tick positions inside a range and the labels they are drawn with.
struct Ticks {
  std::vector<double> values;       ///< multiples of step in [lo, hi], increasing
  double step = 0.0;                ///< 1, 2, 2.5 or 5 times a power of ten
  std::vector<std::string> labels;  ///< each value with the fewest decimals that show it exactly
};

/// "Nice" ticks for [lo, hi]: the smallest step of 1, 2, 2.5 or 5 x 10^k that gives at most
/// `target` intervals over the range, and every multiple of it inside; a range that is empty or
/// not finite gives the single tick lo.
Ticks nice_ticks(double lo, double hi, int target);

/// Horizontal grey grid lines across the frame at nice_ticks(y range, divisions), each labelled
/// right-aligned against the frame's left side.
void draw_y_grid(cv::Mat& img, const Frame& frame, int divisions);

/// `text` written bottom to top, centred on the frame's height, at pixel column `x` of the
/// left margin (the axis title).
void draw_y_label(cv::Mat& img, const Frame& frame, const std::string& text, int x);

/// A tick mark under the frame at pixel column `x`, with `label` below it starting
/// `label_dx` pixels from the mark.
void draw_x_tick(cv::Mat& img, const Frame& frame, int x, const std::string& label,
                 int label_dx = -5);

/// Vertical grey grid lines at nice_ticks(x range, divisions), with centred tick labels below.
void draw_x_grid(cv::Mat& img, const Frame& frame, int divisions);

/// The frame's black outline.
void draw_frame(cv::Mat& img, const Frame& frame);

/// Black anti-aliased text with its baseline starting at `at`.
void draw_text(cv::Mat& img, const std::string& text, cv::Point at, double scale);

/// Pixel width of `text` drawn by draw_text() at `scale`.
int text_width(const std::string& text, double scale);

/// One legend line: a coloured stroke and its label.
struct LegendEntry {
  std::string label;
  cv::Scalar colour;
};

/// Legend entries from `at` (the stroke's left end): each a 25-pixel stroke and its label;
/// entry i is `step_x` pixels right of the one before, or 20 pixels below when step_x is 0.
void draw_legend(cv::Mat& img, const std::vector<LegendEntry>& entries, cv::Point at, int step_x);

/// Encodes `img` as PNG and writes it to `path` atomically; `what` names the chart in errors.
void write_png(const std::filesystem::path& path, const cv::Mat& img, const std::string& what);

}  // namespace msinet::plot
