#include "msinet/infer/published.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "msinet/infer/runtime.h"
#include "msinet/model/checkpoint.h"
#include "msinet/model/msinet.h"
#include "msinet/train/checkpoint.h"
#include "msinet/util/error.h"
#include "msinet/weights/published.h"

namespace msinet::infer {

namespace fs = std::filesystem;

void import_weights(const fs::path& src, const fs::path& out) {
  model::MSINet net;
  load_weights_file(net, src);
  train::Checkpoint ckpt;
  ckpt.model = model::serialize_state(net);
  ckpt.meta.dataset = out.stem().string();
  train::write_checkpoint(out, ckpt);
}

fs::path ensure_published_weights(const std::string& dataset, const fs::path& weights_dir) {
  const fs::path native = weights_dir / (dataset + train::kCheckpointSuffix);
  std::error_code ec;
  if (fs::is_regular_file(native, ec)) return native;
  spdlog::info("no weights trained here for '{}': fetching the published model", dataset);
  const fs::path pb = weights::ensure_published_model(dataset, weights_dir);
  import_weights(pb, native);
  spdlog::info("imported '{}' into '{}'", pb.string(), native.string());
  return native;
}

}  // namespace msinet::infer
