#pragma once
// Arithmetic precision of inference, and what this machine can run.

#include <string>

#include <torch/types.h>

namespace msinet::runtime {

/// Arithmetic precision of inference.
/// kInt8: u8 activations and s8 weights in oneDNN int8 convolutions on the CPU (the "onednn"
/// plan), from a measured runtime::Int8Calibration; maps and the layers kept in float are float32.
enum class Precision { kFloat32, kBFloat16, kFloat16, kInt8 };

/// Parses "fp32", "bf16", "fp16" or "int8"; throws Error(kUsage) naming the value otherwise.
Precision parse_precision(const std::string& name);

/// "fp32", "bf16", "fp16" or "int8".
std::string precision_name(Precision precision);

/// The tensor type of a precision (float32 for int8: its weights are quantised inside the plan).
torch::ScalarType precision_dtype(Precision precision);

/// Whether this CPU executes bfloat16 dot products natively (AVX512_BF16 or AMX-BF16, enabled by
/// the operating system).
bool cpu_has_bf16();

/// Empty when `precision` can run on `device`, else a message saying why not and what to use.
std::string precision_unsupported_reason(Precision precision, const torch::Device& device);

/// Throws Error(kUsage) with precision_unsupported_reason() when it is not empty.
void check_precision(Precision precision, const torch::Device& device);

}  // namespace msinet::runtime
