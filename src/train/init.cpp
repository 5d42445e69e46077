#include "msinet/train/init.h"

#include "msinet/checkpoint/load.h"
#include "msinet/runtime/device.h"
#include "msinet/util/error.h"

namespace msinet::train {

namespace fs = std::filesystem;

std::string InitSource::describe() const {
  switch (kind) {
    case Kind::kRandom:
      return "random";
    case Kind::kVgg16:
      return "VGG16 encoder from '" + file.string() + "'" +
             (needs_download ? " (downloaded first: not in the weights folder yet)" : "");
    case Kind::kSalicon:
      return "best SALICON checkpoint '" + file.string() + "'";
    case Kind::kFile:
      return "'" + file.string() + "'";
  }
  return "?";
}

InitSource resolve_init(const std::string& init, const std::string& dataset,
                        const fs::path& results_dir, const fs::path& weights_dir) {
  const std::string name = init == "auto" ? (dataset == "salicon" ? "vgg16" : "salicon") : init;
  InitSource s;
  std::error_code ec;
  if (name == "random") {
    s.kind = InitSource::Kind::kRandom;
  } else if (name == "vgg16") {
    s.kind = InitSource::Kind::kVgg16;
    // The files weights::ensure_vgg16_checkpoint unzips (checkpoint V2: .index + one data file).
    s.file = weights_dir / "vgg16_hybrid.ckpt";
    s.needs_download =
        !fs::is_regular_file(weights_dir / "vgg16_hybrid.ckpt.index", ec) ||
        !fs::is_regular_file(weights_dir / "vgg16_hybrid.ckpt.data-00000-of-00001", ec);
  } else if (name == "salicon") {
    s.kind = InitSource::Kind::kSalicon;
    s.file = checkpoint::best_checkpoint_path(results_dir, "salicon");
    if (!fs::is_regular_file(s.file, ec)) {
      throw Error(ErrorCode::kWeights,
                  "fine-tuning on '" + dataset + "' starts from the best SALICON checkpoint '" +
                      s.file.string() +
                      "', which does not exist: run `msinet train -d salicon` "
                      "first, give --init FILE, or pass --init random to train from scratch");
    }
  } else {
    s.kind = InitSource::Kind::kFile;
    s.file = name;
    if (!fs::exists(s.file, ec)) {
      throw Error(ErrorCode::kWeights,
                  "--init '" + name +
                      "' does not exist: give auto, random, vgg16, salicon, an msinet checkpoint "
                      "or TensorFlow weights (a .pb, a SavedModel folder, a model.json, ...)");
    }
  }
  return s;
}

void check_resume_size(const checkpoint::CheckpointMeta& meta, const fs::path& latest, int height,
                       int width) {
  if (meta.height == height && meta.width == width) return;
  throw Error(ErrorCode::kUsage,
              "'" + latest.string() + "' was trained at " + std::to_string(meta.height) + "x" +
                  std::to_string(meta.width) + ", not " + std::to_string(height) + "x" +
                  std::to_string(width) + ": use the same --size, or another --results-dir folder");
}

StartPlan plan_start(const TrainOptions& options, const std::string& dataset, int height,
                     int width) {
  StartPlan plan;
  plan.latest = checkpoint::latest_checkpoint_path(options.results_dir, dataset);
  plan.best = checkpoint::best_checkpoint_path(options.results_dir, dataset);
  std::error_code ec;
  if (fs::is_regular_file(plan.latest, ec)) {
    plan.resumed = checkpoint::read_checkpoint_meta(plan.latest);
    check_resume_size(*plan.resumed, plan.latest, height, width);
  } else {
    plan.init = resolve_init(options.init, dataset, options.results_dir, options.weights_dir);
  }
  plan.device = runtime::resolve_device(options.device).str();
  return plan;
}

}  // namespace msinet::train
