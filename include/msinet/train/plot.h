#pragma once
// The loss-curve PNG drawn after each epoch once there are two or more epochs.

#include <filesystem>
#include <vector>

namespace msinet::train {

/// Draws train (blue) and validation (orange) loss per epoch with axes, ticks and a legend,
/// and writes it as a PNG atomically.
void write_loss_curve(const std::filesystem::path& path, const std::vector<double>& train,
                      const std::vector<double>& valid);

}  // namespace msinet::train
