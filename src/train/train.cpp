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
#include <optional>
#include <random>
#include <sstream>

#include "msinet/checkpoint/container.h"
#include "msinet/checkpoint/load.h"
#include "msinet/checkpoint/state.h"
#include "msinet/checkpoint/tf_names.h"
#include "msinet/data/image.h"
#include "msinet/data/splits.h"
#include "msinet/dist/gradient_sync.h"
#include "msinet/dist/group.h"
#include "msinet/model/msinet.h"
#include "msinet/pipeline/pipeline.h"
#include "msinet/pipeline/predictor.h"
#include "msinet/pipeline/tensors.h"
#include "msinet/runtime/device.h"
#include "msinet/runtime/inference.h"
#include "msinet/train/batch_loader.h"
#include "msinet/train/init.h"
#include "msinet/train/loss.h"
#include "msinet/train/mixed_precision.h"
#include "msinet/train/plot.h"
#include "msinet/train/shards.h"
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

// The device `name` resolves to; a CUDA rank of a group takes the GPU of its local rank.
torch::Device rank_device(const std::string& name, int local_rank) {
  const torch::Device device = runtime::resolve_device(name);
  if (!device.is_cuda()) return device;
  return {torch::kCUDA, static_cast<c10::DeviceIndex>(
                            local_rank % std::max<int64_t>(1, torch::cuda::device_count()))};
}

torch::Device rank_device(const std::string& name, const dist::Group* group) {
  return rank_device(name, group ? group->config().local_rank : 0);
}

}  // namespace

TrainResult run_train_rank(const dist::GroupConfig& config,
                           const std::function<data::PreparedDataset()>& load,
                           TrainOptions options) {
  const std::unique_ptr<dist::Group> group =
      dist::Group::join(config, rank_device(options.device, config.local_rank));
  spdlog::info("rank {} of {} joined ({}, rendezvous at {}:{})", group->rank(), group->size(),
               group->backend_name(), config.master_addr, config.master_port);
  if (config.local_rank != 0) group->barrier();
  const data::PreparedDataset data = load();
  if (config.local_rank == 0) group->barrier();
  options.group = group.get();
  return run_train(data, options);
}

namespace {

using checkpoint::Checkpoint;
using checkpoint::CheckpointMeta;
using Pairs = std::vector<data::FilePair>;

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

  double sum() const { return sum_; }
  int64_t count() const { return count_; }

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

// Initial weights of a fresh run, from the initialisation resolve_init() names.
void initialise(model::MSINet& net, const data::PreparedDataset& data, const TrainOptions& o) {
  const InitSource init = resolve_init(o.init, data.name, o.results_dir, o.weights_dir);
  if (init.kind == InitSource::Kind::kRandom) {
    spdlog::info("init: random (seed {})", o.seed);
  } else if (init.kind == InitSource::Kind::kVgg16) {
    const fs::path vgg = weights::ensure_vgg16_checkpoint(o.weights_dir, o.download);
    checkpoint::load_vgg16_weights(net, weights::read_weights(vgg), vgg.string());
    spdlog::info("init: VGG16 encoder from '{}'", vgg.string());
  } else {
    checkpoint::load_weights_file(net, init.file);
    spdlog::info("init: {}", init.describe());
  }
}

// This process's place in the run: alone, or one rank of a group.
struct Ranks {
  dist::Group* group = nullptr;
  int rank = 0;
  int size = 1;
  torch::Device device;  ///< where the group's collectives take their tensors
  bool root() const { return rank == 0; }

