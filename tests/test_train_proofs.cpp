// Proofs about `msinet train`, through the real binary on a dataset made here: it learns, a
// stopped run resumes bit for bit, kill -9 at any moment leaves only loadable checkpoints and the
// same end state, a non-finite loss keeps the last good state, and a second signal stops at once.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/inotify.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <regex>
#include <set>

#include "msinet/checkpoint/container.h"
#include "msinet/checkpoint/state.h"
#include "msinet/model/msinet.h"
#include "test_support.h"
#include "tools/synthetic_photo.h"
#include "tools/train_support.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using checkpoint::Checkpoint;
using testing::adam_state;
using testing::AdamState;
using testing::bits_equal;
using testing::catches;
using testing::Child;
using testing::model_tensors;
using testing::read_file_bytes;
using testing::read_lines;
using testing::TempDir;

// The dataset: 6 training and 2 validation pairs at a tiny size, one step per image: an epoch
// takes a few seconds.
constexpr int kImages = 8;
constexpr int kTrainSteps = 6;
constexpr const char* kSize = "16x16";

// Two checkpoints hold the same bits: every model tensor, the Adam state, the metadata.
void expect_identical(const fs::path& a, const fs::path& b) {
  SCOPED_TRACE(a.string() + " vs " + b.string());
  const Checkpoint ca = checkpoint::read_checkpoint(a), cb = checkpoint::read_checkpoint(b);
  const auto ta = model_tensors(ca.model), tb = model_tensors(cb.model);
  ASSERT_EQ(ta.size(), tb.size());
  ASSERT_GT(ta.size(), 40u);
  int differing = 0;
  for (const auto& [name, t] : ta) {
    ASSERT_EQ(tb.count(name), 1u) << name;
    if (!bits_equal(t, tb.at(name))) {
      ++differing;
      ADD_FAILURE() << "model tensor '" << name << "' differs, by up to "
                    << (t - tb.at(name)).abs().max().item<double>();
    }
  }
  EXPECT_EQ(differing, 0);
  ASSERT_EQ(ca.optimizer.empty(), cb.optimizer.empty());
  if (!ca.optimizer.empty()) {
    const AdamState sa = adam_state(ca.optimizer), sb = adam_state(cb.optimizer);
    EXPECT_EQ(sa.steps, sb.steps);
    EXPECT_GT(sa.steps.front(), 0) << "an Adam state that never stepped";
    ASSERT_EQ(sa.moments.size(), sb.moments.size());
    for (size_t i = 0; i < sa.moments.size(); ++i) {
      EXPECT_TRUE(bits_equal(sa.moments[i], sb.moments[i])) << "Adam moment " << i << " differs";
    }
  }
  EXPECT_EQ(ca.meta.epochs_done, cb.meta.epochs_done);
  EXPECT_EQ(ca.meta.step_in_epoch, cb.meta.step_in_epoch);
  EXPECT_EQ(ca.meta.train_history, cb.meta.train_history);  // exact doubles
  EXPECT_EQ(ca.meta.valid_history, cb.meta.valid_history);
  EXPECT_EQ(ca.meta.best_valid, cb.meta.best_valid);
}

// The checkpoint loads as a run would load it: weights into a network, optimiser into Adam.
void expect_loads(const fs::path& path) {
  SCOPED_TRACE(path.string());
  try {
    const Checkpoint c = checkpoint::read_checkpoint(path);
    model::MSINet net;
    checkpoint::deserialize_state(net, c.model, path.string());
    if (!c.optimizer.empty()) adam_state(c.optimizer);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "does not load: " << e.what();
  }
}

// Files under `dir` named as write_file_atomic names its temporaries.
// The names write_file_atomic gives its temporaries.
const std::regex kTemporary(R"(\..+\.[0-9]+\.[0-9]+\.tmp)");

std::vector<fs::path> temporaries(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (std::regex_match(e.path().filename().string(), kTemporary)) out.push_back(e.path());
  }
  return out;
}

// Returns once `folder` sees an inotify event of `mask` on a name matching `name` (or `c` has
// ended). inotify wakes the test at once, so that a kill lands within a write, not after it.
void wait_for_file(const Child& c, const fs::path& folder, uint32_t mask, const std::regex& name) {
  const int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  ASSERT_GE(fd, 0);
  ASSERT_GE(inotify_add_watch(fd, folder.c_str(), mask), 0) << folder;
  alignas(inotify_event) char buf[4096];
  for (bool seen = false; !seen && c.running();) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    for (ssize_t i = 0; i < n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buf + i);
      seen = seen || (e->len > 0 && std::regex_match(std::string(e->name), name));
      i += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
  }
  ::close(fd);
}

