#pragma once
// A process group of training ranks over torch.distributed (c10d): a TCPStore rendezvous and the
// Gloo backend (CPU, and CUDA tensors) or NCCL (CUDA, where the LibTorch in use has it). Every
// failure is an Error(kDistributed) that names the rank it concerns; c10d stays out of headers.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "msinet/dist/group_config.h"

namespace msinet::dist {

/// A collective in flight.
class Pending {
 public:
  virtual ~Pending() = default;
  /// Blocks until it is done; throws Error(kDistributed) when it failed or timed out.
  virtual void wait() = 0;
};

/// This process's membership of the group.
class Group {
 public:
  /// Joins the group: rank 0 serves the TCPStore at master_addr:master_port and every rank waits
  /// for all the others (up to the timeout). Throws Error(kDistributed) naming the address when
  /// the port is taken or a rank does not arrive, Error(kUsage) for a backend this build or
  /// `device` cannot use. A group of one (world_size 1) opens no port and needs no master_addr;
  /// its collectives return at once.
  static std::unique_ptr<Group> join(const GroupConfig& config, const torch::Device& device);
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  int rank() const;
  int size() const;
  bool is_root() const { return rank() == 0; }
  const GroupConfig& config() const;
  /// "gloo" or "nccl".
  std::string backend_name() const;

  /// Sums each tensor over the ranks, in place (every rank passes the same shapes, in order).
  void all_reduce_sum(std::vector<torch::Tensor>& tensors);
  /// Starts summing `tensor` over the ranks in place; wait() on the result before reading it.
  std::unique_ptr<Pending> all_reduce_sum_async(torch::Tensor& tensor);
  /// Rank 0's `bytes` on every rank (the other ranks' argument is ignored).
  std::string broadcast_bytes(const std::string& bytes);
  /// Returns once every rank has called it.
  void barrier();
  /// The step this rank is at, for messages. Every collective it starts is counted in the
  /// store, so that a failure can name the ranks that never came to it and the step they are at.
  void mark_progress(int64_t step);

 private:
  struct State;
  explicit Group(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace msinet::dist
