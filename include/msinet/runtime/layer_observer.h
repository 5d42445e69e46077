#pragma once
// What sees each convolution of a forward pass: the per-layer time table of `bench`, the
// activation ranges of int8 calibration.

#include <chrono>
#include <cstddef>
#include <vector>

#include <torch/types.h>

namespace msinet::runtime {

/// Told about each row of model::kLayers as a forward pass runs it. `before` gets the layer's
/// input as the plan holds it (layout and dtype vary by plan; for a decoder layer that reads an
/// upsampled input, the input before the upsampling, which has the same range); `after` comes
/// once the layer's output and what follows it (ReLU, pooling, concatenation) are done. The
/// upsampling of a layer's input counts towards that layer.
class LayerObserver {
 public:
  virtual ~LayerObserver() = default;
  /// Layer `layer` (an index into kLayers) is about to read `input`.
  virtual void before(size_t layer, const torch::Tensor& input) = 0;
  /// Layer `layer` and the operations that follow it are done.
  virtual void after(size_t layer) = 0;
};

/// Wall time of each layer, summed over the passes it sees (seconds; index = kLayers row).
class LayerClock : public LayerObserver {
 public:
  /// Per kLayers row, the seconds between its `before` and `after`, summed over passes.
  std::vector<double> seconds;

  void before(size_t layer, const torch::Tensor&) override {
    if (seconds.size() <= layer) seconds.resize(layer + 1, 0.0);
    started_ = std::chrono::steady_clock::now();
  }
  void after(size_t layer) override {
    seconds.at(layer) +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }

 private:
  std::chrono::steady_clock::time_point started_;
};

}  // namespace msinet::runtime
