#pragma once
// Reading saliency and fixation maps (JPEG, PNG, .npy) as double maps; a small .npy codec.

#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace msinet::eval {

namespace fs = std::filesystem;

/// True for the map formats read_map() accepts: .png, .jpg, .jpeg, .npy (case-insensitive).
bool has_map_extension(const fs::path& path);

/// Decodes a 2-D .npy array (little-endian float32, float64, uint8 or bool; C or Fortran order;
/// shape (h, w), (h, w, 1) or (1, h, w)) into a CV_32FC1, CV_64FC1 or CV_8UC1 map.
/// Throws Error(kInput) naming `name` and the problem for anything else.
cv::Mat decode_npy(std::string_view bytes, const std::string& name);

/// Encodes a CV_32FC1 or CV_64FC1 map as .npy (format 1.0, little-endian, C order).
std::string encode_npy(const cv::Mat& map);

/// Writes encode_npy(map) to `path` atomically.
void write_npy(const fs::path& path, const cv::Mat& map);

/// Reads a map as CV_64FC1 with its stored values: images as grayscale (colour converted by
/// OpenCV's luma weights, 16-bit kept), .npy as stored. Rejects non-finite values.
/// Throws Error(kInput) naming the file and what is wrong.
cv::Mat read_map(const fs::path& path);

}  // namespace msinet::eval
