// `msinet download`: download and prepare a dataset as the original does.
#include <spdlog/spdlog.h>

#include <iostream>

#include "msinet/cli/common.h"
#include "msinet/cli/datasets.h"
#include "msinet/cli/dry_run.h"
#include "msinet/data/dataset.h"
#include "msinet/data/recipes.h"
#include "msinet/util/error.h"

namespace msinet::cli {

Command register_download(CLI::App& root) {
  CLI::App* app = root.add_subcommand(
      "download",
      "download and prepare a dataset into <path>/<dataset>/{stimuli,saliency,fixations}");
  auto state = add_common_options(*app);
  struct Args {
    std::string dataset, path;
    bool keep = false;
    bool dry_run = false;
  };
  auto args = std::make_shared<Args>();
  app->add_option("-d,--dataset", args->dataset,
                  "salicon, mit1003, cat2000, dutomron, pascals, osie or fiwi")
      ->type_name("DATA")
      ->required();
  app->add_option("-p,--path", args->path, "folder to prepare the dataset in [default: <data_dir>]")
      ->type_name("DIR");
  app->add_flag("--keep-archives", args->keep, "keep the downloaded archives in <path>/downloads");
  app->add_flag("--dry-run", args->dry_run,
                "print what would be downloaded (URLs, sizes, files) and prepared, then exit "
                "without downloading or writing anything");
  Command cmd{app, state, nullptr};
  cmd.run = [args](const config::Config& cfg) {
    if (data::is_dataset_yaml(args->dataset)) {
      throw Error(ErrorCode::kUsage,
                  "'" + args->dataset +
                      "' is a dataset file: msinet download prepares the built-in datasets "
                      "(salicon, mit1003, cat2000, dutomron, pascals, osie, fiwi); a dataset of "
                      "your own needs no download: train on it with -d " +
                      args->dataset);
    }
    const std::filesystem::path root = data_root(args->path, cfg);
    data::builtin_dataset(args->dataset);
    if (!data::dataset_ready(args->dataset, root)) {
      refuse_image_folder(root, args->dataset, "download", cfg);
    }
    if (args->dry_run) {
      print_download_plan(std::cout, args->dataset, root, args->keep, cfg);
      return 0;
    }
    data::PrepareOptions o = prepare_options(cfg);
    o.keep_archives = args->keep;
    const auto dir = data::prepare_dataset(args->dataset, root, o);
    spdlog::info("dataset '{}' is ready in '{}'", args->dataset, dir.string());
    return 0;
  };
  return cmd;
}

}  // namespace msinet::cli
