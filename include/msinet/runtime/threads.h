#pragma once
// CPU thread settings, without LibTorch in the header.

namespace msinet::runtime {

/// CPU cores this process may run on (sched_getaffinity), at least 1.
int available_cores();

/// Sets LibTorch's intra-op threads: `requested`, or available_cores() when 0. Returns it.
int configure_threads(int requested);

}  // namespace msinet::runtime
