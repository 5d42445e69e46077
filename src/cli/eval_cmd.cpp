// `msinet eval`: saliency benchmark metrics for saved maps, a baseline, or a model on the
// validation split of a prepared dataset.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "msinet/cli/common.h"
#include "msinet/cli/datasets.h"
#include "msinet/eval/compare.h"
#include "msinet/eval/evaluate.h"
#include "msinet/eval/plots.h"
#include "msinet/eval/report.h"
#include "msinet/infer/eval_dataset.h"
#include "msinet/runtime/memory.h"
#include "msinet/runtime/threads.h"
#include "msinet/util/error.h"

namespace msinet::cli {

namespace {

/// The plots folder: --plots, else the folder of --json, else of --csv, else none.
std::filesystem::path plots_folder(const std::string& plots, const std::string& json,
                                   const std::string& csv) {
  if (!plots.empty()) return plots;
  for (const std::string& report : {json, csv}) {
    if (report.empty()) continue;
    const std::filesystem::path dir = std::filesystem::path(report).parent_path();
    return dir.empty() ? std::filesystem::path(".") : dir;
  }
  return {};
}

/// Logs where eval wrote its reports and plots and how long it took since `start`.
void log_outputs(const eval::EvalOptions& o, std::chrono::steady_clock::time_point start) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string wrote;
  auto add = [&wrote](const std::string& what) { wrote += (wrote.empty() ? "" : ", ") + what; };
  if (!o.csv.empty()) add("the CSV to '" + o.csv.string() + "'");
  if (!o.json.empty()) add("the JSON to '" + o.json.string() + "'");
  if (!o.plots_dir.empty()) add("the plots to '" + o.plots_dir.string() + "'");
  if (wrote.empty()) {
    spdlog::info("eval: done in {:.1f} s (the table on stdout; no files written)", seconds);
  } else {
    spdlog::info("eval: wrote {} in {:.1f} s", wrote, seconds);
  }
}

/// 0 when every image was scored, kPartial when some were skipped, kInput when none was.
int exit_code(const eval::EvalResult& r) {
  // A score over fewer images than were given must not pass for a complete one.
  if (r.images.empty()) {
    spdlog::error(
        "eval: no image was scored (no prediction matched the ground truth, or every "
        "file was skipped; see above)");
    return static_cast<int>(ErrorCode::kInput);
  }
  size_t skipped_images = 0;
  for (const eval::Skipped& s : r.skipped) skipped_images += s.metrics.empty() ? 1 : 0;
  if (skipped_images > 0) {
    spdlog::warn(
        "eval: {} image(s) skipped entirely (listed above); the summary covers the {} "
        "scored",
        skipped_images, r.images.size());
    return static_cast<int>(ErrorCode::kPartial);
  }
  return 0;
}

}  // namespace

