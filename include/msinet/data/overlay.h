#pragma once
// Pictures of a saliency map over its image: the overlay whose opacity follows the saliency, the
// side-by-side strip (image | coloured map | overlay) and the colour bar beside either.

#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace msinet::data {

/// The colour maps an overlay can use (OpenCV's tables; gray = the map as grey).
enum class Colormap { kInferno, kJet, kViridis, kTurbo, kGray };

/// The colour map named `name` (inferno, jet, viridis, turbo, gray); Error(kUsage) otherwise.
Colormap parse_colormap(const std::string& name);

/// The names parse_colormap() accepts, in the order the help lists them.
const std::vector<std::string>& colormap_names();

/// How overlays are drawn; the defaults are those of `msinet test --overlay`.
struct OverlayOptions {
  Colormap colormap = Colormap::kInferno;
  /// Opacity of the colour at the most salient pixel, in (0, 1]; a pixel of saliency s (the map
  /// / 255) gets alpha * s, so an unsalient pixel keeps the image as it is.
  double alpha = 0.6;
  bool colorbar = false;  ///< a vertical colour bar labelled 0 (bottom) and 1 (top) on the right
};

/// Default overlay opacity at the most salient pixel.
inline constexpr double kDefaultOverlayAlpha = 0.6;

/// Error(kUsage) naming `what` unless 0 < alpha <= 1.
void check_overlay_alpha(double alpha, const std::string& what);

/// The colour (RGB) of each level of quantize_u8(map255) under `colormap`: CV_8UC3 RGB.
cv::Mat colour_map(const cv::Mat& map255, Colormap colormap);

/// The image (CV_32FC3 0..255 or CV_8UC3, RGB) blended per pixel with the coloured map
/// (CV_32FC1 0..255, same size): out = image * (1 - alpha * s) + colour(q) * alpha * s with
/// q = quantize_u8(map255), s = q / 255, rounded; a colour bar on the right with
/// options.colorbar. Returns CV_8UC3 RGB.
cv::Mat make_overlay(const cv::Mat& rgb, const cv::Mat& map255, const OverlayOptions& options);

/// Image | coloured map | overlay side by side (each the image's width, 3 W wide), then the
/// colour bar with options.colorbar. Returns CV_8UC3 RGB.
cv::Mat make_side_by_side(const cv::Mat& rgb, const cv::Mat& map255, const OverlayOptions& options);

/// Pixel width colour_bar() adds for an image `height` rows high.
int colour_bar_width(int height);

/// A colour bar `height` rows high (colour_bar_width(height) wide, CV_8UC3 RGB): a strip whose
/// top row has the colour of level 255 and bottom row that of level 0, linear between, on a
/// white ground labelled "1" at the top and "0" at the bottom.
cv::Mat colour_bar(int height, Colormap colormap);

/// Writes an overlay or side-by-side image (CV_8UC3 RGB) atomically as a JPEG, quality 95.
void write_overlay(const std::filesystem::path& path, const cv::Mat& overlay_rgb);

}  // namespace msinet::data
