#pragma once
// Where the network runs.

#include <string>

#include <torch/types.h>

namespace msinet::runtime {

/// "auto" (CUDA when available), "cpu" or "cuda"; "cuda" without CUDA is Error(kUsage).
torch::Device resolve_device(const std::string& name);

}  // namespace msinet::runtime
