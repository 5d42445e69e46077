#include "msinet/infer/infer.h"

#include <spdlog/spdlog.h>

#include "msinet/checkpoint/load.h"
#include "msinet/data/image.h"
#include "msinet/pipeline/pipeline.h"
#include "msinet/pipeline/predictor.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"

namespace msinet::infer {

namespace fs = std::filesystem;

namespace {

// The output path of `image`: its path relative to the input folder, under `out_dir`, with
// the format's extension (the original writes <stem>.jpeg into results/images/).
fs::path output_path(const fs::path& input_root, const fs::path& image, const fs::path& out_dir,
                     const std::string& suffix) {
  fs::path rel = image.filename();
  std::error_code ec;
  if (fs::is_directory(input_root, ec)) rel = image.lexically_relative(input_root);
  rel.replace_extension();
  return out_dir / (rel.string() + suffix);
}

// Writes each map (and its overlay) as a file beside the others.
class MapFiles : public pipeline::Sink {
 public:
  MapFiles(const InferOptions& o, fs::path output_dir)
      : o_(o), format_(data::parse_map_format(o.format)), output_dir_(std::move(output_dir)) {}

  void consume(pipeline::Result&& r) override {
    const fs::path image = r.name;
    data::write_map(output_path(o_.input, image, output_dir_, data::map_file_extension(format_)),
                    r.map, format_);
    if (o_.overlay) {
      data::write_overlay(output_path(o_.input, image, output_dir_, "_overlay.jpeg"),
                          data::make_overlay(r.image, r.map));
    }
  }

 private:
  const InferOptions& o_;
  data::MapFormat format_;
  fs::path output_dir_;
};

}  // namespace

InferResult run_test(const InferOptions& o) {
  InferResult result;
  result.output_dir = o.output_dir.empty() ? o.results_dir / "images" : o.output_dir;
  MapFiles sink(o, result.output_dir);  // checks the format before any weights are fetched
  pipeline::PipelineOptions po;
  po.height = o.height;
  po.width = o.width;
  po.batch_size = o.batch_size;
  po.workers = o.workers > 0 ? o.workers : 2;
  po.keep_images = o.overlay;
  po.label = "test";
  po.progress = o.progress;
  pipeline::check_options(po);
  const std::vector<fs::path> images = util::list_images(o.input);
  if (images.empty()) {
    throw Error(ErrorCode::kInput,
                "no .png, .jpg or .jpeg images under '" + o.input.string() + "'");
  }
  result.weights = o.weights.empty() ? checkpoint::resolve_weights(o.dataset, o.results_dir,
                                                                   o.weights_dir, o.download)
                                     : o.weights;
  spdlog::info("test: {} image(s) from '{}', input {}x{}, weights '{}'", images.size(),
               o.input.string(), o.height, o.width, result.weights.string());
  pipeline::Predictor predictor(result.weights, o.device, o.precision);
  spdlog::info("device: {} ({})", predictor.device_name(), predictor.describe());

  std::vector<std::string> paths;
  for (const fs::path& p : images) paths.push_back(p.string());
  pipeline::ImageFiles source(std::move(paths));
  const pipeline::PipelineResult r = pipeline::run_pipeline(source, predictor, sink, po);
  result.written = r.done;
  result.failed = r.failed;
  for (const pipeline::Failure& f : r.failures) result.failures.push_back(f.name + ": " + f.why);
  result.forward_seconds = r.forward_seconds;
  result.total_seconds = r.total_seconds;
  spdlog::info("test: wrote {} map(s) to '{}' ({} failed) in {:.2f} s ({:.2f} s in the network)",
               result.written, result.output_dir.string(), result.failed, result.total_seconds,
               result.forward_seconds);
  return result;
}

}  // namespace msinet::infer
