// `msinet import`: TensorFlow / TF.js weights -> a native checkpoint.
#include <spdlog/spdlog.h>

#include "msinet/checkpoint/load.h"
#include "msinet/cli/common.h"

namespace msinet::cli {

Command register_import(CLI::App& root) {
  CLI::App* app = root.add_subcommand("import",
                                      "convert TensorFlow weights (frozen .pb, SavedModel, TF.js, "
                                      "checkpoint) or ONNX weights to an msinet checkpoint");
  auto state = add_common_options(*app);
  struct Args {
    std::string src, out;
  };
  auto args = std::make_shared<Args>();
  app->add_option(
         "SRC", args->src,
         "a frozen GraphDef .pb, a SavedModel folder, a TF.js model.json or "
         "*-weights_manifest.json, a TF checkpoint (its prefix, e.g. ckpt/model.ckpt-1000, its "
         ".index, or its folder), or an .onnx model")
      ->type_name("PATH")
      ->required();
  app->add_option("-o,--output", args->out, "the checkpoint to write (e.g. weights/mine.msinet)")
      ->type_name("FILE")
      ->required();
  Command cmd{app, state, nullptr};
  cmd.run = [args](const config::Config&) {
    checkpoint::import_weights(args->src, args->out);
    spdlog::info("imported '{}' into '{}'", args->src, args->out);
    return 0;
  };
  return cmd;
}

}  // namespace msinet::cli
