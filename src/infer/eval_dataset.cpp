#include "msinet/infer/eval_dataset.h"

#include "dataset_run.h"

#include <spdlog/spdlog.h>

#include <map>
#include <optional>
#include <utility>

#include "msinet/calibration/density.h"
#include "msinet/checkpoint/load.h"
#include "msinet/data/image.h"
#include "msinet/eval/report.h"
#include "msinet/pipeline/pipeline.h"
#include "msinet/pipeline/predictor.h"
#include "msinet/util/error.h"
#include "msinet/util/progress.h"

namespace msinet::infer {

namespace fs = std::filesystem;

namespace {

// Scores each map against the ground truth of its stimulus.
class Scores : public pipeline::Sink {
 public:
  /// `calibration` (tuebingen only) turns each map into the density that is scored.
  Scores(eval::Evaluator& evaluator, std::optional<calibration::Calibration> calibration)
      : evaluator_(evaluator), calibration_(std::move(calibration)) {}

  void consume(pipeline::Result&& r) override {
    // The values `test --format npy` writes, so that scoring its files gives the same numbers.
    cv::Mat as_double;
    data::unit_map(r.map).convertTo(as_double, CV_64F);
    if (calibration_) {
      // The density `test --output logdensity` writes with the same calibration.
      evaluator_.add_log_density(data::pairing_stem(r.name),
                                 calibration::log_density(as_double, *calibration_), r.name);
      return;
    }
    evaluator_.add(data::pairing_stem(r.name), as_double, r.name);
  }
  bool concurrent() const override { return false; }

 private:
  eval::Evaluator& evaluator_;
  std::optional<calibration::Calibration> calibration_;
};

// The evaluation options with the dataset's folders filled in: the validation maps' folder
// (saliency/val for SALICON) and its twin under fixations/, so that the matching keys are plain
// file stems.
eval::EvalOptions with_dataset_folders(const data::PreparedDataset& dataset,
                                       eval::EvalOptions options) {
  const fs::path maps = dataset.split.valid.front().second.parent_path();
  if (options.maps_dir.empty()) options.maps_dir = maps;
  if (options.fixations_dir.empty() && !dataset.fixations_dir.empty()) {
    const fs::path fix = dataset.fixations_dir / maps.lexically_relative(dataset.saliency_dir);
    std::error_code ec;
    if (fs::is_directory(fix, ec)) options.fixations_dir = fix;
  }
  if (options.protocol == "tuebingen" && options.train_fixations_dir.empty() &&
      !dataset.fixations_dir.empty() && !dataset.split.train.empty()) {
    // The training split's fixation maps: the twin of its maps' folder, its images only.
    std::map<std::string, bool> train;
    for (const auto& p : dataset.split.train) train[data::pairing_stem(p.first)] = true;
    const fs::path train_maps = dataset.split.train.front().second.parent_path();
    const fs::path fix =
        dataset.fixations_dir / train_maps.lexically_relative(dataset.saliency_dir);
    std::error_code ec;
    if (fs::is_directory(fix, ec)) {
      for (const auto& f : eval::list_maps(fix)) {
        if (train.count(data::pairing_stem(f))) options.train_fixation_files.push_back(f);
      }
    }
  }
  return options;
}

}  // namespace

eval::EvalResult run_eval_dataset(const data::PreparedDataset& dataset,
                                  const EvalDatasetOptions& o) {
  const std::vector<data::FilePair>& valid = dataset.split.valid;
  if (valid.empty()) {
    throw Error(ErrorCode::kInput, "dataset '" + dataset.name + "' has no validation images");
  }
  const eval::EvalOptions options = with_dataset_folders(dataset, o.eval);
  // Ground truth of the validation images only.
  std::map<std::string, bool> wanted;
  for (const auto& p : valid) wanted[data::pairing_stem(p.first)] = true;
  std::vector<eval::GroundTruth> truths;
  for (auto& t : eval::find_ground_truth(options)) {
    if (wanted.count(data::pairing_stem(fs::path(t.image)))) truths.push_back(std::move(t));
  }
  if (truths.empty()) {
    throw Error(ErrorCode::kInput, "no ground truth for the validation images of '" + dataset.name +
                                       "' in '" + options.fixations_dir.string() + "' / '" +
                                       options.maps_dir.string() + "'");
  }
  eval::Evaluator evaluator(std::move(truths), options);
  std::vector<std::string> stimuli;
  for (const auto& p : valid) {
    if (evaluator.knows(data::pairing_stem(p.first))) stimuli.push_back(p.first.string());
  }

  std::string predictor_name;
  if (!options.baseline.empty()) {
    util::Progress progress("eval", static_cast<int64_t>(stimuli.size()), options.progress);
    int64_t done = 0;
    for (const std::string& s : stimuli) {
      evaluator.add_baseline(data::pairing_stem(fs::path(s)));
      progress.update(++done);
    }
    progress.finish();
    predictor_name = options.baseline + " baseline";
  } else {
    std::optional<calibration::Calibration> calibration;
    if (options.protocol == "tuebingen") {
      calibration = o.calibration.empty() ? calibration::identity_calibration()
                                          : calibration::read_calibration(o.calibration);
    }
    const fs::path weights =
        dataset_weights(dataset, o.weights, o.results_dir, o.weights_dir, o.download);
    pipeline::Predictor predictor(weights, o.network);
    spdlog::info("eval: {} validation images of '{}' with '{}' ({})", stimuli.size(), dataset.name,
                 weights.string(), predictor.describe());
    const pipeline::PipelineOptions po = dataset_pipeline(
        dataset, o.batch_size, o.workers, o.inflight_bytes, "eval", options.progress);
    pipeline::ImageFiles source(std::move(stimuli));
    Scores sink(evaluator, std::move(calibration));
    const pipeline::PipelineResult r = pipeline::run_pipeline(source, predictor, sink, po);
    for (const pipeline::Failure& f : r.failures) {
      evaluator.skip(data::pairing_stem(fs::path(f.name)), "unreadable stimulus", f.why);
    }
    predictor_name = weights.string();
  }
  eval::EvalResult result = evaluator.finish();
  result.predictor = predictor_name;
  if (!options.csv.empty()) eval::write_csv(options.csv, result);
  if (!options.json.empty()) eval::write_json(options.json, result);
  return result;
}

}  // namespace msinet::infer
