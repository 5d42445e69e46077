#include "msinet/checkpoint/load.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "msinet/checkpoint/container.h"
#include "msinet/checkpoint/state.h"
#include "msinet/checkpoint/tf_names.h"
#include "msinet/util/error.h"
#include "msinet/weights/published.h"
#include "msinet/weights/readers.h"

namespace msinet::checkpoint {

namespace fs = std::filesystem;

fs::path latest_checkpoint_path(const fs::path& results_dir, const std::string& name) {
  return results_dir / "ckpts" / "latest" / (name + kCheckpointSuffix);
}

fs::path best_checkpoint_path(const fs::path& results_dir, const std::string& name) {
  return results_dir / "ckpts" / "best" / (name + kCheckpointSuffix);
}

void load_weights_file(model::MSINet& net, const fs::path& path) {
  std::error_code ec;
  // A TF checkpoint is named by its prefix, which is no file itself (prefix.index is).
  if (!fs::exists(path, ec) && !fs::is_regular_file(path.string() + ".index", ec)) {
    throw Error(ErrorCode::kWeights, "weights '" + path.string() + "' do not exist");
  }
  if (fs::is_regular_file(path, ec) && looks_like_checkpoint(path)) {
    const Checkpoint ckpt = read_checkpoint(path);
    deserialize_state(net, ckpt.model, path.string());
    spdlog::debug("weights '{}': an msinet checkpoint ({}{} epoch(s) trained)", path.string(),
                  ckpt.meta.dataset.empty() ? "" : "'" + ckpt.meta.dataset + "', ",
                  ckpt.meta.epochs_done);
    return;
  }
  const weights::NamedTensors tensors = weights::read_weights(path);
  if (has_parameter_names(tensors)) {
    load_parameter_weights(net, tensors, path.string());
  } else {
    load_tf_weights(net, tensors, path.string());
  }
  spdlog::debug("loaded {} tensors from '{}'", tensors.size(), path.string());
}

void import_weights(const fs::path& src, const fs::path& out) {
  model::MSINet net;
  load_weights_file(net, src);
  Checkpoint ckpt;
  ckpt.model = serialize_state(net);
  ckpt.meta.dataset = out.stem().string();
  write_checkpoint(out, ckpt);
}

fs::path ensure_published_weights(const std::string& dataset, const fs::path& weights_dir,
                                  const fetch::DownloadOptions& download) {
  const fs::path native = weights_dir / (dataset + kCheckpointSuffix);
  std::error_code ec;
  if (fs::is_regular_file(native, ec)) {
    spdlog::debug("weights for '{}': '{}' (imported: the published model, imported earlier)",
                  dataset, native.string());
    return native;
  }
  spdlog::info("no weights trained here for '{}': fetching the published model", dataset);
  const fs::path pb = weights::ensure_published_model(dataset, weights_dir, download);
  import_weights(pb, native);
  spdlog::info("imported '{}' into '{}'", pb.string(), native.string());
  spdlog::debug("weights for '{}': '{}' (downloaded: the published model '{}', imported now)",
                dataset, native.string(), pb.string());
  return native;
}

fs::path resolve_weights(const std::string& dataset, const fs::path& results_dir,
                         const fs::path& weights_dir, const fetch::DownloadOptions& download) {
  const fs::path best = best_checkpoint_path(results_dir, dataset);
  std::error_code ec;
  if (fs::is_regular_file(best, ec)) {
    spdlog::debug("weights for '{}': '{}' (checkpoint: the best one trained here)", dataset,
                  best.string());
    return best;
  }
  return ensure_published_weights(dataset, weights_dir, download);
}

}  // namespace msinet::checkpoint
