// `msinet calibrate`: fits the density calibration of a model's maps (or of saved maps) to a
// dataset's fixations and writes the calibration file `test --output density` applies.
#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <iostream>

#include "msinet/calibration/calibration.h"
#include "msinet/calibration/fit.h"
#include "msinet/cli/common.h"
#include "msinet/cli/datasets.h"
#include "msinet/infer/calibrate_dataset.h"
#include "msinet/runtime/memory.h"
#include "msinet/runtime/threads.h"
#include "msinet/util/error.h"

namespace msinet::cli {

namespace {

std::string bits(double v) {
  if (std::isnan(v)) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.4f", v);
  return text;
}

// The information gains, one line per split.
void print_gains(const calibration::Provenance& p) {
  std::printf("information gain, bits per fixation over the uniform density (fitted at %d px):\n",
              p.fit_size);
  std::printf("%-12s %8s %10s %9s %9s\n", "split", "images", "fixations", "before", "after");
  std::printf("%-12s %8lld %10lld %9s %9s\n", "train", p.train_images, p.train_fixations,
              bits(p.train_ig_before).c_str(), bits(p.train_ig_after).c_str());
  std::printf("%-12s %8lld %10lld %9s %9s\n", "validation", p.val_images, p.val_fixations,
              bits(p.val_ig_before).c_str(), bits(p.val_ig_after).c_str());
  std::fflush(stdout);
}

}  // namespace

Command register_calibrate(CLI::App& root) {
  CLI::App* app = root.add_subcommand(
      "calibrate",
      "fit the density calibration (blur, nonlinearity, centre bias, uniform mixture) of a "
      "model's maps to fixations, for `test --output density|logdensity --calibration FILE`");
  auto state = add_common_options(*app);
  struct Args {
    std::string dataset, path, weights, output, pred, fixations, val_pred, val_fixations;
    uint64_t seed = 0;
    int fit_size = 128;
    int steps = 300;
  };
  auto args = std::make_shared<Args>();
  app->add_option("-d,--dataset", args->dataset,
                  "predict this prepared dataset's training and validation splits with the model "
                  "and fit to their fixations")
      ->type_name("DATA");
  app->add_option("-p,--path", args->path,
                  "with -d: the folder holding the dataset folder [default: <data_dir>]")
      ->type_name("DIR");
  app->add_option("--weights", args->weights,
                  "with -d: the weights [default: those `test` would use]")
      ->type_name("FILE");
  app->add_option("--pred", args->pred,
                  "fit saved maps instead: folder of predicted maps (.jpeg/.jpg/.png/.npy), "
                  "matched by file stem to --fixations")
      ->type_name("DIR");
  app->add_option("--fixations", args->fixations,
                  "with --pred: folder of binary fixation maps (nonzero = fixated)")
      ->type_name("DIR");
  app->add_option("--val-pred", args->val_pred, "with --pred: validation maps to score")
      ->type_name("DIR");
  app->add_option("--val-fixations", args->val_fixations, "with --val-pred: their fixation maps")
      ->type_name("DIR");
  app->add_option("-o,--output", args->output,
                  "calibration file to write [default: <results_dir>/calibration/<dataset>.yaml, "
                  "with --pred <results_dir>/calibration/calibration.yaml]")
      ->type_name("FILE");
  app->add_option("--seed", args->seed, "seed of the fit's mini-batch order")
      ->type_name("INT")
      ->capture_default_str();
  app->add_option("--fit-size", args->fit_size,
                  "maps and fixations are downscaled to this longer side (pixels) for the fit")
      ->type_name("INT")
      ->capture_default_str()
      ->check(CLI::Range(8, 4096));
  app->add_option("--steps", args->steps, "Adam steps")
      ->type_name("INT")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  add_config_flag(*app, *state, "--size", "size");
  add_config_flag(*app, *state, "--batch-size", "batch_size");
  add_config_flag(*app, *state, "--precision", "precision");
  add_config_flag(*app, *state, "--runtime-plan", "runtime_plan");
  add_config_flag(*app, *state, "--int8-calibration", "int8_calibration");
  Command cmd{app, state, nullptr};
  cmd.run = [args](const config::Config& cfg) {
    runtime::configure_threads(cfg.get_int("threads"));
    calibration::FitOptions fit;
    fit.seed = args->seed;
    fit.fit_size = args->fit_size;
    fit.steps = args->steps;
    const std::filesystem::path calibration_dir =
        std::filesystem::path(cfg.get("results_dir")) / "calibration";
    calibration::Calibration c;
    std::filesystem::path out = args->output;
    if (!args->dataset.empty()) {
      if (!args->pred.empty() || !args->fixations.empty() || !args->val_pred.empty() ||
          !args->val_fixations.empty()) {
        throw Error(ErrorCode::kUsage,
                    "calibrate: give either -d DATA or --pred DIR --fixations DIR, not both");
      }
      runtime::reuse_freed_memory();
      const data::DatasetSpec spec = choose_dataset(args->dataset, cfg);
      infer::CalibrateDatasetOptions o;
      o.fit = fit;
      o.weights = args->weights;
      o.results_dir = cfg.get("results_dir");
      o.weights_dir = cfg.get("weights_dir");
      o.network.device = cfg.get("device");
      o.network.precision = cfg.get("precision");
      o.network.plan = cfg.get("runtime_plan");
      o.network.int8_calibration = cfg.get("int8_calibration");
      o.batch_size = cfg.get_int("batch_size");
      o.inflight_bytes = int64_t{cfg.get_int("inflight_memory_mb")} << 20;
      o.progress = true;
      o.download = download_options(cfg);
      if (out.empty()) out = calibration_dir / (spec.name + ".yaml");
      c = infer::run_calibrate_dataset(load_dataset(spec, args->path, cfg), o);
    } else {
      if (args->pred.empty() || args->fixations.empty()) {
        throw Error(ErrorCode::kUsage,
                    "calibrate needs -d DATA, or --pred DIR with --fixations DIR");
      }
      if (!args->weights.empty() || !args->path.empty()) {
        throw Error(ErrorCode::kUsage, "calibrate: --weights and -p go with -d DATA, not --pred");
      }
      if (args->val_pred.empty() != args->val_fixations.empty()) {
        throw Error(ErrorCode::kUsage,
                    "calibrate: --val-pred and --val-fixations go together; give both or neither");
      }
      const auto train = calibration::read_samples(args->pred, args->fixations, fit.fit_size);
      std::vector<calibration::FitSample> val;
      if (!args->val_pred.empty()) {
        val = calibration::read_samples(args->val_pred, args->val_fixations, fit.fit_size);
      }
      if (out.empty()) out = calibration_dir / "calibration.yaml";
      c = calibration::fit_calibration(train, val, fit);
      c.provenance.source = "maps " + args->pred + ", fixations " + args->fixations;
      if (!val.empty()) {
        c.provenance.source +=
            "; validation maps " + args->val_pred + ", fixations " + args->val_fixations;
      }
    }
    print_gains(c.provenance);
    calibration::write_calibration(out, c);
    std::cout << "calibration written to " << out.string() << "\n";
    return 0;
  };
  return cmd;
}

}  // namespace msinet::cli