std::vector<fs::path> checkpoints(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().extension() == ".msinet" && e.path().filename().string()[0] != '.') {
      out.push_back(e.path());
    }
  }
  return out;
}

std::vector<double> numbers(const fs::path& path) {
  std::vector<double> out;
  for (const std::string& line : read_lines(path)) out.push_back(std::stod(line));
  return out;
}

class TrainProofs : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(testing::msinet_binary())) << "build the msinet target first";
    fs::create_directories(dir() / "stimuli");
    fs::create_directories(dir() / "maps");
    for (int i = 0; i < kImages; ++i)
      testing::make_training_pair(dir(), "img" + std::to_string(i), 100 + i);
    std::ofstream(dir() / "proofs.yaml")
        << "stimuli: stimuli\nsaliency: maps\nsize: " << kSize << "\nvalid_fraction: 0.25\n";
  }
  const fs::path& dir() const { return tmp_.path(); }

  // The command line of a run into results folder `results`; one thread, so that the same
  // seed gives the same bits.
  std::vector<std::string> args(const std::string& results, int epochs,
                                const std::string& lr = "1e-3") const {
    std::vector<std::string> a = {testing::msinet_binary(),
                                  "train",
                                  "-d",
                                  (dir() / "proofs.yaml").string(),
                                  "--init",
                                  "random",
                                  "--seed",
                                  "5",
                                  "--size",
                                  kSize,
                                  "--lr",
                                  lr,
                                  "--epochs",
                                  std::to_string(epochs),
                                  "--results-dir",
                                  (dir() / results).string(),
                                  "--threads",
                                  "1",
                                  "--device",
                                  "cpu"};
    return a;
  }
  fs::path log(const std::string& tag) { return dir() / (tag + std::to_string(runs_++) + ".log"); }
  // Runs to the end; the exit code, the output in `out`.
  int run(const std::vector<std::string>& a, std::string* out = nullptr) {
    Child c(a, log("run"));
    c.wait();
    if (out) *out = c.output();
    return c.code();
  }
  fs::path latest(const std::string& results) const {
    return dir() / results / "ckpts" / "latest" / "proofs.msinet";
  }
  fs::path best(const std::string& results) const {
    return dir() / results / "ckpts" / "best" / "proofs.msinet";
  }
  fs::path history(const std::string& results) const {
    return dir() / results / "history" / "proofs";
  }
  // The reference: `epochs` epochs without a stop.
  void reference(int epochs) {
    std::string out;
    ASSERT_EQ(run(args("reference", epochs), &out), 0) << out;
  }
  // Both results folders hold the same end state: latest, best and the history files.
  void expect_same_end(const std::string& results) {
    expect_identical(latest("reference"), latest(results));
    expect_identical(best("reference"), best(results));
    for (const char* f : {"train_loss.txt", "valid_loss.txt"}) {
      EXPECT_EQ(read_file_bytes(history(results) / f), read_file_bytes(history("reference") / f))
          << f;
    }
  }

  TempDir tmp_{"train-proofs"};
  int runs_ = 0;
};

// The loop has started once this is logged.
constexpr const char* kLoopStarted = "train 'proofs': 6 train / 2 valid images";

