// The process group in process: ranks as threads on loopback ports; its errors; the
// configuration from the environment.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "msinet/dist/group.h"
#include "msinet/util/error.h"
#include "test_support.h"
#include "tools/dist_support.h"

namespace msinet::testing {
namespace {

using dist::Group;
using Clock = std::chrono::steady_clock;

/// Sets environment variables for one test and restores the previous values after it.
class EnvGuard {
 public:
  EnvGuard() {
    for (const char* name : kNames) {
      const char* v = std::getenv(name);
      if (v != nullptr) saved_[name] = v;
      ::unsetenv(name);
    }
  }
  ~EnvGuard() {
    for (const char* name : kNames) {
      ::unsetenv(name);
      if (auto it = saved_.find(name); it != saved_.end()) ::setenv(name, it->second.c_str(), 1);
    }
  }
  void set(const char* name, const char* value) { ::setenv(name, value, 1); }

 private:
  static constexpr const char* kNames[] = {
      "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"};
  std::map<std::string, std::string> saved_;
};

TEST(DistConfig, ReadsTorchrunVariables) {
  {
    EnvGuard env;
    env.set("RANK", "1");
    EXPECT_FALSE(dist::config_from_environment().has_value()) << "no WORLD_SIZE, no run";
  }
  {
    EnvGuard env;
    env.set("WORLD_SIZE", "4");
    env.set("RANK", "3");
    env.set("LOCAL_RANK", "1");
    env.set("LOCAL_WORLD_SIZE", "2");
    env.set("MASTER_ADDR", "node0");
    env.set("MASTER_PORT", "29611");
    const auto c = dist::config_from_environment();
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->rank, 3);
    EXPECT_EQ(c->world_size, 4);
    EXPECT_EQ(c->local_rank, 1);
    EXPECT_EQ(c->local_world_size, 2);
    EXPECT_EQ(c->master_addr, "node0");
    EXPECT_EQ(c->master_port, 29611);
    EXPECT_EQ(c->backend, "auto");
  }
  {
    EnvGuard env;
    env.set("WORLD_SIZE", "2");
    env.set("RANK", "1");
    env.set("MASTER_ADDR", "127.0.0.1");
    const auto c = dist::config_from_environment();
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->local_rank, 1) << "LOCAL_RANK defaults to RANK";
    EXPECT_EQ(c->local_world_size, 2) << "LOCAL_WORLD_SIZE defaults to WORLD_SIZE";
    EXPECT_EQ(c->master_port, 29500);
  }
}

TEST(DistConfig, ErrorsNameTheVariableAndItsValue) {
  struct Case {
    std::vector<std::pair<const char*, const char*>> set;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{{"RANK", "0"}},
       "MASTER_ADDR is not set while WORLD_SIZE=2 is: set it to the host of rank 0"},
      {{{"RANK", "3"}, {"MASTER_ADDR", "127.0.0.1"}}, "RANK=3 is not below WORLD_SIZE=2"},
      {{{"MASTER_ADDR", "127.0.0.1"}}, "RANK is not set while WORLD_SIZE=2 is"},
      {{{"WORLD_SIZE", "two"}}, "WORLD_SIZE='two' is not a whole number"},
      {{{"RANK", "1x"}, {"MASTER_ADDR", "h"}}, "RANK='1x' is not a whole number"},
      {{{"RANK", "1"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "http"}},
       "MASTER_PORT='http' is not a whole number"},
      {{{"RANK", "1"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}},
       "MASTER_PORT=70000 is out of range (1..65535)"},
      {{{"RANK", "1"}, {"MASTER_ADDR", "h"}, {"LOCAL_RANK", ""}},
       "LOCAL_RANK='' is not a whole number"},
  };
  for (const auto& c : cases) {
    EnvGuard env;
    env.set("WORLD_SIZE", "2");
    for (const auto& [name, value] : c.set) env.set(name, value);
    const Error e = thrown_error([] { dist::config_from_environment(); });
    EXPECT_EQ(e.code(), ErrorCode::kUsage) << c.expected;
    EXPECT_NE(std::string(e.what()).find(c.expected), std::string::npos) << e.what();
  }
}

class DistGroup : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!dist::available()) GTEST_SKIP() << "this build has no distributed training";
  }
};

TEST(DistUnavailable, JoinSaysWhatIsMissing) {
  if (dist::available()) GTEST_SKIP() << "this build has distributed training";
  const Error e = thrown_error([] { Group::join(dist::GroupConfig{}, torch::kCPU); });
  EXPECT_EQ(e.code(), ErrorCode::kUsage);
  EXPECT_NE(std::string(e.what()).find("no distributed training"), std::string::npos);
}

