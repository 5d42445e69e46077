#include "msinet/infer/runtime.h"

#include <sched.h>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "msinet/model/checkpoint.h"
#include "msinet/model/tf_weights.h"
#include "msinet/train/checkpoint.h"
#include "msinet/util/error.h"
#include "msinet/weights/readers.h"

namespace msinet::infer {

torch::Device resolve_device(const std::string& name) {
  const bool cuda = torch::cuda::is_available();
  if (name == "cpu" || (name == "auto" && !cuda)) return torch::Device(torch::kCPU);
  if (name == "cuda" || name == "auto") {
    if (!cuda) {
      throw Error(ErrorCode::kUsage,
                  "--device cuda: no CUDA device is available (or this build of LibTorch has no "
                  "CUDA support); use --device cpu or auto");
    }
    return torch::Device(torch::kCUDA, 0);
  }
  throw Error(ErrorCode::kUsage, "unknown device '" + name + "': use auto, cpu or cuda");
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return 1;
}

int configure_threads(int requested) {
  const int n = requested > 0 ? requested : available_cores();
  torch::set_num_threads(n);
  return n;
}

void load_weights_file(model::MSINet& net, const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw Error(ErrorCode::kWeights, "weights '" + path.string() + "' do not exist");
  }
  if (std::filesystem::is_regular_file(path, ec) && train::looks_like_checkpoint(path)) {
    const train::Checkpoint ckpt = train::read_checkpoint(path);
    model::deserialize_state(net, ckpt.model, path.string());
    return;
  }
  const weights::NamedTensors tensors = weights::read_weights(path);
  model::load_tf_weights(net, tensors, path.string());
  spdlog::debug("loaded {} TensorFlow tensors from '{}'", tensors.size(), path.string());
}

}  // namespace msinet::infer
