// `msinet test`: saliency maps for images, videos and a camera.
#include <spdlog/spdlog.h>

#include <optional>

#include "msinet/cli/common.h"
#include "msinet/cli/datasets.h"
#include "msinet/data/overlay.h"
#include "msinet/infer/infer.h"
#include "msinet/runtime/memory.h"
#include "msinet/runtime/threads.h"
#include "msinet/util/error.h"

namespace msinet::cli {

Command register_test(CLI::App& root) {
  CLI::App* app = root.add_subcommand(
      "test", "write saliency maps for an image, a video, a folder of them, or a camera");
  auto state = add_common_options(*app);
  struct Args {
    std::string dataset = "salicon";
    std::string path, output, weights;
    bool overlay = false;
    std::optional<double> smooth;
    std::string camera;
    bool show = false;
  };
  auto args = std::make_shared<Args>();
  app->add_option("-d,--dataset", args->dataset,
                  "dataset whose input size and weights to use: salicon, mit1003, cat2000, "
                  "dutomron, pascals, osie, fiwi, or a dataset YAML file")
      ->type_name("DATA")
      ->capture_default_str();
  app->add_option("-p,--path", args->path,
                  "an image, a video, or a folder searched recursively for .png/.jpg/.jpeg "
                  "images and .mp4/.avi/.mov/.mkv/.webm/.m4v videos (any codec FFmpeg reads)")
      ->type_name("PATH");
  app->add_option("-o,--output-dir", args->output,
                  "output folder [default: <results_dir>/images, videos in "
                  "<results_dir>/videos]")
      ->type_name("DIR");
  app->add_option("--camera", args->camera,
                  "map a camera instead of files, until Ctrl-C: a V4L2 index (0) or a device "
                  "path (/dev/video2); writes camera_<YYYYmmdd-HHMMSS>.mp4 "
                  "[default: in <results_dir>/videos]")
      ->type_name("N|DEVICE");
  app->add_flag("--show", args->show,
                "with --camera: show the maps (the overlay with --overlay) in a window with the "
                "frame rate; closing it, Esc or q stops like Ctrl-C");
  app->add_option("--smooth", args->smooth,
                  "videos: exponential moving average of the maps over frames, "
                  "m_t = ALPHA * map_t + (1 - ALPHA) * m_{t-1}, m_0 = map_0, 0 < ALPHA <= 1 "
                  "[default: off]")
      ->type_name("ALPHA");
  app->add_option(
         "--weights", args->weights,
         "weights: an msinet checkpoint, a frozen GraphDef .pb, a SavedModel folder, a "
         "TF.js model.json, a TF checkpoint or an .onnx model [default: the best checkpoint "
         "trained here, else the published model, downloaded on first use]")
      ->type_name("FILE");
  app->add_flag("--overlay", args->overlay,
                "also write <stem>_overlay.jpeg (videos: <stem>_overlay.mp4): the image blended "
                "with the coloured map, more opaque where the map is more salient");
  add_config_flag(*app, *state, "--colormap", "overlay_colormap");
  add_config_flag(*app, *state, "--alpha", "overlay_alpha");
  app->add_flag_callback(
      "--side-by-side", [state] { state->flags["overlay_side_by_side"] = "on"; },
      "also write <stem>_side.jpeg (videos: <stem>_side.mp4): the image, the coloured map and "
      "the overlay side by side (configuration key overlay_side_by_side: on)");
  app->add_flag_callback(
      "--colorbar", [state] { state->flags["overlay_colorbar"] = "on"; },
      "a colour bar labelled 0 (bottom) and 1 (top) right of the overlay and side-by-side "
      "images (configuration key overlay_colorbar: on)");
  add_config_flag(*app, *state, "--format", "format");
  add_config_flag(*app, *state, "--output", "output")
      ->check([](const std::string& v) -> std::string {
        if (v == "minmax" || v == "density" || v == "logdensity") return "";
        return "'" + v +
               "': choose minmax, density or logdensity (the output folder is -o/--output-dir)";
      });
  add_config_flag(*app, *state, "--calibration", "calibration");
  add_config_flag(*app, *state, "--size", "size");
  add_config_flag(*app, *state, "--batch-size", "batch_size");
  add_config_flag(*app, *state, "--precision", "precision");
  add_config_flag(*app, *state, "--runtime-plan", "runtime_plan");
  add_config_flag(*app, *state, "--int8-calibration", "int8_calibration");
  Command cmd{app, state, nullptr};
  cmd.run = [args](const config::Config& cfg) {
    runtime::configure_threads(cfg.get_int("threads"));
    runtime::reuse_freed_memory();
    if (args->path.empty() == args->camera.empty()) {
      throw Error(ErrorCode::kUsage,
                  "test: give either -p PATH (images, videos, a folder) or "
                  "--camera N");
    }
    if (args->smooth && !(*args->smooth > 0 && *args->smooth <= 1)) {
      throw Error(ErrorCode::kUsage, "--smooth " + std::to_string(*args->smooth) +
                                         ": ALPHA must be in (0, 1] (1 = no smoothing)");
    }
    const data::DatasetSpec ds = choose_dataset(args->dataset, cfg);
    infer::InferOptions o;
    o.input = args->path;
    o.dataset = ds.name;
    o.height = ds.height;
    o.width = ds.width;
    if (cfg.source("size") != config::Source::kDefault) {
      o.size_origin = cfg.source("size") == config::Source::kFlag ? "--size" : "the size setting";
    } else {
      o.size_origin = "the size of " + ds.name;
    }
    o.weights = args->weights;
    o.output_dir = args->output;
    o.results_dir = cfg.get("results_dir");
    o.weights_dir = cfg.get("weights_dir");
    o.output = cfg.get("output");
    o.calibration = cfg.get("calibration");
    // A density is a float per pixel: .npy unless a format was asked for (then refused).
    o.format = o.output != "minmax" && cfg.source("format") == config::Source::kDefault
                   ? "npy"
                   : cfg.get("format");
    o.overlay = args->overlay;
    o.side_by_side = cfg.get("overlay_side_by_side") == "on";
    o.overlay_style.colormap = data::parse_colormap(cfg.get("overlay_colormap"));
    o.overlay_style.alpha = cfg.get_double("overlay_alpha");
    o.overlay_style.colorbar = cfg.get("overlay_colorbar") == "on";
    o.smooth = args->smooth.value_or(0.0);
    o.camera = args->camera;
    o.show = args->show;
    o.batch_size = cfg.get_int("batch_size");
    o.inflight_bytes = int64_t{cfg.get_int("inflight_memory_mb")} << 20;
    o.network.device = cfg.get("device");
    o.network.precision = cfg.get("precision");
    o.network.plan = cfg.get("runtime_plan");
    o.network.int8_calibration = cfg.get("int8_calibration");
    o.download = download_options(cfg);
    const infer::InferResult r = infer::run_test(o);
    if (r.failed > 0) {
      spdlog::error("{} input(s) could not be processed, or only in part:", r.failed);
      for (const auto& f : r.failures) spdlog::error("  {}", f);
      return static_cast<int>(ErrorCode::kPartial);
    }
    return 0;
  };
  return cmd;
}

}  // namespace msinet::cli