// Adam really moves the weights: the losses fall well below the first epoch's (a network whose
// optimiser does nothing scores every epoch the same), and `best` holds the weights of the epoch
// with the lowest validation loss.
TEST_F(TrainProofs, TrainingLowersTheLossesAndBestKeepsTheLowest) {
  constexpr int kEpochs = 3;
  std::vector<std::string> snapshots;  // latest's model after each epoch
  for (int e = 1; e <= kEpochs; ++e) {
    std::string out;
    ASSERT_EQ(run(args("r", e), &out), 0) << out;
    snapshots.push_back(checkpoint::read_checkpoint(latest("r")).model);
  }
  const checkpoint::CheckpointMeta meta = checkpoint::read_checkpoint(latest("r")).meta;
  const std::vector<double>& valid = meta.valid_history;
  const std::vector<double>& train = meta.train_history;
  ASSERT_EQ(valid.size(), static_cast<size_t>(kEpochs));
  ASSERT_EQ(numbers(history("r") / "valid_loss.txt").size(), valid.size());
  std::cout << "KLD per epoch (train, valid):";
  for (int e = 0; e < kEpochs; ++e) std::cout << " (" << train[e] << ", " << valid[e] << ")";
  std::cout << "\n";
  // Measured: train falls by ~25%, valid by ~8% over these epochs.
  EXPECT_LT(train.back(), 0.9 * train.front()) << "the training loss did not fall";
  EXPECT_LT(valid.back(), 0.97 * valid.front()) << "the validation loss did not fall";

  const Checkpoint b = checkpoint::read_checkpoint(best("r"));
  const size_t at = std::min_element(valid.begin(), valid.end()) - valid.begin();
  EXPECT_EQ(b.meta.best_valid, valid[at]);
  EXPECT_EQ(b.meta.epochs_done, static_cast<int64_t>(at + 1));
  EXPECT_TRUE(b.optimizer.empty());
  const auto best_tensors = model_tensors(b.model);
  for (size_t e = 0; e < snapshots.size(); ++e) {
    const auto snap = model_tensors(snapshots[e]);
    bool same = true;
    for (const auto& [name, t] : best_tensors) same = same && bits_equal(t, snap.at(name));
    EXPECT_EQ(same, e == at) << "best vs the weights after epoch " << e + 1;
  }
}

// A run stopped mid-epoch (SIGTERM, then SIGINT) saves latest, exits 130, and resumed, ends with
// the very bits of a run that was never stopped: weights, Adam state, histories.
TEST_F(TrainProofs, AStoppedRunResumesBitForBit) {
  constexpr int kEpochs = 2;
  reference(kEpochs);
  int mid_epoch = 0, stops = 0;
  for (int delay_ms = 2500; mid_epoch < 2 && stops < 4; delay_ms += 1500, ++stops) {
    Child c(args("stopped", kEpochs), log("stop"));
    ASSERT_TRUE(c.wait_for_output(kLoopStarted, std::chrono::seconds(60))) << c.output();
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    const int sig = stops == 0 ? SIGTERM : SIGINT;
    c.signal(sig);
    c.wait();
    if (c.code() == 0) break;  // finished before the signal: nothing more to stop
    ASSERT_EQ(c.code(), 130) << c.output();
    EXPECT_NE(c.output().find("saved '" + latest("stopped").string() + "'"), std::string::npos)
        << c.output();
    const Checkpoint saved = checkpoint::read_checkpoint(latest("stopped"));
    std::cout << strsignal(sig) << " after " << delay_ms << " ms: " << saved.meta.epochs_done
              << " epoch(s) and " << saved.meta.step_in_epoch << " step(s)\n";
    if (saved.meta.step_in_epoch > 0 && saved.meta.step_in_epoch < kTrainSteps) ++mid_epoch;
  }
  EXPECT_GE(mid_epoch, 1) << "no stop landed in the middle of an epoch";
  std::string out;
  ASSERT_EQ(run(args("stopped", kEpochs), &out), 0) << out;
  expect_same_end("stopped");
}

