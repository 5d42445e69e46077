#pragma once
// Which images each rank trains on: the epoch's order is the one a single process uses, cut into
// optimisation steps of batch size x ranks x accumulation images, each step's images dealt to
// the ranks batch by batch, so that N ranks take the same steps as one process with N times the
// batch.

#include <cstddef>
#include <vector>

namespace msinet::train {

/// How one optimisation step is spread.
struct StepPlan {
  size_t begin = 0;  ///< the step's first position in the epoch order
  size_t end = 0;    ///< one past its last position (shorter at the end of the epoch)
  /// This rank's `accumulate` micro-batches: positions in the epoch order; the ones past the end
  /// of the epoch are empty.
  std::vector<std::vector<size_t>> micro_batches;
};

/// The step that starts at `position` of an epoch of `epoch_size` images, for `rank` of
/// `world_size` ranks with `batch_size` images per micro-batch and `accumulate` micro-batches
/// per step. Micro-batch k of rank r holds positions begin + (k * world_size + r) * batch_size
/// onwards (up to batch_size of them, and not past `end`).
StepPlan plan_step(size_t epoch_size, size_t position, int batch_size, int world_size, int rank,
                   int accumulate);

}  // namespace msinet::train
