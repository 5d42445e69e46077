#pragma once
// The `eval -d` job: a model (or a baseline) scored on the validation split of a prepared
// dataset, through the inference pipeline, so that it batches, decodes ahead on worker threads
// and runs in any precision exactly as `test` does.

#include <cstdint>
#include <filesystem>
#include <string>

#include "msinet/data/splits.h"
#include "msinet/eval/evaluate.h"
#include "msinet/fetch/download.h"
#include "msinet/pipeline/pipeline.h"
#include "msinet/pipeline/predictor.h"

namespace msinet::infer {

/// What `msinet eval -d` needs besides the dataset.
struct EvalDatasetOptions {
  eval::EvalOptions eval;         ///< metrics, seed, baseline, reports; folders default to the
                                  ///< dataset's
  std::filesystem::path weights;  ///< empty = checkpoint::resolve_weights()
  std::filesystem::path results_dir = "results";
  std::filesystem::path weights_dir = "weights";
  pipeline::NetworkOptions network;                          ///< device, precision, runtime plan
  int batch_size = 1;                                        ///< images per forward pass
  int workers = 0;                                           ///< decoding/scoring threads; 0 = 2
  int64_t inflight_bytes = pipeline::kDefaultInflightBytes;  ///< PipelineOptions::inflight_bytes
  fetch::DownloadOptions download;                           ///< for the published weights
  /// tuebingen: the calibration that turns the model's maps into densities (`msinet calibrate`);
  /// empty = the identity calibration, as `test --output density` without --calibration
  std::filesystem::path calibration;
};

/// Scores the validation images of `dataset` (with a model, or eval.baseline when set) against
/// their ground truth and writes eval.csv / eval.json when set. A stimulus that cannot be read
/// is reported as skipped. Throws Error(kInput) when there is no ground truth for the split.
eval::EvalResult run_eval_dataset(const data::PreparedDataset& dataset,
                                  const EvalDatasetOptions& options);

}  // namespace msinet::infer
