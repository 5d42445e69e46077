#pragma once
// MSI-Net as an ONNX model (opset 13), built with the ONNX project's own classes and checked
// with its checker and shape inference. TensorFlow semantics kept: SAME stride-1 pools as
// MaxPool with pads [0, 0, 1, 1], TF1 legacy bilinear upsampling as Resize (linear,
// coordinate_transformation_mode "asymmetric"), the global ASPP branch as ReduceMean + Conv +
// Expand, the mean subtracted in RGB order and the per-image min-max normalisation in the graph.

#include <map>
#include <string>

#include "msinet/weights/float_tensor.h"

namespace msinet::exporter {

/// How the ONNX graph looks from outside.
struct OnnxOptions {
  int height = 0;  ///< fixed input height and width; 0 x 0 = dynamic ("height", "width")
  int width = 0;
  bool fp16 = false;  ///< weights and convolutions in float16; input, output and the
                      ///< normalisation stay float32
  bool nhwc = false;  ///< input [batch, H, W, 3] and output [batch, H, W, 1] (TF style);
                      ///< otherwise [batch, 3, H, W] and [batch, 1, H, W]
  std::map<std::string, std::string> metadata;  ///< metadata_props
};

/// Input and output names of the ONNX graph.
inline constexpr const char* kOnnxInput = "input";
inline constexpr const char* kOnnxOutput = "output";

/// The serialised model for `native_weights` (named by parameter, e.g. "encoder.conv1_1.weight",
/// kernels OIHW). Runs onnx::checker::check_model and strict shape inference on it first, and
/// checks that the inferred output has the expected shape; any failure is Error(kInternal).
std::string onnx_model_bytes(const weights::NamedTensors& native_weights,
                             const OnnxOptions& options);

}  // namespace msinet::exporter
