#pragma once
// Where a process stands in a distributed run, read from the environment as torchrun, Slurm
// wrappers and `--nproc` set it, and what this build can do; without LibTorch.

#include <chrono>
#include <optional>
#include <string>

namespace msinet::dist {

/// Where this process stands in a run, as torchrun, Slurm wrappers and `--nproc` describe it.
struct GroupConfig {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr;            ///< host of rank 0, which serves the TCPStore
  int master_port = 29500;            ///< its TCP port
  std::string backend = "auto";       ///< auto | gloo | nccl
  std::chrono::seconds timeout{300};  ///< a rendezvous or collective waiting longer fails
};

/// The run described by RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and
/// MASTER_PORT; nullopt when WORLD_SIZE is not set. Throws Error(kUsage) naming the variable
/// when one is missing, not a number, or out of range (e.g. RANK >= WORLD_SIZE).
std::optional<GroupConfig> config_from_environment();

/// Whether this build has distributed training (c10d with Gloo).
bool available();

/// Whether this build can use the NCCL backend.
bool nccl_available();

/// Why this build cannot train distributed (for its error messages); empty when it can.
std::string unavailable_reason();

}  // namespace msinet::dist
