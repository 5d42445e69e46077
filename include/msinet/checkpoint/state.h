#pragma once
// Native MSI-Net checkpoints: the parameters (and buffers) of a network as a LibTorch archive
// held in memory; the caller writes or reads the bytes (atomically).

#include <string>

#include "msinet/model/msinet.h"

namespace msinet::checkpoint {

/// The state of `net` as LibTorch archive bytes (tensors stored on the CPU).
std::string serialize_state(const model::MSINet& net);

/// Loads archive bytes made by serialize_state into `net` (on its device). Strict: missing,
/// unknown or mis-shaped entries, or unreadable bytes, throw Error(kWeights) naming `origin`;
/// nothing is loaded unless everything matches.
void deserialize_state(model::MSINet& net, const std::string& bytes, const std::string& origin);

}  // namespace msinet::checkpoint
