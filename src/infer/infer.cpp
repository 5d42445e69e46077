#include "msinet/infer/infer.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "msinet/data/image.h"
#include "msinet/infer/predictor.h"
#include "msinet/infer/published.h"
#include "msinet/train/checkpoint.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/util/progress.h"
#include "msinet/util/signals.h"

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

struct Pending {
  fs::path path;
  cv::Mat original;  // RGB, only kept when an overlay is wanted
  int h = 0, w = 0;
  cv::Mat stimulus;
};

}  // namespace

fs::path resolve_weights(const std::string& dataset, const fs::path& results_dir,
                         const fs::path& weights_dir) {
  const fs::path best = results_dir / "ckpts" / "best" / (dataset + train::kCheckpointSuffix);
  std::error_code ec;
  if (fs::is_regular_file(best, ec)) return best;
  return ensure_published_weights(dataset, weights_dir);
}

InferResult run_test(const InferOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  InferResult result;
  const data::MapFormat format = data::parse_map_format(o.format);
  if (o.height <= 0 || o.width <= 0 || o.height % 8 != 0 || o.width % 8 != 0) {
    throw Error(ErrorCode::kUsage, "input size " + std::to_string(o.height) + "x" +
                                       std::to_string(o.width) + " must be multiples of 8");
  }
  if (o.batch_size < 1) throw Error(ErrorCode::kUsage, "--batch-size must be at least 1");
  const std::vector<fs::path> images = util::list_images(o.input);
  if (images.empty()) {
    throw Error(ErrorCode::kInput, "no .png, .jpg or .jpeg images under '" + o.input.string() + "'");
  }
  result.weights = o.weights.empty() ? resolve_weights(o.dataset, o.results_dir, o.weights_dir)
                                     : o.weights;
  result.output_dir = o.output_dir.empty() ? o.results_dir / "images" : o.output_dir;
  spdlog::info("test: {} image(s) from '{}', input {}x{}, weights '{}'", images.size(),
               o.input.string(), o.height, o.width, result.weights.string());
  Predictor predictor(result.weights, o.device, o.precision);
  spdlog::info("device: {} ({})", predictor.device_name(), predictor.describe());

  util::Progress progress("test", static_cast<int64_t>(images.size()), o.progress && util::stderr_is_terminal());
  std::vector<Pending> batch;
  int64_t done = 0;
  auto fail = [&](const fs::path& p, const std::string& why) {
    spdlog::error("{}", why);
    result.failures.push_back(p.string() + ": " + why);
    ++result.failed;
  };
  auto flush = [&]() {
    if (batch.empty()) return;
    std::vector<cv::Mat> stimuli;
    for (const auto& b : batch) stimuli.push_back(b.stimulus);
    const auto f0 = std::chrono::steady_clock::now();
    const std::vector<cv::Mat> maps = predictor.predict(stimuli);
    result.forward_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - f0).count();
    for (size_t i = 0; i < batch.size(); ++i) {
      const Pending& p = batch[i];
      try {
        const cv::Mat restored = data::restore_map(maps[i], p.h, p.w);
        data::write_map(output_path(o.input, p.path, result.output_dir, data::map_file_extension(format)),
                        restored, format);
        if (o.overlay) {
          data::write_overlay(output_path(o.input, p.path, result.output_dir, "_overlay.jpeg"),
                              data::make_overlay(p.original, restored));
        }
        ++result.written;
      } catch (const Error& e) {
        if (e.code() == ErrorCode::kIo) throw;  // a full disk stops the run
        fail(p.path, e.what());
      }
    }
    batch.clear();
  };
  for (const fs::path& path : images) {
    if (util::interrupt_requested()) {
      throw Error(ErrorCode::kInterrupted, "interrupted after " + std::to_string(result.written) +
                                               " map(s); the maps written so far are complete");
    }
    try {
      Pending p;
      p.path = path;
      cv::Mat rgb = data::decode_image(path, 3);
      p.h = rgb.rows;
      p.w = rgb.cols;
      p.stimulus = data::preprocess_stimulus(rgb, o.height, o.width);
      if (o.overlay) p.original = rgb;
      batch.push_back(std::move(p));
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kIo) throw;
      fail(path, e.what());
    }
    if (static_cast<int>(batch.size()) >= o.batch_size) flush();
    progress.update(++done);
  }
  flush();
  progress.finish();
  result.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info("test: wrote {} map(s) to '{}' ({} failed) in {:.2f} s", result.written,
               result.output_dir.string(), result.failed, result.total_seconds);
  return result;
}

}  // namespace msinet::infer
