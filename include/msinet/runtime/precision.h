#pragma once
// Arithmetic precision of inference, and what this machine can run.

#include <string>

#include <torch/types.h>

namespace msinet::runtime {

/// Arithmetic precision of inference.
enum class Precision { kFloat32, kBFloat16, kFloat16 };

/// Parses "fp32", "bf16" or "fp16"; throws Error(kUsage) naming the value otherwise.
Precision parse_precision(const std::string& name);

/// "fp32", "bf16" or "fp16".
std::string precision_name(Precision precision);

/// The tensor type of a precision.
torch::ScalarType precision_dtype(Precision precision);

/// Whether this CPU executes bfloat16 dot products natively (AVX512_BF16 or AMX-BF16, enabled by
/// the operating system).
bool cpu_has_bf16();

/// Empty when `precision` can run on `device`, else a message saying why not and what to use.
std::string precision_unsupported_reason(Precision precision, const torch::Device& device);

/// Throws Error(kUsage) with precision_unsupported_reason() when it is not empty.
void check_precision(Precision precision, const torch::Device& device);

}  // namespace msinet::runtime
