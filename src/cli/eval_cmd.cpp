// `msinet eval`: saliency benchmark metrics for saved maps, a baseline, or a model on the
// validation split of a prepared dataset.
#include <spdlog/spdlog.h>

#include <iostream>
#include <map>
#include <sstream>

#include "msinet/cli/common.h"
#include "msinet/cli/datasets.h"
#include "msinet/data/dataset.h"
#include "msinet/data/image.h"
#include "msinet/data/splits.h"
#include "msinet/eval/evaluate.h"
#include "msinet/eval/report.h"
#include "msinet/infer/infer.h"
#include "msinet/infer/predictor.h"
#include "msinet/infer/threads.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/util/progress.h"

namespace msinet::cli {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Scores the model (or the chosen baseline) on the validation split of a prepared dataset.
eval::EvalResult eval_dataset(const DatasetChoice& ds, const std::string& path,
                              const std::string& weights, eval::EvalOptions options,
                              const config::Config& cfg) {
  const PreparedDataset prepared = load_train_data(ds, path, cfg);
  const train::TrainData& data = prepared.data;
  // The validation maps' folder (saliency/val for SALICON) and its twin under fixations/, so
  // that the matching keys are plain file stems.
  const fs::path maps = data.valid.front().second.parent_path();
  if (options.maps_dir.empty()) options.maps_dir = maps;
  if (options.fixations_dir.empty() && !prepared.fixations_dir.empty()) {
    const fs::path fix = prepared.fixations_dir / maps.lexically_relative(prepared.saliency_dir);
    std::error_code ec;
    if (fs::is_directory(fix, ec)) options.fixations_dir = fix;
  }
  // Ground truth of the validation images only.
  std::map<std::string, bool> wanted;
  for (const auto& p : data.valid) wanted[data::pairing_stem(p.first)] = true;
  std::vector<eval::GroundTruth> truths;
  for (auto& t : eval::find_ground_truth(options)) {
    if (wanted.count(data::pairing_stem(fs::path(t.image)))) truths.push_back(std::move(t));
  }
  if (truths.empty()) {
    throw Error(ErrorCode::kInput, "no ground truth for the validation images of '" + ds.name +
                                       "' in '" + options.fixations_dir.string() + "' / '" +
                                       options.maps_dir.string() + "'");
  }
  eval::Evaluator evaluator(std::move(truths), options);
  std::unique_ptr<infer::Predictor> predictor;
  fs::path weights_path = weights;
  if (options.baseline.empty()) {
    if (weights_path.empty()) {
      weights_path =
          infer::resolve_weights(ds.name, cfg.get("results_dir"), cfg.get("weights_dir"));
    }
    predictor = std::make_unique<infer::Predictor>(weights_path, cfg.get("device"));
    spdlog::info("eval: {} validation images of '{}' with '{}'", data.valid.size(), ds.name,
                 weights_path.string());
  }
  util::Progress progress("eval", static_cast<int64_t>(data.valid.size()));
  int64_t done = 0;
  for (const auto& pair : data.valid) {
    const std::string key = data::pairing_stem(pair.first);
    if (!evaluator.knows(key)) continue;
    if (!predictor) {
      evaluator.add_baseline(key);
    } else {
      try {
        const cv::Mat rgb = data::decode_image(pair.first, 3);
        const cv::Mat pred =
            predictor->predict({data::preprocess_stimulus(rgb, ds.height, ds.width)})[0];
        cv::Mat restored = data::restore_map(pred, rgb.rows, rgb.cols);
        cv::Mat as_double;
        restored.convertTo(as_double, CV_64F);
        evaluator.add(key, as_double, pair.first);
      } catch (const Error& e) {
        if (e.code() == ErrorCode::kIo) throw;
        evaluator.skip(key, "unreadable stimulus", e.what());
      }
    }
    progress.update(++done);
  }
  progress.finish();
  eval::EvalResult result = evaluator.finish();
  result.predictor = predictor ? weights_path.string() : options.baseline + " baseline";
  if (!options.csv.empty()) eval::write_csv(options.csv, result);
  if (!options.json.empty()) eval::write_json(options.json, result);
  return result;
}

}  // namespace

