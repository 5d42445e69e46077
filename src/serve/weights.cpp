// The one file of area serve that includes LibTorch (through checkpoint/load.h).
#include "msinet/checkpoint/load.h"
#include "msinet/serve/server.h"

namespace msinet::serve {

std::filesystem::path weights_to_load(const ServeOptions& o) {
  if (!o.weights.empty()) return o.weights;
  return checkpoint::resolve_weights(o.dataset, o.results_dir, o.weights_dir, o.download);
}

}  // namespace msinet::serve
