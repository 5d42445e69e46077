#pragma once
// ONNX Runtime as the forward pass's peer: the network `msinet export` writes, run by
// onnxruntime-node (tests/node/run_model.js) at the sizes, batches and threads msinet ran.

#include <filesystem>
#include <string>
#include <vector>

#include "msinet/bench/bench.h"
#include "msinet/util/size.h"

namespace msinet::bench {

/// What ONNX Runtime measured.
struct OnnxRuntimeTimes {
  std::string version;
  std::vector<PeerForwardResult> rows;
};

/// Exports `weights` to ONNX (one fixed-size model per size, in `work_dir`) and times each size
/// and batch in ONNX Runtime by `node script` (`iters` runs after a warm-up; the median).
/// Throws Error(kInput) when node cannot be run and Error(kInternal) when the script fails.
OnnxRuntimeTimes time_onnxruntime(const std::filesystem::path& weights,
                                  const std::filesystem::path& script,
                                  const std::filesystem::path& work_dir,
                                  const std::vector<util::Size>& sizes,
                                  const std::vector<int>& batches, int threads, int iters);

}  // namespace msinet::bench
