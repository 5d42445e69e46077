#include "msinet/data/overlay.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <opencv2/imgproc.hpp>

#include "msinet/data/image.h"
#include "msinet/util/error.h"

namespace msinet::data {

namespace {

constexpr double kLabelScaleAt256 = 0.5;  // label text scale on a 256-row image

void require_rgb_and_map(const cv::Mat& rgb, const cv::Mat& map255, const char* op) {
  if (rgb.empty() || rgb.channels() != 3) {
    throw Error(ErrorCode::kInternal, std::string(op) + ": the image must have 3 channels");
  }
  if (map255.empty() || map255.channels() != 1) {
    throw Error(ErrorCode::kInternal, std::string(op) + ": the map must have 1 channel");
  }
  if (rgb.size() != map255.size()) {
    throw Error(ErrorCode::kInternal, std::string(op) + ": image " + std::to_string(rgb.rows) +
                                          "x" + std::to_string(rgb.cols) + " and map " +
                                          std::to_string(map255.rows) + "x" +
                                          std::to_string(map255.cols) + " differ in size");
  }
}

cv::Mat to_u8(const cv::Mat& rgb) {
  if (rgb.depth() == CV_8U) return rgb;
  cv::Mat out;
  rgb.convertTo(out, CV_8U);
  return out;
}

// The colours (RGB) of the levels of an 8-bit one-channel image.
cv::Mat colour_levels(const cv::Mat& levels, Colormap colormap) {
  cv::Mat out;
  if (colormap == Colormap::kGray) {
    cv::cvtColor(levels, out, cv::COLOR_GRAY2RGB);
    return out;
  }
  int cv_map = cv::COLORMAP_INFERNO;
  switch (colormap) {
    case Colormap::kInferno:
      cv_map = cv::COLORMAP_INFERNO;
      break;
    case Colormap::kJet:
      cv_map = cv::COLORMAP_JET;
      break;
    case Colormap::kViridis:
      cv_map = cv::COLORMAP_VIRIDIS;
      break;
    case Colormap::kTurbo:
      cv_map = cv::COLORMAP_TURBO;
      break;
    case Colormap::kGray:
      break;
  }
  cv::applyColorMap(levels, out, cv_map);
  cv::cvtColor(out, out, cv::COLOR_BGR2RGB);
  return out;
}

double label_scale(int height) { return std::clamp(kLabelScaleAt256 * height / 256.0, 0.3, 1.0); }

int label_thickness(int height) { return height >= 512 ? 2 : 1; }

cv::Size label_size(const std::string& text, int height, int* baseline) {
  return cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, label_scale(height),
                         label_thickness(height), baseline);
}

int bar_margin(int height) { return std::max(4, height / 64); }
int strip_width(int height) { return std::max(8, height / 16); }

// `img` with the colour bar appended on its right when asked.
cv::Mat with_colour_bar(const cv::Mat& img, const OverlayOptions& options) {
  if (!options.colorbar) return img;
  cv::Mat out;
  cv::hconcat(img, colour_bar(img.rows, options.colormap), out);
  return out;
}

}  // namespace

const std::vector<std::string>& colormap_names() {
  static const std::vector<std::string> names = {"inferno", "jet", "viridis", "turbo", "gray"};
  return names;
}

Colormap parse_colormap(const std::string& name) {
  static const Colormap kMaps[] = {Colormap::kInferno, Colormap::kJet, Colormap::kViridis,
                                   Colormap::kTurbo, Colormap::kGray};
  const auto& names = colormap_names();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return kMaps[i];
  }
  throw Error(ErrorCode::kUsage,
              "unknown colour map '" + name + "': choose inferno, jet, viridis, turbo or gray");
}

void check_overlay_alpha(double alpha, const std::string& what) {
  if (!(alpha > 0 && alpha <= 1)) {
    throw Error(ErrorCode::kUsage, what + " " + std::to_string(alpha) +
                                       ": the overlay opacity must be in (0, 1] (1 = the colour "
                                       "alone at the most salient pixel)");
  }
}

