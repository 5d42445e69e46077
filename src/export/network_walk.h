#pragma once
// The network as a graph for the exporters: one walk over model::kLayers that asks a builder
// for each operation, so the ONNX and the TensorFlow graphs follow the same description as the
// training modules and the runtime.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "msinet/model/layers.h"

namespace msinet::exporter {

/// Adds operations to a graph under construction; values are tensor names in that graph.
class NetworkBuilder {
 public:
  virtual ~NetworkBuilder() = default;
  /// Convolution `index` of kLayers ("same" padding, with bias, ReLU when the row says so).
  virtual std::string conv(size_t index, const std::string& x) = 0;
  /// Max-pooling after a convolution (model::Pool::kStride2 or kSameStride1).
  virtual std::string max_pool(model::Pool pool, const std::string& x) = 0;
  /// Concatenation on the channel axis.
  virtual std::string concat(const std::vector<std::string>& xs) = 0;
  /// Spatial mean, keeping a 1x1 map.
  virtual std::string spatial_mean(const std::string& x) = 0;
  /// A 1x1 map of `channels` channels repeated to the spatial size of `like` (TF resizes the
  /// 1x1 map bilinearly, which is a broadcast).
  virtual std::string broadcast_spatial(const std::string& x, int64_t channels,
                                        const std::string& like) = 0;
  /// x2 upsampling, TF1 legacy bilinear (no half-pixel centres, edges repeated).
  virtual std::string upsample2(const std::string& x) = 0;
};

/// Walks kLayers from `image` (mean already subtracted) to the last convolution's output (before
/// the normalisation), which it returns. ref: saliency/model.py _encoder, _aspp, _decoder
std::string walk_network(NetworkBuilder& builder, const std::string& image);

}  // namespace msinet::exporter