Command register_eval(CLI::App& root) {
  CLI::App* app = root.add_subcommand("eval", "score saliency maps with the benchmark metrics");
  auto state = add_common_options(*app);
  struct Args {
    std::string pred, fixations, maps, baseline_maps, baseline, metrics, csv, json, dataset, path,
        weights;
    uint64_t seed = 0;
    bool no_jitter = false;
  };
  auto args = std::make_shared<Args>();
  app->add_option(
      "--pred", args->pred,
      "folder of predicted maps (.jpeg/.jpg/.png grayscale or .npy), matched by file stem");
  app->add_option("--fixations", args->fixations,
                  "folder of binary fixation maps (nonzero = fixated)");
  app->add_option("--maps", args->maps,
                  "folder of continuous ground-truth maps (for CC, KLD, SIM)");
  app->add_option(
      "-d,--dataset", args->dataset,
      "score the validation split of this prepared dataset with a model (or --baseline)");
  app->add_option("-p,--path", args->path,
                  "with -d: the folder holding the dataset folder [default: <data_dir>]");
  app->add_option("--weights", args->weights,
                  "with -d: the weights [default: those `test` would use]");
  app->add_option("--baseline", args->baseline,
                  "score a baseline predictor instead: center (isotropic Gaussian, sigma = 0.25 x "
                  "min(h, w)) or chance (uniform)")
      ->check(CLI::IsMember({"center", "chance"}));
  app->add_option("--baseline-maps", args->baseline_maps,
                  "IG baseline maps, matched by stem [default: the centre map]");
  app->add_option("--metrics", args->metrics,
                  "comma-separated subset of auc_judd,auc_borji,sauc,nss,cc,kld,sim,ig [default: "
                  "all applicable]");
  app->add_option("--seed", args->seed, "seed of the random metrics (AUC jitter, AUC-Borji, sAUC)")
      ->capture_default_str();
  app->add_flag("--no-jitter", args->no_jitter, "no tie-breaking noise in AUC-Judd");
  add_config_flag(*app, *state, "--size", "size");
  app->add_option("--csv", args->csv, "write one row per image to this CSV file");
  app->add_option("--json", args->json, "write the summary to this JSON file");
  Command cmd{app, state, nullptr};
  cmd.run = [args](const config::Config& cfg) {
    infer::configure_threads(cfg.get_int("threads"));
    eval::EvalOptions o;
    o.pred_dir = args->pred;
    o.fixations_dir = args->fixations;
    o.maps_dir = args->maps;
    o.baseline_maps_dir = args->baseline_maps;
    o.baseline = args->baseline;
    o.metrics = split_list(args->metrics);
    o.seed = args->seed;
    o.jitter = !args->no_jitter;
    o.csv = args->csv;
    o.json = args->json;
    o.progress = true;
    eval::EvalResult r;
    if (!args->dataset.empty()) {
      if (!args->pred.empty())
        throw Error(ErrorCode::kUsage, "give either -d DATA or --pred DIR, not both");
      r = eval_dataset(choose_dataset(args->dataset, cfg), args->path, args->weights, o, cfg);
    } else {
      if (args->pred.empty() && args->baseline.empty()) {
        throw Error(ErrorCode::kUsage,
                    "eval needs --pred DIR, --baseline center|chance, or -d DATA");
      }
      if (args->fixations.empty() && args->maps.empty()) {
        throw Error(ErrorCode::kUsage,
                    "eval needs ground truth: --fixations DIR and/or --maps DIR");
      }
      r = eval::run_eval(o);
    }
    std::cout << eval::format_table(r) << std::flush;
    return 0;
  };
  return cmd;
}

}  // namespace msinet::cli
