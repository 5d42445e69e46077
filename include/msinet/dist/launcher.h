#pragma once
// `msinet train --nproc N`: starts N ranks of this executable on this machine, as torchrun does,
// and supervises them.

#include <chrono>
#include <string>
#include <vector>

namespace msinet::dist {

/// The ranks to start on this node.
struct LaunchOptions {
  int nproc = 1;                          ///< ranks on this node
  int nnodes = 1;                         ///< nodes in the run
  int node_rank = 0;                      ///< this node's index
  std::string master_addr = "127.0.0.1";  ///< host of global rank 0
  int master_port = 0;                    ///< 0: a free port (single node only)
  std::vector<std::string> args;          ///< each rank's arguments after the program name
  int threads_per_rank = 0;               ///< MSINET_THREADS of each rank; 0: cores / nproc
  std::chrono::seconds grace{30};         ///< after a rank fails, the others' time to stop
  std::string program;                    ///< the ranks' executable; empty: this one
};

/// Starts the ranks (fork and exec of /proc/self/exe, no shell), each with RANK, WORLD_SIZE,
/// LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set, and waits for them. SIGINT and
/// SIGTERM are passed on to every rank. When a rank fails, the launcher logs which one and how,
/// stops the others (SIGTERM, then SIGKILL after `grace`) and returns that rank's exit code
/// (kDistributed when it was killed by a signal); 130 when interrupted; 0 when all succeeded.
int launch_ranks(const LaunchOptions& options);

}  // namespace msinet::dist
