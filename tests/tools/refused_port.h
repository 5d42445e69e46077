#pragma once
// A loopback TCP port that refuses every connection, for downloads that must fail at once.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

namespace msinet::testing {

/// A socket bound to a port of 127.0.0.1 but not listening, held until destruction: nothing
/// else can take the port, and connecting to it is refused.
class RefusedPort {
 public:
  RefusedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    base_ = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  }
  ~RefusedPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  RefusedPort(const RefusedPort&) = delete;
  RefusedPort& operator=(const RefusedPort&) = delete;

  /// "http://127.0.0.1:PORT".
  const std::string& base() const { return base_; }

 private:
  int fd_ = -1;
  std::string base_;
};

}  // namespace msinet::testing
