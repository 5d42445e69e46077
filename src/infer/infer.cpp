#include "msinet/infer/infer.h"

#include <spdlog/spdlog.h>

#include <map>

#include "msinet/calibration/calibration.h"
#include "msinet/calibration/density.h"
#include "msinet/checkpoint/container.h"
#include "msinet/checkpoint/load.h"
#include "msinet/data/image.h"
#include "msinet/data/overlay.h"
#include "msinet/data/video.h"
#include "msinet/infer/video.h"
#include "msinet/pipeline/pipeline.h"
#include "msinet/pipeline/predictor.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"

namespace msinet::infer {

namespace fs = std::filesystem;

// The original writes <stem>.jpeg into results/images/.
fs::path output_path(const fs::path& input_root, const fs::path& input, const fs::path& out_dir,
                     const std::string& suffix) {
  fs::path rel = input.filename();
  std::error_code ec;
  if (fs::is_directory(input_root, ec)) rel = input.lexically_relative(input_root);
  rel.replace_extension();
  return out_dir / (rel.string() + suffix);
}

namespace {

enum class Output { kMinmax, kDensity, kLogDensity };

// The output kind, checked against the format and --calibration (Error(kUsage) naming both).
Output parse_output(const InferOptions& o) {
  if (o.output == "minmax") {
    if (!o.calibration.empty()) {
      throw Error(ErrorCode::kUsage,
                  "--calibration applies to --output density or logdensity, not minmax (the "
                  "map as the network gives it)");
    }
    return Output::kMinmax;
  }
  if (o.output != "density" && o.output != "logdensity") {
    throw Error(ErrorCode::kUsage,
                "--output '" + o.output + "': choose minmax, density or logdensity");
  }
  if (data::parse_map_format(o.format) != data::MapFormat::kNpy) {
    throw Error(ErrorCode::kUsage,
                "--output " + o.output + " needs --format npy: a " + o.output +
                    " is a float per pixel (tiny values and their logs), which an 8-bit " +
                    o.format + " image cannot hold");
  }
  return o.output == "density" ? Output::kDensity : Output::kLogDensity;
}

// Writes each map (and its overlay) as a file beside the others.
class MapFiles : public pipeline::Sink {
 public:
  MapFiles(const InferOptions& o, fs::path output_dir)
      : o_(o),
        format_(data::parse_map_format(o.format)),
        output_(parse_output(o)),
        output_dir_(std::move(output_dir)) {
    if (output_ != Output::kMinmax) {
      calibration_ = o.calibration.empty() ? calibration::identity_calibration()
                                           : calibration::read_calibration(o.calibration);
    }
  }

  void consume(pipeline::Result&& r) override {
    const fs::path image = r.name;
    const fs::path out =
        output_path(o_.input, image, output_dir_, data::map_file_extension(format_));
    if (output_ == Output::kMinmax) {
      data::write_map(out, r.map, format_);
    } else {
      cv::Mat values = calibration::log_density(data::unit_map(r.map), calibration_);
      if (output_ == Output::kDensity) cv::exp(values, values);
      values.convertTo(values, CV_32F);
      util::write_file_atomic(out, data::encode_npy(values));
    }
    if (o_.overlay) {
      data::write_overlay(output_path(o_.input, image, output_dir_, "_overlay.jpeg"),
                          data::make_overlay(r.image, r.map, o_.overlay_style));
    }
    if (o_.side_by_side) {
      data::write_overlay(output_path(o_.input, image, output_dir_, "_side.jpeg"),
                          data::make_side_by_side(r.image, r.map, o_.overlay_style));
    }
  }