  Ranks(dist::Group* g, const torch::Device& d)
      : group(g),
        rank(g ? g->rank() : 0),
        size(g ? g->size() : 1),
        device(g && g->backend_name() == "nccl" ? d : torch::Device(torch::kCPU)) {}
  /// Sums `values` over the ranks (nothing to do alone).
  void sum(std::vector<double>& values) const {
    if (!group) return;
    std::vector<torch::Tensor> t = {torch::tensor(values, torch::kFloat64).to(device)};
    group->all_reduce_sum(t);
    t[0] = t[0].cpu();
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = t[0][static_cast<int64_t>(i)].item<double>();
  }
};

// Summed validation KLD over this rank's share of the validation images (every size-th one),
// through the inference pipeline (no gradients). Sets `interrupted` instead of throwing. One
// fixed plan rather than "auto": a plan chosen by timing could differ between two runs of the
// same training and change the last bits of its validation history.
std::pair<double, int64_t> validate(const model::MSINet& net, const data::PreparedDataset& data,
                                    const TrainOptions& o, const torch::Device& device,
                                    const Ranks& ranks, bool& interrupted) {
  runtime::InferenceOptions fixed;
  fixed.plan = "channels-last";
  pipeline::Predictor predictor(std::make_unique<runtime::InferenceNet>(net, device, fixed));
  std::vector<std::string> stimuli;
  Pairs share;
  for (size_t i = static_cast<size_t>(ranks.rank); i < data.split.valid.size();
       i += static_cast<size_t>(ranks.size)) {
    stimuli.push_back(data.split.valid[i].first.string());
    share.push_back(data.split.valid[i]);
  }
  ValidationLoss loss(share, data.height, data.width);
  if (stimuli.empty()) return {0.0, 0};
  pipeline::ImageFiles source(std::move(stimuli));
  pipeline::PipelineOptions po;
  po.height = data.height;
  po.width = data.width;
  po.batch_size = o.batch_size;
  po.workers = std::max(1, o.workers);
  po.restore = false;
  po.label = "valid";
  po.progress = o.progress && ranks.root();
  try {
    const pipeline::PipelineResult r = pipeline::run_pipeline(source, predictor, loss, po);
    if (!r.failures.empty()) {
      throw Error(ErrorCode::kInput, "validation of '" + data.name + "': " + r.failures[0].why);
    }
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInterrupted) throw;
    interrupted = true;
  }
  return {loss.sum(), loss.count()};
}

// The state a run starts from: the latest checkpoint when there is one, else fresh weights from
// the initialisation. Rank 0 makes it and every rank receives it, so that all start alike.
Checkpoint starting_state(const data::PreparedDataset& data, const TrainOptions& o,
                          const fs::path& latest, const Ranks& ranks) {
  Checkpoint start;
  if (ranks.root()) {
    std::error_code ec;
    if (fs::is_regular_file(latest, ec)) {
      start = checkpoint::read_checkpoint(latest);
      check_resume_size(start.meta, latest, data.height, data.width);
    } else {
      torch::manual_seed(o.seed);
      model::MSINet net;
      initialise(net, data, o);
      start.model = checkpoint::serialize_state(net);
      start.meta.dataset = data.name;
      start.meta.height = data.height;
      start.meta.width = data.width;
      start.meta.seed = o.seed;
    }
  }
  if (!ranks.group) return start;
  return checkpoint::decode_checkpoint(
      ranks.group->broadcast_bytes(ranks.root() ? checkpoint::encode_checkpoint(start) : ""),
      "the starting state sent by rank 0");
}

// Timing of the training phase of an epoch, for its log line.
struct EpochClock {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  double waiting = 0;  ///< seconds spent waiting for batches
  int64_t steps = 0;
  int64_t images = 0;  ///< over all ranks

  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

}  // namespace

