#pragma once
// msinet's native checkpoint: one file holding the model state, optionally the optimiser
// state, and the training metadata (epochs, history), so that a checkpoint and its history can
// never disagree. Written atomically by the caller.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace msinet::checkpoint {

/// Training progress stored with a checkpoint.
struct CheckpointMeta {
  std::string dataset;  ///< dataset name (or the YAML file's stem)
  int height = 0;       ///< input size trained at
  int width = 0;
  int64_t epochs_done = 0;    ///< completed epochs
  int64_t step_in_epoch = 0;  ///< training steps done in the unfinished epoch (0 = none)
  /// Images trained on in the unfinished epoch, whatever the batch size and number of ranks
  /// (-1: not recorded, as in msinet 0.1 files, where it is step_in_epoch x the batch size).
  int64_t images_in_epoch = -1;
  double partial_train_sum = 0;       ///< summed train loss of those images (0.1: of those steps)
  double best_valid = -1;             ///< lowest validation loss so far (-1 = none yet)
  uint64_t seed = 42;                 ///< shuffle seed of the run
  std::vector<double> train_history;  ///< mean train loss per completed epoch
  std::vector<double> valid_history;  ///< mean validation loss per completed epoch
};

/// A decoded checkpoint.
struct Checkpoint {
  std::string model;      ///< model::serialize_state bytes
  std::string optimizer;  ///< optimiser archive bytes; empty in "best" checkpoints
  CheckpointMeta meta;
};

/// File name suffix of native checkpoints.
inline constexpr const char* kCheckpointSuffix = ".msinet";

/// Serialises a checkpoint into the container format.
std::string encode_checkpoint(const Checkpoint& ckpt);

/// Parses a container; truncated or foreign bytes throw Error(kWeights) naming `origin`.
Checkpoint decode_checkpoint(const std::string& bytes, const std::string& origin);

/// True when the first bytes are this container's magic.
bool looks_like_checkpoint(const std::filesystem::path& path);

/// Reads and decodes a checkpoint file.
Checkpoint read_checkpoint(const std::filesystem::path& path);

/// The metadata of a checkpoint file alone (its first section), without reading the weights;
/// Error(kWeights) naming the file when it is missing, damaged or not a checkpoint.
CheckpointMeta read_checkpoint_meta(const std::filesystem::path& path);

/// Encodes and writes atomically.
void write_checkpoint(const std::filesystem::path& path, const Checkpoint& ckpt);

}  // namespace msinet::checkpoint