 private:
  const InferOptions& o_;
  data::MapFormat format_;
  Output output_;
  calibration::Calibration calibration_;
  fs::path output_dir_;
};

// Every file the job would write, checked before anything is: an output that would replace an
// input, or two outputs with one name (a.jpg and a.png both give a.jpeg; x_overlay.jpg's map is
// x.jpg's overlay), is refused, naming the files.
void check_outputs(const InferOptions& o, const std::vector<fs::path>& images,
                   const fs::path& output_dir, const std::vector<fs::path>& videos,
                   const fs::path& video_dir) {
  const std::string extension = data::map_file_extension(data::parse_map_format(o.format));
  std::error_code ec;
  auto key = [&ec](const fs::path& p) { return fs::weakly_canonical(fs::absolute(p), ec); };
  std::map<fs::path, fs::path> inputs, writers;
  for (const fs::path& image : images) inputs[key(image)] = image;
  for (const fs::path& video : videos) inputs[key(video)] = video;
  std::vector<std::pair<fs::path, std::vector<fs::path>>> planned;
  for (const fs::path& image : images) {
    std::vector<fs::path> outputs = {output_path(o.input, image, output_dir, extension)};
    if (o.overlay) outputs.push_back(output_path(o.input, image, output_dir, "_overlay.jpeg"));
    if (o.side_by_side) outputs.push_back(output_path(o.input, image, output_dir, "_side.jpeg"));
    planned.emplace_back(image, std::move(outputs));
  }
  for (const fs::path& video : videos) {
    planned.emplace_back(video, video_outputs(o, video, video_dir).all());
  }
  std::vector<std::string> problems;
  for (const auto& [image, outputs] : planned) {
    for (const fs::path& out : outputs) {
      const fs::path k = key(out);
      if (const auto in = inputs.find(k); in != inputs.end()) {
        problems.push_back("'" + out.string() + "' (from '" + image.string() +
                           "') would replace the input '" + in->second.string() + "'");
      } else if (const auto [at, fresh] = writers.emplace(k, image); !fresh) {
        problems.push_back("'" + at->second.string() + "' and '" + image.string() +
                           "' would both be written to '" + out.string() + "'");
      }
    }
  }
  if (problems.empty()) return;
  std::string message = "test: nothing written, because " + std::to_string(problems.size()) +
                        (problems.size() == 1 ? " output" : " outputs") +
                        " would overwrite other files (choose another -o folder, or rename "
                        "the inputs):";
  for (size_t i = 0; i < problems.size() && i < 20; ++i) message += "\n  " + problems[i];
  if (problems.size() > 20)
    message += "\n  ... and " + std::to_string(problems.size() - 20) + " more";
  throw Error(ErrorCode::kUsage, message);
}

// Warns when `weights` is an msinet checkpoint trained at another size than the run's: its maps
// then differ from those at the training size.
void warn_if_trained_at_other_size(const fs::path& weights, const InferOptions& o) {
  std::error_code ec;
  if (!fs::is_regular_file(weights, ec) || !checkpoint::looks_like_checkpoint(weights)) return;
  checkpoint::CheckpointMeta meta;
  try {
    meta = checkpoint::read_checkpoint_meta(weights);
  } catch (const Error&) {
    return;  // loading it names the damage
  }
  // Imported weights record no size (0).
  if (meta.height <= 0 || meta.width <= 0 || (meta.height == o.height && meta.width == o.width)) {
    return;
  }
  spdlog::warn(
      "checkpoint '{}' was trained at {}x{}; running at {}x{} ({}): its maps differ from those "
      "at the size it learnt; give --size {}x{} to run at that size",
      weights.string(), meta.height, meta.width, o.height, o.width, o.size_origin, meta.height,
      meta.width);
}

}  // namespace

InferResult run_test(const InferOptions& o) {
  parse_output(o);
  if (o.output != "minmax" && !o.camera.empty()) {
    throw Error(ErrorCode::kUsage, "--output " + o.output +
                                       " is for images only; a camera gives --output minmax maps");
  }
  if (!o.camera.empty()) {
    // The camera is opened before any weights are fetched: a missing one is a quick error.
    data::VideoReader camera = data::VideoReader::open_camera(o.camera);
    const fs::path weights =
        o.weights.empty()
            ? checkpoint::resolve_weights(o.dataset, o.results_dir, o.weights_dir, o.download)
            : o.weights;
    warn_if_trained_at_other_size(weights, o);
    pipeline::Predictor predictor(weights, o.network);
    InferResult result = run_camera(o, std::move(camera), predictor);
    result.weights = weights;
    return result;
  }
  if (o.show) throw Error(ErrorCode::kUsage, "--show needs --camera");
  if (o.smooth < 0 || o.smooth > 1) {
    throw Error(ErrorCode::kUsage, "--smooth must be in (0, 1] (1 = no smoothing)");
  }
  InferResult result;
  result.output_dir = o.output_dir.empty() ? o.results_dir / "images" : o.output_dir;
  const fs::path video_dir = o.output_dir.empty() ? o.results_dir / "videos" : o.output_dir;
  MapFiles sink(o, result.output_dir);  // checks the format before any weights are fetched
  pipeline::PipelineOptions po;
  po.height = o.height;
  po.width = o.width;
  po.batch_size = o.batch_size;
  po.workers = o.workers > 0 ? o.workers : 2;
  po.keep_images = o.overlay || o.side_by_side;
  po.inflight_bytes = o.inflight_bytes;
  po.label = "test";
  po.progress = o.progress;
  pipeline::check_options(po);
  util::ListingSkips skips;
  std::vector<fs::path> images, videos;
  for (const fs::path& p : util::list_files(
           o.input,
           [](const fs::path& f) {
             return util::has_image_extension(f) || util::has_video_extension(f);
           },
           {result.output_dir, video_dir}, &skips)) {
    (util::has_video_extension(p) ? videos : images).push_back(p);
  }
  for (const fs::path& dir : skips.excluded) {
    spdlog::info("test: not reading the output folder '{}' as input", dir.string());
  }
  for (const fs::path& dir : skips.repeated) {
    spdlog::warn("test: skipped '{}': a link to a folder already listed (a cycle or an alias)",
                 dir.string());
  }
  if (images.empty() && videos.empty()) {
    throw Error(ErrorCode::kInput,
                "no .png, .jpg or .jpeg images and no .mp4, .avi, .mov, .mkv, "
                ".webm or .m4v videos under '" +
                    o.input.string() + "'");
  }
  if (o.output != "minmax" && !videos.empty()) {
    throw Error(ErrorCode::kUsage,
                "--output " + o.output + " is for images only, but '" + o.input.string() +
                    "' holds " + std::to_string(videos.size()) + " video(s) (the first: '" +
                    videos.front().string() + "'); map videos with --output minmax");
  }
  check_outputs(o, images, result.output_dir, videos, video_dir);
  for (const fs::path& dir : {result.output_dir, video_dir}) {
    for (const fs::path& p : util::remove_stale_temporaries(dir)) {
      spdlog::info("test: removed '{}', left by a run that was killed while writing it",
                   p.string());
    }
    if (result.output_dir == video_dir) break;
  }
  result.weights = o.weights.empty() ? checkpoint::resolve_weights(o.dataset, o.results_dir,
                                                                   o.weights_dir, o.download)
                                     : o.weights;
  spdlog::info("test: {} image(s) and {} video(s) from '{}', input {}x{}, weights '{}'",
               images.size(), videos.size(), o.input.string(), o.height, o.width,
               result.weights.string());
  warn_if_trained_at_other_size(result.weights, o);
  if (!o.weights.empty()) spdlog::debug("weights: '{}' (given with --weights)", o.weights.string());
  spdlog::debug(
      "test: input {}x{} (aspect kept, padded), batch {}, {} decoding worker(s), {} MiB in "
      "flight, {} {} maps{}",
      o.height, o.width, po.batch_size, po.workers, po.inflight_bytes >> 20, o.output, o.format,
      o.overlay ? " and overlays" : "");
  pipeline::Predictor predictor(result.weights, o.network);
  spdlog::info("device: {} ({})", predictor.device_name(), predictor.describe());

  if (!images.empty()) {
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
  }
  for (const fs::path& video : videos) {
    try {
      const VideoRun run =
          run_video_file(o, video, video_outputs(o, video, video_dir), predictor, po);
      result.frames += run.frames;
      result.videos += run.frames > 0 ? 1 : 0;
      result.forward_seconds += run.forward_seconds;
      result.total_seconds += run.total_seconds;
      for (const pipeline::Failure& f : run.failures) {
        ++result.failed;
        result.failures.push_back(video.string() + ": " + f.why);
      }
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kInput) throw;  // a full disk, an interrupt: stop
      spdlog::error("{}", e.what());
      ++result.failed;
      result.failures.push_back(video.string() + ": " + e.what());
    }
  }
  return result;
}

}  // namespace msinet::infer