Command register_eval(CLI::App& root) {
  CLI::App* app = root.add_subcommand("eval", "score saliency maps with the benchmark metrics");
  auto state = add_common_options(*app);
  struct Args {
    std::vector<std::string> pred;
    std::string fixations, maps, baseline_maps, baseline, metrics, csv, json, dataset, path,
        weights, plots, protocol = "mit", train_fixations, calibration;
    double kernel_size = 24.0;
    uint64_t seed = 0;
    int bootstrap = eval::kBootstrapResamples;
    bool no_jitter = false, no_plots = false;
  };
  auto args = std::make_shared<Args>();
  app->add_option(
         "--pred", args->pred,
         "folder of predicted maps (.jpeg/.jpg/.png grayscale or .npy), matched by file stem; "
         "repeat it to compare models image by image (each against the first)")
      ->type_name("DIR");
  app->add_option("--fixations", args->fixations,
                  "folder of binary fixation maps (nonzero = fixated)")
      ->type_name("DIR");
  app->add_option("--maps", args->maps, "folder of continuous ground-truth maps (for CC, KLD, SIM)")
      ->type_name("DIR");
  app->add_option(
         "-d,--dataset", args->dataset,
         "score the validation split of this prepared dataset with a model (or --baseline)")
      ->type_name("DATA");
  app->add_option("-p,--path", args->path,
                  "with -d: the folder holding the dataset folder [default: <data_dir>]")
      ->type_name("DIR");
  app->add_option("--weights", args->weights,
                  "with -d: the weights [default: those `test` would use]")
      ->type_name("FILE");
  app->add_option("--baseline", args->baseline,
                  "score a baseline predictor instead: center (isotropic Gaussian, sigma = 0.25 x "
                  "min(h, w)) or chance (a uniform map: seeded random tie-breaking for AUC-Judd, "
                  "AUC-Borji, sAUC, NSS and CC, the exact uniform density for KLD, SIM and IG)")
      ->type_name("center|chance")
      ->check(CLI::IsMember({"center", "chance"}));
  app->add_option("--baseline-maps", args->baseline_maps,
                  "IG baseline maps, matched by stem [default: the centre map]")
      ->type_name("DIR");
  app->add_option("--metrics", args->metrics,
                  "comma-separated subset of auc_judd,auc_borji,sauc,nss,cc,kld,sim,emd,ig "
                  "[default: all applicable but emd, which costs about 10 ms per 480x640 image "
                  "and 0.1 s per 1080x1920 one]")
      ->type_name("M,...");
  app->add_option("--protocol", args->protocol,
                  "mit: the MIT benchmark's MATLAB metrics on raw maps; tuebingen: the "
                  "MIT/Tuebingen benchmark's metrics of a density (.npy densities or "
                  "log-densities; ll, ig, auc, sauc, nss, cc, kld, sim)")
      ->type_name("mit|tuebingen")
      ->check(CLI::IsMember({"mit", "tuebingen"}))
      ->capture_default_str();
  app->add_option("--train-fixations", args->train_fixations,
                  "tuebingen: the training split's binary fixation maps, for the centre-bias "
                  "baseline [with -d: the dataset's]")
      ->type_name("DIR");
  app->add_option("--calibration", args->calibration,
                  "tuebingen with -d: the calibration file (`msinet calibrate`) that turns the "
                  "model's maps into densities [default: the identity calibration]")
      ->type_name("FILE");
  app->add_option("--kernel-size", args->kernel_size,
                  "tuebingen: blur sigma in pixels of the empirical map and of the CC/KLD/SIM "
                  "maps (MIT300: 24, CAT2000: 40)")
      ->type_name("PX")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app->add_option("--seed", args->seed, "seed of the random metrics (AUC jitter, AUC-Borji, sAUC)")
      ->type_name("INT")
      ->capture_default_str();
  app->add_flag("--no-jitter", args->no_jitter, "no tie-breaking noise in AUC-Judd");
  app->add_option("--bootstrap", args->bootstrap,
                  "resamples of the 95% bootstrap interval of each mean (0: no intervals)")
      ->type_name("INT")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_option("--plots", args->plots,
                  "folder for the PNG plots [default: the folder of --json, else of --csv, else "
                  "no plots]")
      ->type_name("DIR");
  app->add_flag("--no-plots", args->no_plots, "no PNG plots, even beside --json / --csv");
  add_config_flag(*app, *state, "--size", "size");
  add_config_flag(*app, *state, "--batch-size", "batch_size");
  add_config_flag(*app, *state, "--precision", "precision");
  add_config_flag(*app, *state, "--runtime-plan", "runtime_plan");
  add_config_flag(*app, *state, "--int8-calibration", "int8_calibration");
  app->add_option("--csv", args->csv, "write one row per image to this CSV file")
      ->type_name("FILE");
  app->add_option("--json", args->json, "write the summary to this JSON file")->type_name("FILE");
  Command cmd{app, state, nullptr};
  cmd.run = [args](const config::Config& cfg) {
    const auto start = std::chrono::steady_clock::now();
    runtime::configure_threads(cfg.get_int("threads"));
    eval::EvalOptions o;
    if (args->pred.size() == 1) o.pred_dir = args->pred.front();
    o.fixations_dir = args->fixations;
    o.maps_dir = args->maps;
    o.baseline_maps_dir = args->baseline_maps;
    o.baseline = args->baseline;
    o.metrics = split_list(args->metrics);
    o.seed = args->seed;
    o.jitter = !args->no_jitter;
    o.csv = args->csv;
    o.json = args->json;
    o.bootstrap = args->bootstrap;
    if (!args->no_plots) o.plots_dir = plots_folder(args->plots, args->json, args->csv);
    o.progress = true;
    o.protocol = args->protocol;
    o.train_fixations_dir = args->train_fixations;
    o.kernel_size = args->kernel_size;
    if (args->pred.size() > 1) {
      if (!args->dataset.empty() || !args->baseline.empty()) {
        throw Error(ErrorCode::kUsage,
                    "several --pred folders are compared with each other; give no -d or "
                    "--baseline with them");
      }
      std::vector<std::filesystem::path> dirs(args->pred.begin(), args->pred.end());
      const eval::ComparisonResult c = eval::run_comparison(o, dirs);
      log_outputs(o, start);
      std::cout << eval::format_comparison(c) << std::flush;
      int code = 0;
      for (const eval::EvalResult& r : c.runs) code = std::max(code, exit_code(r));
      return code;
    }
    if (!args->calibration.empty() && (args->dataset.empty() || args->protocol != "tuebingen")) {
      throw Error(ErrorCode::kUsage,
                  "--calibration turns a model's maps into densities: give it with -d DATA and "
                  "--protocol tuebingen (saved densities are calibrated by `msinet test --output "
                  "density --calibration FILE`)");
    }
    eval::EvalResult r;
    if (!args->dataset.empty()) {
      if (!args->pred.empty())
        throw Error(ErrorCode::kUsage, "give either -d DATA or --pred DIR, not both");
      runtime::reuse_freed_memory();
      infer::EvalDatasetOptions eo;
      eo.eval = o;
      eo.weights = args->weights;
      eo.results_dir = cfg.get("results_dir");
      eo.weights_dir = cfg.get("weights_dir");
      eo.network.device = cfg.get("device");
      eo.network.precision = cfg.get("precision");
      eo.network.plan = cfg.get("runtime_plan");
      eo.network.int8_calibration = cfg.get("int8_calibration");
      eo.batch_size = cfg.get_int("batch_size");
      eo.inflight_bytes = int64_t{cfg.get_int("inflight_memory_mb")} << 20;
      eo.download = download_options(cfg);
      eo.calibration = args->calibration;
      r = infer::run_eval_dataset(load_dataset(choose_dataset(args->dataset, cfg), args->path, cfg),
                                  eo);
      if (!o.plots_dir.empty()) eval::write_plots(o.plots_dir, {&r}, {});
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
    log_outputs(o, start);
    std::cout << eval::format_table(r) << std::flush;
    return exit_code(r);
  };
  return cmd;
}

}  // namespace msinet::cli
