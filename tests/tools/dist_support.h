#pragma once
// Helpers of the dist tests: free loopback ports and ranks as threads of one process.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <exception>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "msinet/dist/group.h"

namespace msinet::testing {

/// A TCP port of 127.0.0.1 that nothing holds now.
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// The configuration of `rank` in a loopback group of `world` at `port`.
inline dist::GroupConfig loopback_config(int rank, int world, int port, int timeout_s = 5) {
  dist::GroupConfig c;
  c.rank = rank;
  c.world_size = world;
  c.local_rank = rank;
  c.local_world_size = world;
  c.master_addr = "127.0.0.1";
  c.master_port = port;
  c.backend = "gloo";
  c.timeout = std::chrono::seconds(timeout_s);
  return c;
}

/// Runs `body(rank)` on `world` threads; returns what each threw (null when nothing).
inline std::vector<std::exception_ptr> run_threads(int world,
                                                   const std::function<void(int)>& body) {
  std::vector<std::exception_ptr> errors(static_cast<size_t>(world));
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      try {
        body(r);
      } catch (...) {
        errors[static_cast<size_t>(r)] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  return errors;
}

/// The message of a stored exception ("" when none).
inline std::string message_of(const std::exception_ptr& e) {
  if (!e) return "";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  }
  return "?";
}

}  // namespace msinet::testing
