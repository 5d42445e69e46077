#pragma once
// Data-parallel gradients: each parameter's gradient is summed over the ranks as the backward
// pass produces it (autograd hooks), packed in buckets that are all-reduced asynchronously while
// the backward pass goes on, as PyTorch's DistributedDataParallel does.

#include <cstddef>
#include <memory>
#include <vector>

#include <torch/types.h>

#include "msinet/dist/group.h"

namespace msinet::dist {

/// Sums the gradients of `parameters` over the group; registered on construction, removed on
/// destruction. Buckets of about `bucket_bytes` fill in the reverse order of `parameters` (the
/// order in which backward produces them).
class GradientSync {
 public:
  GradientSync(Group& group, std::vector<torch::Tensor> parameters,
               size_t bucket_bytes = size_t{25} << 20);
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  /// Arms the next backward pass (one): the gradients it leaves (what it adds to those
  /// accumulated before) are summed over the ranks. A backward pass that is not armed only
  /// accumulates.
  void arm();
  /// Waits for the sums of the armed pass and writes them into every parameter's grad (a
  /// parameter the pass left without gradient takes part with its grad, or zeros, so every
  /// grad is defined after it). Throws Error(kDistributed) when a sum failed.
  void finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace msinet::dist
