#pragma once
// Training batches decoded, resized and stacked ahead of the step on worker threads, in the
// order given, so that the step does not wait on image decoding.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "msinet/data/splits.h"

namespace msinet::train {

/// One batch: stimuli [N,3,H,W] (RGB 0..255) and maps [N,1,H,W] (0..255), both contiguous
/// float32, and the indices of its pairs.
struct Batch {
  torch::Tensor stimuli;
  torch::Tensor maps;
  std::vector<size_t> indices;
};

/// Loads `batches` (each a list of indices into `pairs`, none empty) in that order.
class BatchLoader {
 public:
  /// `workers` 0: each batch is read on the calling thread in next(). Otherwise `workers`
  /// threads read ahead, holding at most `depth` batches that next() has not yet returned.
  BatchLoader(const std::vector<data::FilePair>& pairs, std::vector<std::vector<size_t>> batches,
              int height, int width, int workers, int depth);
  /// Stops the workers (batches not yet returned are dropped) and joins them.
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  /// The next batch in order; nullopt after the last. Rethrows, as Error, the failure to read a
  /// pair of that batch (naming the file).
  std::optional<Batch> next();
  /// Logs once, as a warning naming `dataset`, how many pairs read so far have a map of another
  /// size than their stimulus (usually a broken dataset); nothing when none has.
  void report_map_sizes(const std::string& dataset);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace msinet::train
