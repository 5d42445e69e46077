#include "msinet/cli/dry_run.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>

#include "msinet/cli/datasets.h"
#include "msinet/data/recipes.h"
#include "msinet/data/splits.h"
#include "msinet/fetch/url.h"
#include "msinet/weights/published.h"

namespace msinet::cli {

namespace fs = std::filesystem;

namespace {

std::string in_quotes(const fs::path& p) { return "'" + p.string() + "'"; }

std::string size_text(uint64_t bytes) {
  if (bytes == 0) return "size not known in advance";
  return fmt::format("{} bytes, {:.1f} MiB", bytes, static_cast<double>(bytes) / (1 << 20));
}

// Files in `dir` and below (0 when it does not exist).
int64_t count_files(const fs::path& dir) {
  std::error_code ec;
  int64_t n = 0;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) ++n;
  }
  return n;
}

void print_header(std::ostream& out, const std::string& command) {
  out << "dry run of `msinet " << command << "`: nothing is downloaded or written\n";
}

// The download and preparation lines of a built-in dataset that is not prepared yet.
void print_preparation(std::ostream& out, const data::PreparationPlan& plan,
                       const std::string& name, bool keep_archives) {
  for (const data::PlannedDownload& d : plan.archives) {
    std::string state;
    if (d.present) {
      state = "; already downloaded, reused when its checksum matches";
    } else if (d.partial_bytes > 0) {
      state = fmt::format("; resumes '{}.part' at {} bytes", d.file.string(), d.partial_bytes);
    }
    out << "download: " << d.key << " " << d.url << " (" << size_text(d.bytes) << state << ") -> "
        << in_quotes(d.file) << "\n";
  }
  const data::DatasetInfo& info = data::builtin_dataset(name);
  out << "prepare: " << name << " unpacked and converted into "
      << in_quotes(plan.target.string() + "/{stimuli,saliency,fixations}")
      << fmt::format(" (published: {} images, split {} train / {} valid)\n", info.total,
                     info.n_train, info.n_valid);
  out << "archives: "
      << (keep_archives ? "kept in " + in_quotes(plan.downloads)
                        : "removed once prepared (--keep-archives keeps them in " +
                              in_quotes(plan.downloads) + ")")
      << "\n";
}

}  // namespace

void print_download_plan(std::ostream& out, const std::string& name, const fs::path& root,
                         bool keep_archives, const config::Config& cfg) {
  const data::PreparationPlan plan = data::plan_preparation(name, root, prepare_options(cfg));
  print_header(out, "download");
  if (plan.ready) {
    out << "dataset: " << name << " in " << in_quotes(plan.target)
        << " (present: nothing to download or prepare)\n";
    out << fmt::format("images: {} in stimuli/, {} in saliency/, {} in fixations/\n",
                       count_files(plan.target / "stimuli"), count_files(plan.target / "saliency"),
                       count_files(plan.target / "fixations"));
    return;
  }
  out << "dataset: " << name << " into " << in_quotes(plan.target)
      << " (missing: downloaded and prepared)\n";
  print_preparation(out, plan, name, keep_archives);
}

void print_train_plan(std::ostream& out, const TrainRun& run, const config::Config& cfg) {
  const data::DatasetSpec& spec = run.spec;
  const train::TrainOptions& o = run.options;
  print_header(out, "train");
  std::optional<data::Split> split;
  if (spec.builtin) {
    const fs::path dir = dataset_folder(spec, run.path, cfg);
    if (data::dataset_ready(dir)) {
      out << "dataset: " << spec.name << " (built-in) in " << in_quotes(dir) << "\n";
      split = data::make_split(spec, dir);
    } else {
      const fs::path root = data_root(run.path, cfg);
      out << "dataset: " << spec.name << " (built-in) into " << in_quotes(root / spec.name)
          << " (missing: downloaded and prepared first)\n";
      print_preparation(out, data::plan_preparation(spec.name, root, prepare_options(cfg)),
                        spec.name, /*keep_archives=*/false);
    }
  } else {
    out << "dataset: " << spec.name << " (dataset file " << in_quotes(spec.source) << "): stimuli "
        << in_quotes(spec.stimuli_dir) << ", maps " << in_quotes(spec.saliency_dir) << "\n";
    split = data::make_split(spec, {});
  }
  int64_t n_train = 0;
  if (split) {
    n_train = static_cast<int64_t>(split->train.size());
    out << fmt::format("images: {} train / {} valid ({} pairs)\n", n_train, split->valid.size(),
                       split->train.size() + split->valid.size());
    for (const std::string& w : split->warnings) out << "note: " << w << "\n";
  } else {
    const data::DatasetInfo& info = data::builtin_dataset(spec.name);
    n_train = info.n_train;
    out << fmt::format("images: {} train / {} valid (the published split; counted once prepared)\n",
                       info.n_train, info.n_valid);
  }
  out << fmt::format(
      "train: {}x{}, {} epoch(s), batch size {}, lr {}, accumulate {}, seed {}, {} rank(s)\n",
      spec.height, spec.width, o.epochs, o.batch_size, o.learning_rate, o.accumulate, o.seed,
      run.ranks);
  const int64_t per_step = int64_t{o.batch_size} * run.ranks * o.accumulate;
  if (per_step > 0 && n_train > 0) {
    out << fmt::format("steps: {} per epoch ({} train images, {} per step{})\n",
                       (n_train + per_step - 1) / per_step, n_train, per_step,
                       n_train % per_step ? ", the last one shorter" : "");
  }
  out << fmt::format("device: {}, {} thread(s){}\n", run.start.device, run.threads,
                     run.ranks > 1 ? " per rank" : "");
  const train::StartPlan& start = run.start;
  if (start.resumed) {
    const checkpoint::CheckpointMeta& m = *start.resumed;
    out << "init: not used (resuming)\n";
    if (m.epochs_done >= o.epochs) {
      out << fmt::format(
          "resume: from {}: {} of {} epoch(s) done, nothing left to train (raise --epochs to "
          "train further)\n",
          in_quotes(start.latest), m.epochs_done, o.epochs);
    } else {
      out << fmt::format(
          "resume: from {}: {} epoch(s) done, continues in epoch {} of {}{}\n",
          in_quotes(start.latest), m.epochs_done, m.epochs_done + 1, o.epochs,
          m.step_in_epoch > 0 ? fmt::format(" after its step {}", m.step_in_epoch) : std::string());
    }
  } else {
    out << "init: " << start.init.describe() << "\n";
    if (start.init.kind == train::InitSource::Kind::kVgg16 && start.init.needs_download) {
      const std::string url =
          fetch::resolve_url(fetch::Source{"", weights::kVgg16HybridGdriveId}, o.download.mirror);
      out << "download: vgg16_hybrid " << url << " (size not known in advance) -> "
          << in_quotes(o.weights_dir) << "\n";
    }
    out << "resume: none (" << in_quotes(start.latest) << " does not exist): starts at epoch 1 of "
        << o.epochs << "\n";
  }
  const std::string& name = spec.name;
  out << "writes: " << in_quotes(start.latest) << " (every epoch), " << in_quotes(start.best)
      << " (at a new best validation loss), "
      << in_quotes(train::history_dir(o.results_dir, name).string() + "/")
      << " (train_loss.txt, valid_loss.txt, loss_curve.png, valid_files.txt), lock "
      << in_quotes(o.results_dir / ("." + name + ".train.lock")) << "\n";
}

}  // namespace msinet::cli