TrainResult run_train(const data::PreparedDataset& data, const TrainOptions& o) {
  if (data.split.train.empty())
    throw Error(ErrorCode::kInput, "dataset '" + data.name + "' has no training images");
  if (data.split.valid.empty())
    throw Error(ErrorCode::kInput, "dataset '" + data.name + "' has no validation images");
  if (o.batch_size < 1 || o.epochs < 1 || o.accumulate < 1)
    throw Error(ErrorCode::kUsage, "epochs, batch size and --accumulate must be at least 1");
  if (o.loader_workers < 0)
    throw Error(ErrorCode::kUsage,
                "--loader-workers must be 0 or more, not " + std::to_string(o.loader_workers));
  const torch::Device device = rank_device(o.device, o.group);
  const MixedPrecision precision = parse_mixed_precision(o.mixed_precision);
  check_mixed_precision(precision, device);
  const Ranks ranks(o.group, device);
  TrainResult result;
  result.latest = checkpoint::latest_checkpoint_path(o.results_dir, data.name);
  result.best = checkpoint::best_checkpoint_path(o.results_dir, data.name);
  result.history_dir = history_dir(o.results_dir, data.name);
  // One run at a time on a dataset's results: two would overwrite each other's checkpoints.
  // Rank 0 alone writes them, so it alone holds the lock.
  std::optional<util::ProcessLock> lock;
  if (ranks.root()) {
    lock.emplace(o.results_dir / ("." + data.name + ".train.lock"),
                 "training '" + data.name + "' into '" + o.results_dir.string() + "'");
    for (const fs::path& dir :
         {result.latest.parent_path(), result.best.parent_path(), result.history_dir}) {
      for (const fs::path& p : util::remove_stale_temporaries(dir)) {
        spdlog::info("removed '{}', left by a run that was killed while writing it", p.string());
      }
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
  Checkpoint start = starting_state(data, o, result.latest, ranks);
  CheckpointMeta meta = std::move(start.meta);
  model::MSINet net;
  checkpoint::deserialize_state(net, start.model, result.latest.string());
  if (meta.epochs_done > 0 || meta.step_in_epoch > 0) {
    spdlog::info("resuming '{}' from '{}': {} epoch(s) done{}", data.name, result.latest.string(),
                 meta.epochs_done,
                 meta.step_in_epoch
                     ? ", " + std::to_string(meta.step_in_epoch) + " step(s) into the next"
                     : "");
    // The history of a run killed after saving latest but before its history files.
    if (ranks.root() && meta.epochs_done > 0) write_history(result.history_dir, meta);
  }
  if (meta.images_in_epoch < 0) {  // written by msinet 0.1: steps of one batch, mean per step
    meta.images_in_epoch = meta.step_in_epoch * o.batch_size;
    meta.partial_train_sum *= o.batch_size;
  }
  net->to(device);
  if (o.channels_last) {
    torch::NoGradGuard no_grad;
    for (torch::Tensor& p : net->parameters()) {
      if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
    }
  }
  net->train();
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(o.learning_rate));
  if (!start.optimizer.empty()) load_optimizer(optimizer, start.optimizer, result.latest.string());
  start = Checkpoint{};
  std::optional<dist::GradientSync> gradients;
  if (ranks.group) gradients.emplace(*ranks.group, net->parameters());
  LossScaler scaler(precision == MixedPrecision::kFloat16);
  if (ranks.root()) {
    data::Split audit;
    audit.valid = data.split.valid;
    data::write_validation_list(audit, result.history_dir / "valid_files.txt");
  }

  // Where the state of an interrupted run went, for its message.
  auto saved_where = [&] {
    if (ranks.root()) return "saved '" + result.latest.string() + "'";
    return std::string("rank 0 saved the group's state");
  };
  auto save_latest = [&]() {
    if (!ranks.root()) return;
    net->to(torch::kCPU);
    checkpoint::write_checkpoint(result.latest, Checkpoint{checkpoint::serialize_state(net),
                                                           optimizer_bytes(optimizer), meta});
    net->to(device);
  };
  const auto train_size = static_cast<int64_t>(data.split.train.size());
  spdlog::info(
      "train '{}': {} train / {} valid images, {}x{}, batch {}{}{}, lr {}, epochs {} (done {})",
      data.name, train_size, data.split.valid.size(), data.height, data.width, o.batch_size,
      ranks.size > 1 ? " x " + std::to_string(ranks.size) + " ranks" : "",
      o.accumulate > 1 ? " x " + std::to_string(o.accumulate) + " accumulated" : "",
      o.learning_rate, o.epochs, meta.epochs_done);
  spdlog::debug(
      "train: device {}, {} CPU thread(s), mixed precision {}, {} memory format, {} loader "
      "worker(s), weights and Adam in fp32",
      device.str(), torch::get_num_threads(), o.mixed_precision,
      o.channels_last ? "channels-last" : "NCHW", o.loader_workers);
  bool map_sizes_reported = false;
  int64_t steps_taken = 0;  // by this run, for the messages of a failing group
  // Whole epochs of this run (training and validation), for the ETA of the run.
  double whole_epoch_seconds = 0;
  int64_t whole_epochs = 0;
  while (meta.epochs_done < o.epochs) {
    EpochClock clock;
    const int64_t epoch = meta.epochs_done;
    const bool whole_epoch = meta.images_in_epoch == 0;
    const int64_t later_epochs = o.epochs - epoch - 1;
    const double later_seconds = whole_epochs > 0
                                     ? whole_epoch_seconds / static_cast<double>(whole_epochs) *
                                           static_cast<double>(later_epochs)
                                     : -1.0;
    const std::vector<size_t> order = epoch_order(data.split.train.size(), meta.seed, epoch);
    // This rank's micro-batches of the rest of the epoch, in the order the steps take them.
    std::vector<StepPlan> plans;
    std::vector<std::vector<size_t>> batches;
    for (auto p = static_cast<size_t>(meta.images_in_epoch); p < order.size();) {
      plans.push_back(
          plan_step(order.size(), p, o.batch_size, ranks.size, ranks.rank, o.accumulate));
      for (const auto& micro : plans.back().micro_batches) {
        if (micro.empty()) continue;
        batches.emplace_back();
        for (size_t position : micro) batches.back().push_back(order[position]);
      }
      p = plans.back().end;
    }
    BatchLoader loader(data.split.train, std::move(batches), data.height, data.width,
                       o.loader_workers, std::max(2, 2 * o.loader_workers));
    util::Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o.epochs),
                            train_size, o.progress && ranks.root());
    progress.resume_from(meta.images_in_epoch);
    progress.set_work_after(later_epochs * train_size, later_seconds);
    for (const StepPlan& plan : plans) {
      if (ranks.group) ranks.group->mark_progress(++steps_taken);
      const auto step_images = static_cast<double>(plan.end - plan.begin);
      optimizer.zero_grad();
      double loss_sum = 0;  // of this rank's images
      for (size_t k = 0; k < plan.micro_batches.size(); ++k) {
        const bool last = k + 1 == plan.micro_batches.size();
        if (last && gradients) gradients->arm();
        if (plan.micro_batches[k].empty()) continue;
        const auto wait0 = std::chrono::steady_clock::now();
        std::optional<Batch> batch = loader.next();
        clock.waiting +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - wait0).count();
        torch::Tensor x = batch->stimuli.to(device);
        if (o.channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
        torch::Tensor prediction;
        {
          const AutocastScope autocast(precision, device);
          prediction = net->forward(x);
        }
        // Each image weighs 1 / (the step's images), so that the gradients summed over the
        // micro-batches and ranks are those of the step's mean loss.
        const auto n = static_cast<double>(batch->indices.size());
        const torch::Tensor loss =
            kld_loss(batch->maps.to(device), prediction.to(torch::kFloat32)) * (n / step_images);
        scaler.scaled(loss).backward();
        loss_sum += loss.item<double>() * step_images;
      }
      if (gradients) gradients->finish();
      // The step's summed loss and whether any rank was interrupted, agreed by all ranks.
      std::vector<double> shared = {loss_sum, util::interrupt_requested() ? 1.0 : 0.0};
      ranks.sum(shared);
      const double step_loss = shared[0] / step_images;
      const int64_t step = meta.step_in_epoch;
      if (!std::isfinite(step_loss)) {
        throw Error(ErrorCode::kDiverged, "training diverged: loss " + std::to_string(step_loss) +
                                              " in epoch " + std::to_string(epoch + 1) + ", step " +
                                              std::to_string(step + 1) + "; " + kept() +
                                              "; try a lower --lr");
      }
      const bool finite = scaler.unscale(net->parameters());
      if (finite) optimizer.step();
      scaler.update(finite);
      meta.partial_train_sum += shared[0];
      meta.images_in_epoch = static_cast<int64_t>(plan.end);
      meta.step_in_epoch = step + 1;
      ++clock.steps;
      clock.images += static_cast<int64_t>(plan.end - plan.begin);
      char suffix[48];
      std::snprintf(suffix, sizeof suffix, "loss %.4f",
                    meta.partial_train_sum / static_cast<double>(meta.images_in_epoch));
      progress.update(meta.images_in_epoch, suffix);
      if (shared[1] > 0) {
        progress.finish();
        save_latest();
        throw Error(ErrorCode::kInterrupted,
                    "interrupted in epoch " + std::to_string(epoch + 1) + " after step " +
                        std::to_string(meta.step_in_epoch) + "; " + saved_where() +
                        ": run the same command again to resume");
      }
    }
    progress.finish();
    // Reported once a run, after its first epoch (every epoch reads the same pairs).
    if (!map_sizes_reported) loader.report_map_sizes(data.name);
    map_sizes_reported = true;
    const double train_seconds = clock.seconds();
    bool interrupted = false;
    auto [valid_sum, valid_count] = validate(net, data, o, device, ranks, interrupted);
    std::vector<double> shared = {valid_sum, static_cast<double>(valid_count),
                                  interrupted || util::interrupt_requested() ? 1.0 : 0.0};
    ranks.sum(shared);
    if (shared[2] > 0) {
      save_latest();
      throw Error(ErrorCode::kInterrupted, "interrupted during validation of epoch " +
                                               std::to_string(epoch + 1) + "; " + saved_where() +
                                               ": run again to resume");
    }
    const double valid = shared[0] / shared[1];
    if (!std::isfinite(valid)) {
      throw Error(ErrorCode::kDiverged, "validation loss is not finite in epoch " +
                                            std::to_string(epoch + 1) + "; " + kept() +
                                            "; try a lower --lr");
    }
    const double train_loss = meta.partial_train_sum / static_cast<double>(train_size);
    meta.train_history.push_back(train_loss);
    meta.valid_history.push_back(valid);
    meta.epochs_done = epoch + 1;
    meta.step_in_epoch = 0;
    meta.images_in_epoch = 0;
    meta.partial_train_sum = 0;
    const bool is_best = meta.best_valid < 0 || valid < meta.best_valid;
    if (is_best) meta.best_valid = valid;
    // best before latest: a run killed between the two redoes this epoch and writes best again,
    // where the other order would leave a latest that no longer sees this epoch as a new best.
    if (is_best && ranks.root()) {
      net->to(torch::kCPU);
      checkpoint::write_checkpoint(result.best,
                                   Checkpoint{checkpoint::serialize_state(net), "", meta});
      net->to(device);
    }
    save_latest();
    if (ranks.root()) write_history(result.history_dir, meta);
    const double rate = static_cast<double>(clock.images) / std::max(1e-9, train_seconds);
    const double step_ms =
        clock.steps ? 1e3 * (train_seconds - clock.waiting) / static_cast<double>(clock.steps)
                    : 0.0;
    const double epoch_seconds = clock.seconds();
    if (whole_epoch) {
      whole_epoch_seconds += epoch_seconds;
      ++whole_epochs;
    }
    std::string run_eta;
    if (later_epochs > 0) {
      // From the mean time of the whole epochs (a resumed partial one only when it is all).
      const double mean = whole_epochs > 0 ? whole_epoch_seconds / static_cast<double>(whole_epochs)
                                           : epoch_seconds;
      run_eta = ", run ETA " + util::format_duration(mean * static_cast<double>(later_epochs));
    }
    spdlog::info(
        "epoch {}/{}: train {:.5f}, valid {:.5f}{} ({}; {:.2f} images/s, step {:.1f} ms{})",
        epoch + 1, o.epochs, train_loss, valid, is_best ? " (best)" : "",
        util::format_duration(epoch_seconds), rate, step_ms, run_eta);
  }
  result.epochs_done = meta.epochs_done;
  result.best_valid = meta.best_valid;
  return result;
}

}  // namespace msinet::train
