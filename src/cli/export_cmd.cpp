// `msinet export`: a network as ONNX, a TF.js graph model or a frozen GraphDef.
#include "msinet/cli/common.h"
#include "msinet/cli/datasets.h"
#include "msinet/export/export.h"
#include "msinet/util/size.h"

namespace msinet::cli {

Command register_export(CLI::App& root) {
  CLI::App* app = root.add_subcommand(
      "export", "write the network as a model for other runtimes: ONNX, TF.js or frozen GraphDef");
  auto state = add_common_options(*app);
  struct Args {
    std::string dataset = "salicon";
    std::string weights, format = "onnx", output, size, precision = "fp32", quantize = "none",
                         layout;
  };
  auto args = std::make_shared<Args>();
  app->add_option("-d,--dataset", args->dataset,
                  "dataset whose default weights to export (recorded in the metadata)")
      ->type_name("DATA")
      ->capture_default_str();
  app->add_option("--weights", args->weights,
                  "weights: any form `test --weights` takes [default: the best checkpoint "
                  "trained here, else the published model]")
      ->type_name("FILE");
  app->add_option("-f,--format", args->format,
                  "onnx (a .onnx file), tfjs (a folder: model.json + shards) or graphdef (a "
                  "frozen .pb, NHWC, as the original's model_<dataset>_cpu.pb)")
      ->type_name("onnx|tfjs|graphdef")
      ->check(CLI::IsMember({"onnx", "tfjs", "graphdef"}))
      ->capture_default_str();
  app->add_option("-o,--output", args->output, "the file (onnx, graphdef) or folder (tfjs)")
      ->type_name("PATH")
      ->required();
  app->add_option("--size", args->size,
                  "fixed input size HxW (multiples of 8, at most 8192) [default: any size, "
                  "multiples of 8]")
      ->type_name("HxW");
  app->add_option("--precision", args->precision,
                  "onnx: fp32, or fp16 (float16 weights and convolutions; float32 input/output)")
      ->type_name("fp32|fp16")
      ->check(CLI::IsMember({"fp32", "fp16"}))
      ->capture_default_str();
  app->add_option("--quantize", args->quantize,
                  "tfjs: weight quantization as the TF.js converter offers: none, uint8, uint16, "
                  "float16")
      ->type_name("none|uint8|uint16|float16")
      ->check(CLI::IsMember({"none", "uint8", "uint16", "float16"}))
      ->capture_default_str();
  app->add_option("--layout", args->layout,
                  "onnx: nchw (input [N,3,H,W]) or nhwc (input [N,H,W,3], TF style) [default: "
                  "nchw; tfjs and graphdef are always nhwc]")
      ->type_name("nchw|nhwc")
      ->check(CLI::IsMember({"nchw", "nhwc"}));
  Command cmd{app, state, nullptr};
  cmd.run = [args](const config::Config& cfg) {
    const data::DatasetSpec ds = choose_dataset(args->dataset, cfg);
    exporter::ExportOptions o;
    o.format = exporter::parse_export_format(args->format);
    o.output = args->output;
    o.weights = args->weights;
    o.dataset = ds.name;
    o.results_dir = cfg.get("results_dir");
    o.weights_dir = cfg.get("weights_dir");
    if (!args->size.empty()) {
      const util::Size s = util::parse_size(args->size, "--size");
      o.height = s.h;
      o.width = s.w;
    }
    o.precision = args->precision;
    o.quantize = args->quantize;
    o.layout = args->layout;
    o.download = download_options(cfg);
    exporter::run_export(o);
    return 0;
  };
  return cmd;
}

}  // namespace msinet::cli