// kill -9 at seeded random moments and within an epoch's writes: every checkpoint left loads,
// the next run removes the temporaries, and the run ends as one never killed.
TEST_F(TrainProofs, KillNineAtRandomMomentsChangesNothing) {
  constexpr int kEpochs = 2;
  const auto t0 = std::chrono::steady_clock::now();
  reference(kEpochs);
  const double run_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const char* env = std::getenv("TRAIN_PROOFS_SEED");
  const unsigned seed = env ? static_cast<unsigned>(std::stoul(env)) : 20240611u;
  std::cout << "kill -9 delays from seed " << seed << " (set TRAIN_PROOFS_SEED to change)\n";
  std::mt19937 rng(seed);
  // At most half a run: a run resumed with one epoch to go needs more, so that no kill comes
  // after the end.
  std::uniform_real_distribution<double> delay(0.0, 0.5 * run_ms);
  const fs::path results = dir() / "killed";
  std::set<std::string> left;  // temporaries left by a kill
  std::string outputs;         // of every run
  // Random moments, and the windows of an epoch's end: within best's write, within latest's,
  // and just after latest, before the history files (the last one on the final epoch: the run
  // that follows has nothing left to train and must still repair the history).
  enum When { kRandom, kWritingBest, kAfterLatest, kWritingLatest };
  const When schedule[] = {kRandom,        kWritingBest, kRandom,     kAfterLatest,
                           kWritingLatest, kWritingBest, kAfterLatest};
  const fs::path ckpts = results / "ckpts";
  fs::create_directories(ckpts / "best");
  fs::create_directories(ckpts / "latest");
  int k = 0;
  for (const When when : schedule) {
    Child c(args("killed", kEpochs), log("kill"));
    std::cout << "kill " << ++k << ": ";
    if (when == kWritingBest) {
      wait_for_file(c, ckpts / "best", IN_CREATE, kTemporary);
      std::cout << "while writing best\n";
    } else if (when == kAfterLatest) {
      wait_for_file(c, ckpts / "latest", IN_MOVED_TO, std::regex("proofs\\.msinet"));
      std::cout << "after writing latest\n";
    } else if (when == kWritingLatest) {
      wait_for_file(c, ckpts / "latest", IN_CREATE, kTemporary);
      std::cout << "while writing latest\n";
    } else {
      const double ms = delay(rng);
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms));
      std::cout << "after " << static_cast<int>(ms) << " ms\n";
    }
    c.signal(SIGKILL);
    c.wait();
    outputs += c.output();
    ASSERT_TRUE(c.killed_by(SIGKILL) || c.code() == 0) << c.output();
    for (const fs::path& p : checkpoints(results)) expect_loads(p);
    for (const fs::path& p : temporaries(results)) left.insert(p.string());
  }
  std::string out;
  ASSERT_EQ(run(args("killed", kEpochs), &out), 0) << out;
  outputs += out;
  std::cout << left.size() << " temporaries were left by the kills\n";
  EXPECT_GE(left.size(), 1u) << "no kill landed while a checkpoint was written";
  for (const std::string& p : left) {
    EXPECT_FALSE(fs::exists(p));
    EXPECT_NE(outputs.find("removed '" + p + "'"), std::string::npos) << p;
  }
  EXPECT_TRUE(temporaries(results).empty());
  expect_same_end("killed");
}

// A non-finite loss (an absurd learning rate makes the weights overflow) stops with exit 9,
// names what is kept, and leaves the last good state as it was; the run then goes on from it.
TEST_F(TrainProofs, ANonFiniteLossExits9AndKeepsTheLastGoodState) {
  std::string out;
  ASSERT_EQ(run(args("r", 1), &out), 0) << out;
  const std::vector<fs::path> kept = {latest("r"), best("r"), history("r") / "train_loss.txt",
                                      history("r") / "valid_loss.txt"};
  std::vector<std::string> before;
  for (const fs::path& p : kept) before.push_back(read_file_bytes(p));

  EXPECT_EQ(run(args("r", 2, "1e12"), &out), 9) << out;
  EXPECT_NE(out.find("training diverged: loss "), std::string::npos) << out;
  EXPECT_NE(out.find("in epoch 2"), std::string::npos) << out;
  EXPECT_NE(out.find("the last good state is kept in '" + latest("r").string() + "'"),
            std::string::npos)
      << out;
  for (size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(read_file_bytes(kept[i]), before[i]) << kept[i] << " changed";
  }
  EXPECT_TRUE(temporaries(dir() / "r").empty());

  ASSERT_EQ(run(args("r", 2), &out), 0) << out;
  EXPECT_NE(out.find("resuming 'proofs'"), std::string::npos) << out;
  EXPECT_EQ(numbers(history("r") / "valid_loss.txt").size(), 2u);
}

// After a first SIGINT or SIGTERM, a second signal of either kind, arriving while the run stops,
// ends it at once (killed by that signal, not exiting); what was saved before still loads and
// the next run resumes.
TEST_F(TrainProofs, ASecondSignalDuringTheStopEndsAtOnce) {
  for (const auto& [first, second] : {std::pair{SIGINT, SIGINT}, std::pair{SIGTERM, SIGINT}}) {
    SCOPED_TRACE(std::string(strsignal(first)) + " then " + strsignal(second));
    Child c(args("r", 40), log("twice"));
    ASSERT_TRUE(c.wait_for_output(kLoopStarted, std::chrono::seconds(60))) << c.output();
    c.signal(first);
    // The handler has run once the process no longer catches the signal.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (catches(c.pid(), first) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    c.signal(second);
    c.wait();
    EXPECT_TRUE(c.killed_by(second)) << "exit " << c.code() << ":\n" << c.output();
    for (const fs::path& p : checkpoints(dir() / "r")) expect_loads(p);
  }
  std::string out;
  ASSERT_EQ(run(args("r", 1), &out), 0) << out;
  EXPECT_TRUE(temporaries(dir() / "r").empty());
  EXPECT_EQ(numbers(history("r") / "valid_loss.txt").size(), 1u);
}

}  // namespace
}  // namespace msinet
