#pragma once
// What int8 inference needs to know about the activations: the range of each layer's input,
// measured on a few images with the float32 network, and which weights it was measured with.

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

#include "msinet/model/layers.h"
#include "msinet/model/msinet.h"

namespace msinet::runtime {

/// Per kLayers row, the input value that an int8 layer maps to the top of its u8 range (a high
/// quantile of the float32 input over the calibration images; larger values saturate).
struct Int8Calibration {
  /// Indexed by kLayers row; 0: not measured (a layer that runs in float32 needs none).
  std::array<double, model::kLayers.size()> input_range{};
  /// weights_fingerprint() of the weights the ranges were measured with.
  std::string fingerprint;
  /// The quantile the ranges are, and over how many images.
  double quantile = 0.9999;
  int images = 0;
  /// Where it was read from (empty: measured in this process), for messages.
  std::string source;
};

/// A digest of the convolution weights and biases of `net` (hex of a 64-bit FNV-1a over their
/// float32 bytes): a calibration belongs to the weights it was measured with.
std::string weights_fingerprint(const model::MSINet& net);

/// Measures the input range of every layer: the float32 forward pass (oneDNN plan) over each
/// image (RGB [1, 3, H, W] float 0..255), the `quantile` of each layer's input per image, the
/// largest over the images. Throws Error(kUsage) for no images or a quantile outside (0, 1].
Int8Calibration measure_int8_calibration(const model::MSINet& net,
                                         const std::vector<torch::Tensor>& images,
                                         double quantile = 0.9999);

/// Throws Error(kInput) when `calibration` was measured with other weights than `net`'s,
/// naming its source and how to measure one for these weights.
void check_int8_calibration(const Int8Calibration& calibration, const model::MSINet& net);

/// Writes `calibration` as YAML (format, fingerprint, quantile, images, ranges by module path).
void write_int8_calibration(const Int8Calibration& calibration, const std::filesystem::path& path);

/// Reads a file of write_int8_calibration(); Error(kInput) naming the file when it cannot be read
/// or is malformed. `source` of the result is the path.
Int8Calibration read_int8_calibration(const std::filesystem::path& path);

}  // namespace msinet::runtime
