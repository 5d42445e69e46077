#pragma once
// The exact integer transport under the EMD metric, kept apart from OpenCV (whose MIN/MAX
// macros collide with LEMON's names). Internal to msinet_eval.

#include <cstdint>
#include <vector>

namespace msinet::eval::detail {

/// The least total cost of moving `supply` (non-negative integers) onto `demand`, a unit from
/// supply a to demand b costing cost[a * demand.size() + b] (non-negative), solved exactly by
/// LEMON's network simplex. Unequal totals are allowed: the larger side's excess stays where it
/// is at no cost, as FastEMD's threshold node absorbs it with extra-mass penalty 0.
int64_t min_cost_transport(const std::vector<int64_t>& supply, const std::vector<int64_t>& demand,
                           const std::vector<int64_t>& cost);

}  // namespace msinet::eval::detail
