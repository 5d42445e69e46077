#pragma once
// What `eval -d` and `calibrate -d` share: the weights a dataset job uses and the pipeline
// options that run a prepared dataset's images at its size.

#include <cstdint>
#include <filesystem>
#include <string>

#include "msinet/checkpoint/load.h"
#include "msinet/data/splits.h"
#include "msinet/pipeline/pipeline.h"

namespace msinet::infer {

/// `weights`, or the ones `test` would use for `dataset` when it is empty.
inline std::filesystem::path dataset_weights(const data::PreparedDataset& dataset,
                                             const std::filesystem::path& weights,
                                             const std::filesystem::path& results_dir,
                                             const std::filesystem::path& weights_dir,
                                             const fetch::DownloadOptions& download) {
  return weights.empty()
             ? checkpoint::resolve_weights(dataset.name, results_dir, weights_dir, download)
             : weights;
}

/// Pipeline options for `dataset`'s images at its size; workers 0 means 2.
inline pipeline::PipelineOptions dataset_pipeline(const data::PreparedDataset& dataset,
                                                  int batch_size, int workers,
                                                  int64_t inflight_bytes, const std::string& label,
                                                  bool progress) {
  pipeline::PipelineOptions po;
  po.height = dataset.height;
  po.width = dataset.width;
  po.batch_size = batch_size;
  po.workers = workers > 0 ? workers : 2;
  po.inflight_bytes = inflight_bytes;
  po.label = label;
  po.progress = progress;
  return po;
}

}  // namespace msinet::infer
