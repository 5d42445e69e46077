// The --nproc launcher, driving tests/tools/dist_rank_main: success, a rank that exits, one
// killed by SIGKILL, one that hangs, an interrupted launcher and a launcher killed by kill -9;
// no rank is left running after any of them.
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "msinet/dist/group.h"
#include "test_support.h"

namespace msinet::testing {
namespace {

using Clock = std::chrono::steady_clock;

/// Whether `pid` is a live process (a zombie is not).
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return false;
  const auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z' &&
         text[close + 2] != 'X';
}

class DistLauncher : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!dist::available()) GTEST_SKIP() << "this build has no distributed training";
    dir_ = std::make_unique<TempDir>("dist-launcher");
  }

  std::vector<std::string> command(int nproc, const std::vector<std::string>& rank_args,
                                   int grace_s = 5) {
    std::vector<std::string> c{DIST_RANK_MAIN,          "launch", std::to_string(nproc),
                               std::to_string(grace_s), "rank",   "--pid-dir",
                               dir_->path().string()};
    c.insert(c.end(), rank_args.begin(), rank_args.end());
    return c;
  }

  /// Runs the launcher to the end; its exit code, output and seconds.
  int run(int nproc, const std::vector<std::string>& rank_args) {
    const auto start = Clock::now();
    Process p(command(nproc, rank_args), dir_->path());
    const int rc = p.wait();
    seconds_ = std::chrono::duration<double>(Clock::now() - start).count();
    output_ = p.output();
    return rc;
  }

  /// The pids the ranks recorded once they had joined.
  std::vector<pid_t> rank_pids(int nproc) {
    std::vector<pid_t> pids;
    for (int r = 0; r < nproc; ++r) {
      std::ifstream in(dir_->path() / ("rank" + std::to_string(r) + ".pid"));
      pid_t pid = 0;
      if (in >> pid) pids.push_back(pid);
    }
    return pids;
  }

  bool wait_for_ranks(int nproc, double seconds) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < deadline) {
      if (static_cast<int>(rank_pids(nproc).size()) == nproc) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  void expect_none_left(int nproc, int joined) {
    const auto pids = rank_pids(nproc);
    EXPECT_GE(static_cast<int>(pids.size()), joined) << output_;
    for (pid_t pid : pids) EXPECT_FALSE(alive(pid)) << "rank pid " << pid << " is still running";
  }

  bool has(const std::string& text) const { return output_.find(text) != std::string::npos; }

  std::unique_ptr<TempDir> dir_;
  std::string output_;
  double seconds_ = 0;
};

TEST_F(DistLauncher, AllRanksSucceed) {
  EXPECT_EQ(run(2, {"--steps", "5"}), 0) << output_;
  EXPECT_TRUE(has("rank 0: done")) << output_;
  EXPECT_TRUE(has("rank 1: done")) << output_;
  expect_none_left(2, 2);
}

TEST_F(DistLauncher, ARankThatExitsIsNamedAndItsCodeReturned) {
  EXPECT_EQ(run(2, {"--steps", "5", "--fail-rank", "1", "--fail-step", "2"}), 3) << output_;
  EXPECT_TRUE(has("rank 1 (pid")) << output_;
  EXPECT_TRUE(has("exited with code 3")) << output_;
  // rank 0 fails at once (the peer's sockets closed), naming the rank behind.
  EXPECT_TRUE(
      has("rank 0: all_reduce failed: rank 1 stopped at step 1 while rank 0 reached "
          "step 2"))
      << output_;
  EXPECT_LT(seconds_, 4.5) << output_;
  expect_none_left(2, 2);
}

TEST_F(DistLauncher, ARankKilledBySignalMeansExitCode12) {
  EXPECT_EQ(run(2, {"--steps", "5", "--fail-rank", "1", "--fail-step", "3", "--fail-how", "kill"}),
            12)
      << output_;
  EXPECT_TRUE(has("rank 1 (pid")) << output_;
  EXPECT_TRUE(has("was killed by signal 9 (Killed)")) << output_;
  expect_none_left(2, 2);
}

TEST_F(DistLauncher, AHungRankIsNamedAfterTheTimeout) {
  EXPECT_EQ(run(2, {"--steps", "5", "--timeout", "2", "--fail-rank", "1", "--fail-step", "2",
                    "--fail-how", "hang"}),
            12)
      << output_;
  EXPECT_TRUE(
      has("rank 1 stopped at step 1 while rank 0 reached step 2: it died or hung "
          "(timeout 2 s)"))
      << output_;
  EXPECT_LT(seconds_, 8.0) << output_;
  expect_none_left(2, 2);
}

TEST_F(DistLauncher, SigintIsPassedOnOnceAndMeans130) {
  Process p(command(2, {"--steps", "100000", "--step-ms", "20"}), dir_->path());
  ASSERT_TRUE(wait_for_ranks(2, 20.0)) << p.output();
  p.signal(SIGINT);
  EXPECT_EQ(p.wait(), 130) << p.output();
  output_ = p.output();
  EXPECT_TRUE(has("rank 0: interrupted")) << output_;
  EXPECT_TRUE(has("rank 1: interrupted")) << output_;
  expect_none_left(2, 2);
}

TEST_F(DistLauncher, KillingTheLauncherStopsTheRanks) {
  Process p(command(2, {"--steps", "100000", "--step-ms", "20"}), dir_->path());
  ASSERT_TRUE(wait_for_ranks(2, 20.0)) << p.output();
  const auto pids = rank_pids(2);
  p.signal(SIGKILL);
  p.wait();
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  bool any = true;
  while (any && Clock::now() < deadline) {
    any = false;
    for (pid_t pid : pids) any = any || alive(pid);
    if (any) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(any) << "ranks outlived their launcher";
}

}  // namespace
}  // namespace msinet::testing
