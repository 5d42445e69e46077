// `msinet train`: train or fine-tune MSI-Net on a dataset.
#include <spdlog/spdlog.h>

#include "msinet/cli/common.h"
#include "msinet/cli/datasets.h"
#include "msinet/runtime/threads.h"
#include "msinet/train/train.h"

namespace msinet::cli {

Command register_train(CLI::App& root) {
  CLI::App* app = root.add_subcommand(
      "train", "train on a dataset (salicon from VGG16; the others fine-tune from salicon)");
  auto state = add_common_options(*app);
  struct Args {
    std::string dataset;
    std::string path;
  };
  auto args = std::make_shared<Args>();
  app->add_option(
         "-d,--dataset", args->dataset,
         "salicon, mit1003, cat2000, dutomron, pascals, osie, fiwi, or a dataset YAML file")
      ->required();
  app->add_option("-p,--path", args->path,
                  "folder that holds the dataset folder (prepared there when missing), or the "
                  "dataset folder itself [default: <data_dir>]");
  add_config_flag(*app, *state, "--epochs", "epochs");
  add_config_flag(*app, *state, "--batch-size", "batch_size");
  add_config_flag(*app, *state, "--lr", "learning_rate");
  add_config_flag(*app, *state, "--size", "size");
  add_config_flag(*app, *state, "--init", "init");
  add_config_flag(*app, *state, "--seed", "seed");
  Command cmd{app, state, nullptr};
  cmd.run = [args](const config::Config& cfg) {
    const int threads = runtime::configure_threads(cfg.get_int("threads"));
    spdlog::debug("threads: {}", threads);
    const data::PreparedDataset data =
        load_dataset(choose_dataset(args->dataset, cfg), args->path, cfg);
    train::TrainOptions o;
    o.results_dir = cfg.get("results_dir");
    o.weights_dir = cfg.get("weights_dir");
    o.epochs = cfg.get_int("epochs");
    o.batch_size = cfg.get_int("batch_size");
    o.learning_rate = cfg.get_double("learning_rate");
    o.seed = static_cast<uint64_t>(std::stoull(cfg.get("seed")));
    o.init = cfg.get("init");
    o.device = cfg.get("device");
    o.download = download_options(cfg);
    const train::TrainResult r = train::run_train(data, o);
    spdlog::info(
        "done: {} epoch(s), best validation KLD {:.5f}; best '{}', latest '{}', history '{}'",
        r.epochs_done, r.best_valid, r.best.string(), r.latest.string(), r.history_dir.string());
    return 0;
  };
  return cmd;
}

}  // namespace msinet::cli
