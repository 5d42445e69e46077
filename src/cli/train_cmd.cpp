// `msinet train`: train or fine-tune MSI-Net on a dataset, in one process or as a data-parallel
// group of ranks (started here with --nproc, or by torchrun, Slurm or a training operator).
#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>

#include "msinet/cli/common.h"
#include "msinet/cli/datasets.h"
#include "msinet/cli/dry_run.h"
#include "msinet/dist/group_config.h"
#include "msinet/dist/launcher.h"
#include "msinet/runtime/threads.h"
#include "msinet/train/init.h"
#include "msinet/train/train.h"
#include "msinet/util/error.h"

namespace msinet::cli {

namespace {

struct Args {
  std::string dataset;
  std::string path;
  int nproc = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;
  bool dry_run = false;
};

train::TrainOptions train_options(const config::Config& cfg) {
  train::TrainOptions o;
  o.results_dir = cfg.get("results_dir");
  o.weights_dir = cfg.get("weights_dir");
  o.epochs = cfg.get_int("epochs");
  o.batch_size = cfg.get_int("batch_size");
  o.learning_rate = cfg.get_double("learning_rate");
  o.seed = static_cast<uint64_t>(std::stoull(cfg.get("seed")));
  o.init = cfg.get("init");
  o.device = cfg.get("device");
  o.accumulate = cfg.get_int("accumulate");
  o.loader_workers = cfg.get_int("loader_workers");
  o.mixed_precision = cfg.get("mixed_precision");
  o.channels_last = cfg.get("memory_format") == "channels_last";
  o.download = download_options(cfg);
  return o;
}

int report(const train::TrainResult& r) {
  spdlog::info(
      "done: {} epoch(s), best validation KLD {:.5f}; best '{}', latest '{}', history '{}'",
      r.epochs_done, r.best_valid, r.best.string(), r.latest.string(), r.history_dir.string());
  return 0;
}

// --nproc / --nnodes: prepare what every rank needs once, then start this node's ranks.
int launch(const Args& args, const config::Config& cfg) {
  if (!dist::available()) {
    throw Error(ErrorCode::kUsage, dist::unavailable_reason());
  }
  if (args.node_rank < 0 || args.node_rank >= args.nnodes) {
    throw Error(ErrorCode::kUsage, "--node-rank " + std::to_string(args.node_rank) +
                                       " is not below --nnodes " + std::to_string(args.nnodes));
  }
  const data::DatasetSpec spec = choose_dataset(args.dataset, cfg);
  // This node's ranks find the results folder that rank 0 trains into: check its start here,
  // before a dataset download.
  if (args.node_rank == 0)
    train::plan_start(train_options(cfg), spec.name, spec.height, spec.width);
  load_dataset(spec, args.path, cfg);
  dist::LaunchOptions l;
  l.nproc = args.nproc;
  l.nnodes = args.nnodes;
  l.node_rank = args.node_rank;
  l.master_addr = args.master_addr;
  l.master_port = args.master_port;
  l.args = command_arguments();
  l.threads_per_rank = cfg.get_int("threads");
  spdlog::info("starting {} rank(s) on this node ({} in all){}", l.nproc, l.nproc * l.nnodes,
               l.threads_per_rank ? "" : ", threads shared out between them");
  return dist::launch_ranks(l);
}

// One rank of a group; rank 0 speaks for the group.
int train_as_rank(dist::GroupConfig group_config, const Args& args, const config::Config& cfg) {
  group_config.backend = cfg.get("dist_backend");
  group_config.timeout = std::chrono::seconds(cfg.get_int("dist_timeout"));
  if (group_config.rank != 0 && spdlog::get_level() < spdlog::level::warn) {
    spdlog::set_level(spdlog::level::warn);
  }
  const data::DatasetSpec spec = choose_dataset(args.dataset, cfg);
  return report(train::run_train_rank(
      group_config, [&] { return load_dataset(spec, args.path, cfg); }, train_options(cfg)));
}

// --dry-run: the plan of the run these arguments start, checked as the run would check it.
int dry_run(const Args& args, const config::Config& cfg, int threads, int world_size) {
  TrainRun run;
  run.spec = choose_dataset(args.dataset, cfg);
  run.path = args.path;
  run.options = train_options(cfg);
  run.start = train::plan_start(run.options, run.spec.name, run.spec.height, run.spec.width);
  run.threads = threads;
  run.ranks = world_size > 0 ? world_size : args.nproc * args.nnodes;
  if (run.spec.builtin && !data::dataset_ready(dataset_folder(run.spec, args.path, cfg))) {
    refuse_image_folder(data_root(args.path, cfg), run.spec.name, "train", cfg);
  }
  print_train_plan(std::cout, run, cfg);
  return 0;
}

}  // namespace

Command register_train(CLI::App& root) {
  CLI::App* app = root.add_subcommand(
      "train", "train on a dataset (salicon from VGG16; the others fine-tune from salicon)");
  auto state = add_common_options(*app);
  auto args = std::make_shared<Args>();
  app->add_option(
         "-d,--dataset", args->dataset,
         "salicon, mit1003, cat2000, dutomron, pascals, osie, fiwi, or a dataset YAML file")
      ->type_name("DATA")
      ->required();
  app->add_option("-p,--path", args->path,
                  "folder that holds the dataset folder (prepared there when missing), or the "
                  "dataset folder itself [default: <data_dir>]")
      ->type_name("DIR");
  add_config_flag(*app, *state, "--epochs", "epochs");
  add_config_flag(*app, *state, "--batch-size", "batch_size");
  add_config_flag(*app, *state, "--lr", "learning_rate");
  add_config_flag(*app, *state, "--size", "size");
  add_config_flag(*app, *state, "--init", "init");
  add_config_flag(*app, *state, "--seed", "seed");
  add_config_flag(*app, *state, "--accumulate", "accumulate");
  add_config_flag(*app, *state, "--loader-workers", "loader_workers");
  add_config_flag(*app, *state, "--mixed-precision", "mixed_precision");
  add_config_flag(*app, *state, "--memory-format", "memory_format");
  add_config_flag(*app, *state, "--dist-backend", "dist_backend");
  add_config_flag(*app, *state, "--dist-timeout", "dist_timeout");
  app->add_option("--nproc", args->nproc,
                  "ranks to start on this node, each a process training on its share of every "
                  "batch (data parallel)")
      ->type_name("INT")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app->add_option("--nnodes", args->nnodes, "nodes in the run, each started with --nproc")
      ->type_name("INT")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  app->add_option("--node-rank", args->node_rank, "this node's index, 0 .. nnodes-1")
      ->type_name("INT")
      ->capture_default_str();
  app->add_option("--master-addr", args->master_addr, "host of rank 0, which serves the rendezvous")
      ->type_name("HOST")
      ->capture_default_str();
  app->add_option("--master-port", args->master_port,
                  "its TCP port [default: a free port on one node, 29500 on several]")
      ->type_name("PORT")
      ->check(CLI::Range(0, 65535));
  app->add_flag("--dry-run", args->dry_run,
                "print what would be downloaded, prepared, trained, resumed and written, then "
                "exit without downloading or writing anything");
  Command cmd{app, state, nullptr};
  cmd.run = [args](const config::Config& cfg) {
    const int threads = runtime::configure_threads(cfg.get_int("threads"));
    spdlog::debug("threads: {}", threads);
    // A rank started by a launcher (this one, torchrun, Slurm): RANK, WORLD_SIZE, ... are set.
    const std::optional<dist::GroupConfig> env = dist::config_from_environment();
    if (args->dry_run) return dry_run(*args, cfg, threads, env ? env->world_size : 0);
    if (env && env->world_size > 1) return train_as_rank(*env, *args, cfg);
    if (!env && (args->nproc > 1 || args->nnodes > 1)) return launch(*args, cfg);
    const data::DatasetSpec spec = choose_dataset(args->dataset, cfg);
    const train::TrainOptions options = train_options(cfg);
    // The start (resume, or the initialisation) is checked before a dataset download.
    train::plan_start(options, spec.name, spec.height, spec.width);
    return report(train::run_train(load_dataset(spec, args->path, cfg), options));
  };
  return cmd;
}

}  // namespace msinet::cli
