#pragma once
// The hand-over format between weight readers (weights/) and the model (model/): named float32
// tensors in TensorFlow layout (kernels HWIO). Header-only, no dependencies.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace msinet::weights {

/// A dense float32 tensor, row-major, with its TensorFlow shape.
struct FloatTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

/// Tensors by TensorFlow name (e.g. "conv1/conv1_1/kernel"), sorted by name.
using NamedTensors = std::map<std::string, FloatTensor>;

}  // namespace msinet::weights
