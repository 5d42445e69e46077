#include "msinet/train/train.h"

#include <ATen/Context.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>

#include "msinet/checkpoint/container.h"
#include "msinet/checkpoint/load.h"
#include "msinet/checkpoint/state.h"
#include "msinet/checkpoint/tf_names.h"
#include "msinet/data/image.h"
#include "msinet/data/splits.h"
#include "msinet/model/msinet.h"
#include "msinet/pipeline/pipeline.h"
#include "msinet/pipeline/predictor.h"
#include "msinet/pipeline/tensors.h"
#include "msinet/runtime/device.h"
#include "msinet/runtime/inference.h"
#include "msinet/train/loss.h"
#include "msinet/train/plot.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/util/process_lock.h"
#include "msinet/util/progress.h"
#include "msinet/util/signals.h"
#include "msinet/weights/published.h"
#include "msinet/weights/readers.h"

namespace msinet::train {

namespace fs = std::filesystem;

fs::path history_dir(const fs::path& results_dir, const std::string& name) {
  return results_dir / "history" / name;
}

namespace {

using checkpoint::Checkpoint;
using checkpoint::CheckpointMeta;
using Pairs = std::vector<data::FilePair>;

// Maps whose size differs from their stimulus's train without complaint (both are resized to
// the network size), but usually mean a broken dataset: counted as pairs are read, reported once.
struct MapSizeCheck {
  int64_t read = 0, mismatched = 0, transposed = 0;
  std::string first;
  bool reported = false;

  void see(const data::FilePair& pair, const cv::Mat& stimulus, const cv::Mat& map) {
    ++read;
    if (stimulus.size() == map.size()) return;
    ++mismatched;
    transposed += stimulus.rows == map.cols && stimulus.cols == map.rows ? 1 : 0;
    if (first.empty()) {
      first = "'" + pair.second.string() + "' is " + std::to_string(map.rows) + "x" +
              std::to_string(map.cols) + ", its stimulus '" + pair.first.string() + "' " +
              std::to_string(stimulus.rows) + "x" + std::to_string(stimulus.cols);
    }
  }

  void report(const std::string& dataset) {
    if (reported || mismatched == 0) return;
    reported = true;
    spdlog::warn(
        "dataset '{}': {} of the {} training pairs read have a map of another size than "
        "its stimulus ({} of them transposed), e.g. {}; check the dataset",
        dataset, mismatched, read, transposed, first);
  }
};

// One batch as tensors: stimuli [N,3,H,W] (RGB 0..255) and maps [N,1,H,W] (0..255), contiguous.
std::pair<torch::Tensor, torch::Tensor> load_batch(const Pairs& pairs,
                                                   const std::vector<size_t>& indices, int h, int w,
                                                   MapSizeCheck& sizes) {
  std::vector<cv::Mat> xs, ys;
  for (size_t i : indices) {
    const cv::Mat stimulus = data::decode_image(pairs[i].first, 3);
    const cv::Mat map = data::decode_image(pairs[i].second, 1);
    sizes.see(pairs[i], stimulus, map);
    xs.push_back(data::preprocess_stimulus(stimulus, h, w));
    ys.push_back(data::preprocess_map(map, h, w));
  }
  return {pipeline::images_to_batch(xs).contiguous(), pipeline::images_to_batch(ys).contiguous()};
}

// The validation loss: KLD of each map against its ground truth at the network size.
class ValidationLoss : public pipeline::Sink {
 public:
  ValidationLoss(const Pairs& pairs, int h, int w) : h_(h), w_(w) {
    for (const auto& [stimulus, map] : pairs) maps_[stimulus.string()] = map;
  }

  void consume(pipeline::Result&& r) override {
    const cv::Mat y = data::preprocess_map(data::decode_image(maps_.at(r.name), 1), h_, w_);
    const double v =
        kld_loss(pipeline::images_to_batch({y}), pipeline::images_to_batch({r.map})).item<double>();
    std::lock_guard<std::mutex> lock(mutex_);
    sum_ += v;
    ++count_;
  }

  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : NAN; }

