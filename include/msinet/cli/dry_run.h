#pragma once
// `--dry-run` of `train` and `download`: what a run would download, prepare, train, resume and
// write, printed without downloading or writing anything.

#include <filesystem>
#include <ostream>
#include <string>

#include "msinet/config/config.h"
#include "msinet/data/dataset.h"
#include "msinet/train/init.h"
#include "msinet/train/train.h"

namespace msinet::cli {

/// Prints what `msinet download -d name` would fetch into and prepare in `root`.
void print_download_plan(std::ostream& out, const std::string& name,
                         const std::filesystem::path& root, bool keep_archives,
                         const config::Config& cfg);

/// What a training run is given, for its plan.
struct TrainRun {
  data::DatasetSpec spec;       ///< the dataset, with --size applied
  std::string path;             ///< -p as given
  train::TrainOptions options;  ///< as the run would get them
  train::StartPlan start;       ///< what it resumes or initialises from
  int threads = 1;              ///< CPU threads per rank
  int ranks = 1;                ///< processes in the run (--nproc x --nnodes, or WORLD_SIZE)
};

/// Prints what `msinet train` would download, prepare, train, resume and write.
void print_train_plan(std::ostream& out, const TrainRun& run, const config::Config& cfg);

}  // namespace msinet::cli