cv::Mat colour_map(const cv::Mat& map255, Colormap colormap) {
  return colour_levels(quantize_u8(map255), colormap);
}

cv::Mat make_overlay(const cv::Mat& rgb, const cv::Mat& map255, const OverlayOptions& options) {
  require_rgb_and_map(rgb, map255, "make_overlay");
  check_overlay_alpha(options.alpha, "make_overlay: alpha");
  const cv::Mat image = to_u8(rgb);
  const cv::Mat levels = quantize_u8(map255);
  const cv::Mat colour = colour_levels(levels, options.colormap);
  cv::Mat out(image.size(), CV_8UC3);
  for (int y = 0; y < image.rows; ++y) {
    const auto* p = image.ptr<cv::Vec3b>(y);
    const auto* c = colour.ptr<cv::Vec3b>(y);
    const uchar* q = levels.ptr<uchar>(y);
    auto* o = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < image.cols; ++x) {
      const double a = options.alpha * q[x] / 255.0;
      for (int k = 0; k < 3; ++k) {
        o[x][k] = cv::saturate_cast<uchar>(p[x][k] * (1.0 - a) + c[x][k] * a);
      }
    }
  }
  return with_colour_bar(out, options);
}

cv::Mat make_side_by_side(const cv::Mat& rgb, const cv::Mat& map255,
                          const OverlayOptions& options) {
  require_rgb_and_map(rgb, map255, "make_side_by_side");
  OverlayOptions plain = options;
  plain.colorbar = false;
  cv::Mat out;
  cv::hconcat(std::vector<cv::Mat>{to_u8(rgb), colour_map(map255, options.colormap),
                                   make_overlay(rgb, map255, plain)},
              out);
  return with_colour_bar(out, options);
}

int colour_bar_width(int height) {
  int baseline = 0;
  const int label =
      std::max(label_size("0", height, &baseline).width, label_size("1", height, &baseline).width);
  const int m = bar_margin(height);
  return m + strip_width(height) + m + label + m;
}

cv::Mat colour_bar(int height, Colormap colormap) {
  if (height < 1) throw Error(ErrorCode::kInternal, "colour_bar: the height must be positive");
  cv::Mat bar(height, colour_bar_width(height), CV_8UC3, cv::Scalar(255, 255, 255));
  cv::Mat levels(height, 1, CV_8UC1);
  for (int y = 0; y < height; ++y) {
    const double v = height > 1 ? 255.0 * (height - 1 - y) / (height - 1) : 255.0;
    levels.at<uchar>(y) = static_cast<uchar>(std::lround(v));
  }
  const cv::Mat colours = colour_levels(levels, colormap);
  const int m = bar_margin(height);
  const int sw = strip_width(height);
  for (int y = 0; y < height; ++y) {
    bar.row(y).colRange(m, m + sw).setTo(cv::Scalar(colours.at<cv::Vec3b>(y)));
  }
  int baseline = 0;
  const cv::Size one = label_size("1", height, &baseline);
  const int x = m + sw + m;
  const cv::Scalar black(0, 0, 0);
  cv::putText(bar, "1", {x, std::min(height - 1, one.height + 1)}, cv::FONT_HERSHEY_SIMPLEX,
              label_scale(height), black, label_thickness(height), cv::LINE_AA);
  cv::putText(bar, "0", {x, height - 2}, cv::FONT_HERSHEY_SIMPLEX, label_scale(height), black,
              label_thickness(height), cv::LINE_AA);
  return bar;
}

void write_overlay(const std::filesystem::path& path, const cv::Mat& overlay_rgb) {
  if (overlay_rgb.empty() || overlay_rgb.channels() != 3) {
    throw Error(ErrorCode::kInternal, "write_overlay: the image must have 3 channels");
  }
  cv::Mat img = overlay_rgb;
  if (img.depth() != CV_8U) overlay_rgb.convertTo(img, CV_8U);
  write_jpeg_u8(path, img, /*quality=*/95);
}

}  // namespace msinet::data