 private:
  int h_, w_;
  std::map<std::string, fs::path> maps_;
  std::mutex mutex_;
  double sum_ = 0;
  int64_t count_ = 0;
};

// The training order of one epoch: a permutation seeded by (seed, epoch), so that a resumed
// epoch visits the same images in the same order.
std::vector<size_t> epoch_order(size_t n, uint64_t seed, int64_t epoch) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

std::string optimizer_bytes(torch::optim::Adam& opt) {
  torch::serialize::OutputArchive archive;
  opt.save(archive);
  std::ostringstream os;
  archive.save_to(os);
  return os.str();
}

void load_optimizer(torch::optim::Adam& opt, const std::string& bytes, const std::string& origin) {
  try {
    std::istringstream is(bytes);
    torch::serialize::InputArchive archive;
    archive.load_from(is);
    opt.load(archive);
  } catch (const c10::Error& e) {
    throw Error(
        ErrorCode::kWeights,
        "checkpoint '" + origin + "' has a damaged optimiser state; delete it to start over");
  }
}

void write_numbers(const fs::path& path, const std::vector<double>& values) {
  std::string text;
  char buf[64];
  for (double v : values) {
    std::snprintf(buf, sizeof buf, "%.10g\n", v);
    text += buf;
  }
  util::write_file_atomic(path, text);
}

void write_history(const fs::path& dir, const CheckpointMeta& meta) {
  write_numbers(dir / "train_loss.txt", meta.train_history);
  write_numbers(dir / "valid_loss.txt", meta.valid_history);
  if (meta.train_history.size() >= 2) {
    write_loss_curve(dir / "loss_curve.png", meta.train_history, meta.valid_history);
  }
}

// Initial weights of a fresh run.
void initialise(model::MSINet& net, const data::PreparedDataset& data, const TrainOptions& o) {
  std::string init = o.init;
  if (init == "auto") init = data.name == "salicon" ? "vgg16" : "salicon";
  if (init == "random") {
    spdlog::info("init: random (seed {})", o.seed);
  } else if (init == "vgg16") {
    const fs::path vgg = weights::ensure_vgg16_checkpoint(o.weights_dir, o.download);
    checkpoint::load_vgg16_weights(net, weights::read_weights(vgg), vgg.string());
    spdlog::info("init: VGG16 encoder from '{}'", vgg.string());
  } else if (init == "salicon") {
    const fs::path best = checkpoint::best_checkpoint_path(o.results_dir, "salicon");
    std::error_code ec;
    if (!fs::is_regular_file(best, ec)) {
      throw Error(ErrorCode::kWeights,
                  "fine-tuning on '" + data.name + "' starts from the best SALICON checkpoint '" +
                      best.string() +
                      "', which does not exist: run `msinet train -d salicon` "
                      "first, give --init FILE, or pass --init random to train from scratch");
    }
    checkpoint::load_weights_file(net, best);
    spdlog::info("init: best SALICON checkpoint '{}'", best.string());
  } else {
    checkpoint::load_weights_file(net, init);
    spdlog::info("init: '{}'", init);
  }
}

// Mean validation KLD through the inference pipeline (no gradients); NaN when interrupted.
double validate(const model::MSINet& net, const data::PreparedDataset& data, const TrainOptions& o,
                const torch::Device& device) {
  pipeline::Predictor predictor(std::make_unique<runtime::InferenceNet>(net, device));
  std::vector<std::string> stimuli;
  for (const auto& pair : data.split.valid) stimuli.push_back(pair.first.string());
  pipeline::ImageFiles source(std::move(stimuli));
  ValidationLoss loss(data.split.valid, data.height, data.width);
  pipeline::PipelineOptions po;
  po.height = data.height;
  po.width = data.width;
  po.batch_size = o.batch_size;
  po.workers = std::max(1, o.workers);
  po.restore = false;
  po.label = "valid";
  po.progress = o.progress;
  try {
    const pipeline::PipelineResult r = pipeline::run_pipeline(source, predictor, loss, po);
    if (!r.failures.empty()) {
      throw Error(ErrorCode::kInput, "validation of '" + data.name + "': " + r.failures[0].why);
    }
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kInterrupted) return NAN;
    throw;
  }
  return loss.mean();
}

}  // namespace