TEST_F(DistGroup, TwoRanksAllReduceBroadcastAndBarrier) {
  const int port = free_loopback_port();
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + 3);
  std::vector<std::vector<torch::Tensor>> sums(2);
  std::vector<std::vector<std::string>> received(2);
  const auto errors = run_threads(2, [&](int r) {
    auto group = Group::join(loopback_config(r, 2, port), torch::kCPU);
    EXPECT_EQ(group->rank(), r);
    EXPECT_EQ(group->size(), 2);
    EXPECT_EQ(group->backend_name(), "gloo");
    std::vector<torch::Tensor> t{torch::full({4}, r + 1.0),
                                 torch::arange(6, torch::kFloat64).view({2, 3}).t() * (r + 1)};
    group->all_reduce_sum(t);
    sums[r] = t;
    for (const std::string& s : {std::string("hello"), std::string(), big}) {
      received[r].push_back(group->broadcast_bytes(r == 0 ? s : std::string("ignored")));
    }
    group->mark_progress(1);
    group->barrier();
  });
  for (int r = 0; r < 2; ++r) {
    ASSERT_FALSE(errors[r]) << message_of(errors[r]);
    EXPECT_TRUE(torch::equal(sums[r][0], torch::full({4}, 3.0)));
    EXPECT_TRUE(torch::equal(sums[r][1], torch::arange(6, torch::kFloat64).view({2, 3}).t() * 3));
    ASSERT_EQ(received[r].size(), 3u);
    EXPECT_EQ(received[r][0], "hello");
    EXPECT_EQ(received[r][1], "");
    EXPECT_EQ(received[r][2], big);
  }
}

TEST_F(DistGroup, GroupOfOneNeedsNoAddress) {
  dist::GroupConfig c;
  c.backend = "auto";
  auto group = Group::join(c, torch::kCPU);
  EXPECT_EQ(group->backend_name(), "gloo");
  std::vector<torch::Tensor> t{torch::ones({3})};
  group->all_reduce_sum(t);
  EXPECT_TRUE(torch::equal(t[0], torch::ones({3})));
  EXPECT_EQ(group->broadcast_bytes("abc"), "abc");
  group->mark_progress(7);
  group->barrier();
}

TEST_F(DistGroup, NcclWithoutItIsAUsageError) {
  if (dist::nccl_available()) GTEST_SKIP() << "this build has NCCL";
  dist::GroupConfig c;
  c.backend = "nccl";
  const Error e = thrown_error([&] { Group::join(c, torch::kCPU); });
  EXPECT_EQ(e.code(), ErrorCode::kUsage);
  EXPECT_NE(std::string(e.what()).find("this build has no NCCL"), std::string::npos) << e.what();
}

TEST_F(DistGroup, PortTakenNamesTheAddress) {
  const int port = free_loopback_port();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  const Error e = thrown_error([&] { Group::join(loopback_config(0, 2, port), torch::kCPU); });
  ::close(fd);
  EXPECT_EQ(e.code(), ErrorCode::kDistributed);
  const std::string where = "127.0.0.1:" + std::to_string(port);
  EXPECT_NE(std::string(e.what()).find("cannot serve the rendezvous on " + where),
            std::string::npos)
      << e.what();
  EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
}

TEST_F(DistGroup, MissingRankFailsWithinTheTimeoutNamingTheCount) {
  const int port = free_loopback_port();
  const auto start = Clock::now();
  const Error e =
      thrown_error([&] { Group::join(loopback_config(0, 2, port, /*timeout_s=*/2), torch::kCPU); });
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(e.code(), ErrorCode::kDistributed);
  EXPECT_NE(std::string(e.what()).find("rank 0 waited 2 s for 1 of 2 ranks to join at 127.0.0.1:" +
                                       std::to_string(port)),
            std::string::npos)
      << e.what();
  EXPECT_GE(seconds, 1.9);
  EXPECT_LT(seconds, 5.0);
}

TEST_F(DistGroup, UnreachableMasterNamesTheAddress) {
  const int port = free_loopback_port();
  const auto start = Clock::now();
  const Error e =
      thrown_error([&] { Group::join(loopback_config(1, 2, port, /*timeout_s=*/2), torch::kCPU); });
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(e.code(), ErrorCode::kDistributed);
  EXPECT_NE(std::string(e.what()).find("rank 1 cannot reach the rendezvous at 127.0.0.1:" +
                                       std::to_string(port)),
            std::string::npos)
      << e.what();
  EXPECT_LT(seconds, 6.0);
}

TEST_F(DistGroup, WorldSizeMismatchNamesBoth) {
  const int port = free_loopback_port();
  const auto errors = run_threads(2, [&](int r) {
    Group::join(loopback_config(r, r == 0 ? 2 : 3, port, /*timeout_s=*/5), torch::kCPU);
  });
  const std::string expected = "WORLD_SIZE=3 on rank 1 but WORLD_SIZE=2 on rank 0";
  for (int r = 0; r < 2; ++r) {
    ASSERT_TRUE(errors[r]) << "rank " << r << " joined";
    EXPECT_NE(message_of(errors[r]).find(expected), std::string::npos) << message_of(errors[r]);
    try {
      std::rethrow_exception(errors[r]);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kDistributed);
    } catch (...) {
      ADD_FAILURE() << "not a msinet::Error";
    }
  }
}

}  // namespace
}  // namespace msinet::testing
