#include "msinet/infer/calibrate_dataset.h"

#include "dataset_run.h"

#include <spdlog/spdlog.h>

#include <map>
#include <set>

#include "msinet/checkpoint/load.h"
#include "msinet/data/image.h"
#include "msinet/eval/evaluate.h"
#include "msinet/eval/map_io.h"
#include "msinet/pipeline/predictor.h"
#include "msinet/util/error.h"

namespace msinet::infer {

namespace fs = std::filesystem;

namespace {

// The fixation map of each stimulus of `pairs` that has one, by pairing stem: looked up in the
// twins (under fixations_dir) of the folders holding the saliency maps.
std::map<std::string, fs::path> fixation_maps(const data::PreparedDataset& dataset,
                                              const std::vector<data::FilePair>& pairs) {
  std::map<std::string, fs::path> out;
  if (dataset.fixations_dir.empty()) return out;
  std::set<fs::path> folders;
  for (const auto& p : pairs) folders.insert(p.second.parent_path());
  for (const fs::path& folder : folders) {
    const fs::path twin = dataset.fixations_dir / folder.lexically_relative(dataset.saliency_dir);
    std::error_code ec;
    if (!fs::is_directory(twin, ec)) continue;
    for (const fs::path& f : eval::list_maps(twin)) out.emplace(data::pairing_stem(f), f);
  }
  return out;
}

// Turns each map into a fitting sample with its fixations, in input order.
class Samples : public pipeline::Sink {
 public:
  Samples(std::map<std::string, fs::path> fixations, int fit_size)
      : fixations_(std::move(fixations)), fit_size_(fit_size) {}

  void consume(pipeline::Result&& r) override {
    const std::string stem = data::pairing_stem(r.name);
    samples_.push_back(calibration::make_sample(stem, data::unit_map(r.map),
                                                eval::read_map(fixations_.at(stem)), fit_size_));
  }
  bool concurrent() const override { return false; }
  std::vector<calibration::FitSample>& samples() { return samples_; }

 private:
  std::map<std::string, fs::path> fixations_;
  int fit_size_;
  std::vector<calibration::FitSample> samples_;
};

}  // namespace

calibration::Calibration run_calibrate_dataset(const data::PreparedDataset& dataset,
                                               const CalibrateDatasetOptions& o) {
  const std::map<std::string, fs::path> train_fix = fixation_maps(dataset, dataset.split.train);
  const std::map<std::string, fs::path> val_fix = fixation_maps(dataset, dataset.split.valid);
  auto stimuli = [](const std::vector<data::FilePair>& pairs,
                    const std::map<std::string, fs::path>& fix) {
    std::vector<std::string> out;
    for (const auto& p : pairs) {
      if (fix.count(data::pairing_stem(p.first))) out.push_back(p.first.string());
    }
    return out;
  };
  std::vector<std::string> train = stimuli(dataset.split.train, train_fix);
  std::vector<std::string> val = stimuli(dataset.split.valid, val_fix);
  if (train.empty()) {
    throw Error(ErrorCode::kInput,
                "calibrate: dataset '" + dataset.name +
                    "' has no fixation maps for its training images under '" +
                    dataset.fixations_dir.string() +
                    "'; calibrating needs fixations (or give --pred DIR --fixations DIR)");
  }
  if (train.size() < dataset.split.train.size() || val.size() < dataset.split.valid.size()) {
    spdlog::warn(
        "calibrate: {} of {} training and {} of {} validation images have a fixation map; "
        "only those are used",
        train.size(), dataset.split.train.size(), val.size(), dataset.split.valid.size());
  }
  const fs::path weights =
      dataset_weights(dataset, o.weights, o.results_dir, o.weights_dir, o.download);
  pipeline::Predictor predictor(weights, o.network);
  spdlog::info("calibrate: {} training and {} validation images of '{}' with '{}' ({})",
               train.size(), val.size(), dataset.name, weights.string(), predictor.describe());
  const pipeline::PipelineOptions po =
      dataset_pipeline(dataset, o.batch_size, o.workers, o.inflight_bytes, "calibrate", o.progress);
  auto predict = [&](std::vector<std::string> paths, const std::map<std::string, fs::path>& fix) {
    Samples sink(fix, o.fit.fit_size);
    pipeline::ImageFiles source(std::move(paths));
    const pipeline::PipelineResult r = pipeline::run_pipeline(source, predictor, sink, po);
    for (const pipeline::Failure& f : r.failures) {
      spdlog::warn("calibrate: skipped '{}': {}", f.name, f.why);
    }
    return std::move(sink.samples());
  };
  const std::vector<calibration::FitSample> train_samples = predict(std::move(train), train_fix);
  const std::vector<calibration::FitSample> val_samples = predict(std::move(val), val_fix);
  calibration::Calibration c = calibration::fit_calibration(train_samples, val_samples, o.fit);
  c.provenance.source = "dataset " + dataset.name + ", weights " + weights.string();
  return c;
}

}  // namespace msinet::infer
