#pragma once
// The `calibrate -d` job: a model's maps of a prepared dataset's training and validation
// splits, through the inference pipeline as `eval -d` runs it, fitted to their fixations
// (calibration/fit.h).

#include <cstdint>
#include <filesystem>
#include <string>

#include "msinet/calibration/calibration.h"
#include "msinet/calibration/fit.h"
#include "msinet/data/splits.h"
#include "msinet/fetch/download.h"
#include "msinet/pipeline/pipeline.h"
#include "msinet/pipeline/predictor.h"

namespace msinet::infer {

/// What `msinet calibrate -d` needs besides the dataset.
struct CalibrateDatasetOptions {
  calibration::FitOptions fit;
  std::filesystem::path weights;  ///< empty = checkpoint::resolve_weights()
  std::filesystem::path results_dir = "results";
  std::filesystem::path weights_dir = "weights";
  pipeline::NetworkOptions network;                          ///< device, precision, runtime plan
  int batch_size = 1;                                        ///< images per forward pass
  int workers = 0;                                           ///< decoding threads; 0 = 2
  int64_t inflight_bytes = pipeline::kDefaultInflightBytes;  ///< PipelineOptions::inflight_bytes
  bool progress = false;
  fetch::DownloadOptions download;
};

/// Predicts the stimuli of both splits that have a fixation map (the twin of their saliency map
/// under the dataset's fixations folder), fits on the training split and scores the validation
/// split. Error(kInput) when the dataset has no fixation maps for its training split.
calibration::Calibration run_calibrate_dataset(const data::PreparedDataset& dataset,
                                               const CalibrateDatasetOptions& options);

}  // namespace msinet::infer