TrainResult run_train(const data::PreparedDataset& data, const TrainOptions& o) {
  if (data.split.train.empty())
    throw Error(ErrorCode::kInput, "dataset '" + data.name + "' has no training images");
  if (data.split.valid.empty())
    throw Error(ErrorCode::kInput, "dataset '" + data.name + "' has no validation images");
  if (o.batch_size < 1 || o.epochs < 1)
    throw Error(ErrorCode::kUsage, "epochs and batch size must be at least 1");
  const torch::Device device = runtime::resolve_device(o.device);
  TrainResult result;
  result.latest = checkpoint::latest_checkpoint_path(o.results_dir, data.name);
  result.best = checkpoint::best_checkpoint_path(o.results_dir, data.name);
  result.history_dir = history_dir(o.results_dir, data.name);
  // One run at a time on a dataset's results: two would overwrite each other's checkpoints.
  const util::ProcessLock lock(
      o.results_dir / ("." + data.name + ".train.lock"),
      "training '" + data.name + "' into '" + o.results_dir.string() + "'");
  for (const fs::path& dir :
       {result.latest.parent_path(), result.best.parent_path(), result.history_dir}) {
    for (const fs::path& p : util::remove_stale_temporaries(dir)) {
      spdlog::info("removed '{}', left by a run that was killed while writing it", p.string());
    }
  }
  // What a failed run leaves behind, for its message: only what exists.
  auto kept = [&result] {
    std::error_code ec;
    if (fs::is_regular_file(result.latest, ec)) {
      return "the last good state is kept in '" + result.latest.string() + "'";
    }
    return std::string(
        "no checkpoint was kept: none is written before the end of the first "
        "epoch (or an interruption)");
  };

  // Adam's second moments of tiny gradients become denormal floats, which x86 computes ~100x
  // slower; TensorFlow flushes them to zero on CPU too.
  at::globalContext().setFlushDenormal(true);
  torch::manual_seed(o.seed);
  model::MSINet net;
  CheckpointMeta meta;
  std::string resume_optimizer;
  std::error_code ec;
  if (fs::is_regular_file(result.latest, ec)) {
    Checkpoint ckpt = checkpoint::read_checkpoint(result.latest);
    if (ckpt.meta.height != data.height || ckpt.meta.width != data.width) {
      throw Error(ErrorCode::kUsage,
                  "'" + result.latest.string() + "' was trained at " +
                      std::to_string(ckpt.meta.height) + "x" + std::to_string(ckpt.meta.width) +
                      ", not " + std::to_string(data.height) + "x" + std::to_string(data.width) +
                      ": use the same --size, or another --results folder");
    }
    checkpoint::deserialize_state(net, ckpt.model, result.latest.string());
    meta = ckpt.meta;
    resume_optimizer = std::move(ckpt.optimizer);
    spdlog::info("resuming '{}' from '{}': {} epoch(s) done{}", data.name, result.latest.string(),
                 meta.epochs_done,
                 meta.step_in_epoch
                     ? ", " + std::to_string(meta.step_in_epoch) + " step(s) into the next"
                     : "");
    // The history of a run killed after saving latest but before its history files.
    if (meta.epochs_done > 0) write_history(result.history_dir, meta);
  } else {
    initialise(net, data, o);
    meta.dataset = data.name;
    meta.height = data.height;
    meta.width = data.width;
    meta.seed = o.seed;
  }
  net->to(device);
  net->train();
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(o.learning_rate));
  if (!resume_optimizer.empty())
    load_optimizer(optimizer, resume_optimizer, result.latest.string());
  data::Split audit;
  audit.valid = data.split.valid;
  data::write_validation_list(audit, result.history_dir / "valid_files.txt");

  auto save_latest = [&]() {
    net->to(torch::kCPU);
    checkpoint::write_checkpoint(result.latest, Checkpoint{checkpoint::serialize_state(net),
                                                           optimizer_bytes(optimizer), meta});
    net->to(device);
  };
  const size_t steps =
      (data.split.train.size() + o.batch_size - 1) / static_cast<size_t>(o.batch_size);
  spdlog::info(
      "train '{}': {} train / {} valid images, {}x{}, batch {}, lr {}, epochs {} (done {})",
      data.name, data.split.train.size(), data.split.valid.size(), data.height, data.width,
      o.batch_size, o.learning_rate, o.epochs, meta.epochs_done);
  MapSizeCheck map_sizes;
  while (meta.epochs_done < o.epochs) {
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t epoch = meta.epochs_done;
    const std::vector<size_t> order = epoch_order(data.split.train.size(), meta.seed, epoch);
    util::Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o.epochs),
                            static_cast<int64_t>(steps), o.progress && util::stderr_is_terminal());
    for (size_t step = static_cast<size_t>(meta.step_in_epoch); step < steps; ++step) {
      if (util::interrupt_requested()) {
        progress.finish();
        save_latest();
        throw Error(ErrorCode::kInterrupted, "interrupted in epoch " + std::to_string(epoch + 1) +
                                                 " after step " + std::to_string(step) +
                                                 "; saved '" + result.latest.string() +
                                                 "': run the same command again to resume");
      }
      std::vector<size_t> idx(
          order.begin() + static_cast<long>(step * o.batch_size),
          order.begin() + static_cast<long>(std::min(order.size(), (step + 1) * o.batch_size)));
      auto [x, y] = load_batch(data.split.train, idx, data.height, data.width, map_sizes);
      optimizer.zero_grad();
      const torch::Tensor loss = kld_loss(y.to(device), net->forward(x.to(device)));
      const double value = loss.item<double>();
      if (!std::isfinite(value)) {
        throw Error(ErrorCode::kDiverged, "training diverged: loss " + std::to_string(value) +
                                              " in epoch " + std::to_string(epoch + 1) + ", step " +
                                              std::to_string(step + 1) + "; " + kept() +
                                              "; try a lower --lr");
      }
      loss.backward();
      optimizer.step();
      meta.partial_train_sum += value;
      meta.step_in_epoch = static_cast<int64_t>(step + 1);
      char suffix[48];
      std::snprintf(suffix, sizeof suffix, "loss %.4f", meta.partial_train_sum / (step + 1));
      progress.update(static_cast<int64_t>(step + 1), suffix);
    }
    progress.finish();
    map_sizes.report(data.name);
    const double valid = validate(net, data, o, device);
    if (util::interrupt_requested()) {
      save_latest();
      throw Error(ErrorCode::kInterrupted, "interrupted during validation of epoch " +
                                               std::to_string(epoch + 1) + "; saved '" +
                                               result.latest.string() + "': run again to resume");
    }
    if (!std::isfinite(valid)) {
      throw Error(ErrorCode::kDiverged, "validation loss is not finite in epoch " +
                                            std::to_string(epoch + 1) + "; " + kept() +
                                            "; try a lower --lr");
    }
    const double train_loss = meta.partial_train_sum / static_cast<double>(steps);
    meta.train_history.push_back(train_loss);
    meta.valid_history.push_back(valid);
    meta.epochs_done = epoch + 1;
    meta.step_in_epoch = 0;
    meta.partial_train_sum = 0;
    const bool is_best = meta.best_valid < 0 || valid < meta.best_valid;
    if (is_best) meta.best_valid = valid;
    // best before latest: a run killed between the two redoes this epoch and writes best again,
    // where the other order would leave a latest that no longer sees this epoch as a new best.
    if (is_best) {
      net->to(torch::kCPU);
      checkpoint::write_checkpoint(result.best,
                                   Checkpoint{checkpoint::serialize_state(net), "", meta});
      net->to(device);
    }
    save_latest();
    write_history(result.history_dir, meta);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    spdlog::info("epoch {}/{}: train {:.5f}, valid {:.5f}{} ({})", epoch + 1, o.epochs, train_loss,
                 valid, is_best ? " (best)" : "", util::format_duration(secs));
  }
  result.epochs_done = meta.epochs_done;
  result.best_valid = meta.best_valid;
  return result;
}

}  // namespace msinet::train
