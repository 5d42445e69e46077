#pragma once
// Ground-truth map making as the original's download.py did it: scipy's gaussian_filter and
// matplotlib's imsave(cmap="gray") quantisation (reference semantics, section 5).

#include <filesystem>
#include <vector>

#include <opencv2/core.hpp>

namespace msinet::data {

/// scipy's normalised 1-D Gaussian: radius int(4 sigma + 0.5), weights exp(-0.5 / sigma^2 * x^2)
/// divided by their (numpy pairwise) sum. Error(kInternal) for sigma <= 0.
std::vector<double> gaussian_kernel(double sigma);

/// scipy.ndimage.gaussian_filter(map, sigma) (truncate 4, mode "reflect": d c b a | a b c d,
/// repeated when the kernel is longer than the map), along rows then columns, with scipy's order
/// of operations. `map` is CV_64FC1 (double throughout) or CV_32FC1 (double sums, each pass
/// rounded to float32 as scipy stores it); the result has the same type.
cv::Mat gaussian_filter(const cv::Mat& map, double sigma);

/// matplotlib imsave(cmap="gray") grey levels of a CV_64FC1 or CV_32FC1 map, computed in the
/// map's precision: v = (x - min) / (max - min), k = min(floor(256 v), 255),
/// level = trunc(k * (1 / 255) * 255) (so 33, 37, 41, ... come out one lower). A constant map
/// (max == min) gives all 0, as matplotlib's Normalize does. Returns CV_8UC1.
cv::Mat gray_levels(const cv::Mat& map);

/// Encodes an 8-bit single-channel image as PNG and writes it (not atomically: for files inside a
/// folder that is renamed into place when complete). Error(kIo) naming the file on failure.
void write_gray_png(const std::filesystem::path& path, const cv::Mat& gray);

}  // namespace msinet::data
