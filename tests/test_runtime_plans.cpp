// Runtime plans chosen by measurement: the plan cache (measured once, kept, keyed by machine and
// shape, a broken file ignored), InferenceNet's choice among the plans, and the binary's
// --runtime-plan and -v report.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "msinet/bench/bench.h"
#include "msinet/model/msinet.h"
#include "msinet/pipeline/plan_cache.h"
#include "msinet/runtime/inference.h"
#include "test_support.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using testing::run_msinet;
using testing::TempDir;

// Counts the measurements it is asked for.
class CountingStore : public runtime::PlanStore {
 public:
  int measured = 0;
  std::map<std::string, runtime::PlanChoice> kept;
  runtime::PlanChoice choose(const std::string& key,
                             const std::function<runtime::PlanChoice()>& measure) override {
    if (!kept.count(key)) {
      ++measured;
      kept[key] = measure();
    }
    return kept[key];
  }
};

TEST(PlanCache, MeasuresOnceAndKeepsTheChoiceInItsFile) {
  TempDir tmp("plans");
  const fs::path file = tmp.path() / "sub" / "plans.yaml";
  const std::string key = runtime::plan_key("fp32", {1, 3, 48, 64});
  int calls = 0;
  const auto measure = [&] {
    ++calls;
    return runtime::PlanChoice{"channels-last", {{"nchw", 12.5}, {"channels-last", 7.25}}};
  };
  EXPECT_EQ(pipeline::PlanCache(file).choose(key, measure).plan, "channels-last");
  EXPECT_EQ(calls, 1);
  // A new cache object (a later process) reads the file instead of measuring.
  const runtime::PlanChoice again = pipeline::PlanCache(file).choose(key, measure);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(again.plan, "channels-last");
  EXPECT_DOUBLE_EQ(again.ms.at("nchw"), 12.5);
  EXPECT_DOUBLE_EQ(again.ms.at("channels-last"), 7.3);  // kept to 0.1 ms
  // Another shape is another measurement; both stay in the file.
  const std::string other = runtime::plan_key("fp32", {8, 3, 48, 64});
  EXPECT_NE(other, key);
  pipeline::PlanCache(file).choose(other, [&] {
    ++calls;
    return runtime::PlanChoice{"nchw", {{"nchw", 1.0}}};
  });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(pipeline::PlanCache(file).choose(key, measure).plan, "channels-last");
  EXPECT_EQ(pipeline::PlanCache(file).choose(other, measure).plan, "nchw");
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(fs::exists(file.string() + ".lock")) << "the lock goes with its holder";
}

TEST(PlanCache, KeyNamesTheMachineThreadsVersionsPrecisionAndShape) {
  const std::string key = runtime::plan_key("bf16", {2, 3, 240, 320});
  for (const std::string part :
       {std::string(" threads"), std::string("LibTorch "), std::string("msinet "),
        std::string("bf16"), std::string("2x3x240x320")}) {
    EXPECT_NE(key.find(part), std::string::npos) << part << " not in " << key;
  }
  const int threads = torch::get_num_threads();
  torch::set_num_threads(threads == 1 ? 2 : 1);
  EXPECT_NE(runtime::plan_key("bf16", {2, 3, 240, 320}), key) << "threads change the key";
  torch::set_num_threads(threads);
}

TEST(PlanCache, AMalformedFileIsMeasuredAgainAndRewritten) {
  TempDir tmp("plans");
  const fs::path file = tmp.path() / "plans.yaml";
  std::ofstream(file) << "plans: [ {key: 1, plan: \n";  // truncated
  int calls = 0;
  const auto choice = pipeline::PlanCache(file).choose("k", [&] {
    ++calls;
    return runtime::PlanChoice{"nchw", {{"nchw", 3.0}}};
  });
  EXPECT_EQ(choice.plan, "nchw");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(pipeline::PlanCache(file).choose("k", [&] { return ++calls, choice; }).plan, "nchw");
  EXPECT_EQ(calls, 1) << "the rewritten file is read back";
}

model::MSINet random_net() {
  torch::manual_seed(11);
  model::MSINet net;
  net->eval();
  return net;
}

TEST(RuntimePlans, AutoMeasuresEveryPlanOnceAndRunsTheFastest) {
  const model::MSINet net = random_net();
  auto store = std::make_shared<CountingStore>();
  runtime::InferenceOptions o;
  o.plan_store = store;
  runtime::InferenceNet auto_net(net, torch::Device(torch::kCPU), o);
  const torch::Tensor rgb = torch::rand({1, 3, 32, 48}) * 255;
  const torch::Tensor maps = auto_net.forward(rgb);
  ASSERT_EQ(store->measured, 1);
  const runtime::PlanChoice& c = store->kept.begin()->second;
  EXPECT_EQ(c.ms.size(), runtime::cpu_plan_names().size()) << "every plan timed";
  for (const auto& [name, ms] : c.ms) EXPECT_GE(ms, c.ms.at(c.plan)) << name;
  EXPECT_EQ(auto_net.plan({1, 3, 32, 48}), c.plan);
  EXPECT_NE(auto_net.describe().find("plan " + c.plan), std::string::npos) << auto_net.describe();
  auto_net.forward(rgb);
  EXPECT_EQ(store->measured, 1) << "the shape was measured already";
  auto_net.forward(torch::rand({2, 3, 32, 48}) * 255);
  EXPECT_EQ(store->measured, 2) << "a new batch size is a new shape";
  // The maps are those of the plan it chose, run on its own.
  runtime::InferenceOptions fixed;
  fixed.plan = c.plan;
  runtime::InferenceNet chosen(net, torch::Device(torch::kCPU), fixed);
  EXPECT_LT((chosen.forward(rgb) - maps).abs().max().item<double>(), 1e-6);
}

TEST(RuntimePlans, AnUnknownPlanIsAUsageErrorThatNamesThePlans) {
  runtime::InferenceOptions o;
  o.plan = "fastest";
  const Error e = testing::thrown_error(
      [&] { runtime::InferenceNet(random_net(), torch::Device(torch::kCPU), o); });
  EXPECT_EQ(e.code(), ErrorCode::kUsage);
  const std::string what = e.what();
  EXPECT_NE(what.find("'fastest'"), std::string::npos) << what;
  for (const std::string& name : runtime::cpu_plan_names())
    EXPECT_NE(what.find(name), std::string::npos) << what;
}

class CliRuntimePlan : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(testing::msinet_binary())) << "build the msinet target first";
    bench::write_random_weights(tmp_.path() / "w.msinet", /*seed=*/3);
    fs::create_directories(tmp_.path() / "photos");
    cv::Mat img(40, 56, CV_8UC3);
    cv::randu(img, 0, 255);
    ASSERT_TRUE(cv::imwrite((tmp_.path() / "photos" / "a.png").string(), img));
  }
  int test_run(const std::vector<std::string>& extra, std::string* log) {
    std::vector<std::string> args = {"test",      "-v",
                                     "--weights", (tmp_.path() / "w.msinet").string(),
                                     "-p",        (tmp_.path() / "photos").string(),
                                     "-o",        (tmp_.path() / "maps").string(),
                                     "--size",    "32x48"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_msinet(args, tmp_.path(), log, {"MSINET_PLAN_CACHE=" + cache().string()});
  }
  fs::path cache() const { return tmp_.path() / "plans.yaml"; }
  TempDir tmp_{"cli-plan"};
};

TEST_F(CliRuntimePlan, AutoMeasuresOnTheFirstRunAndReadsTheCacheOnTheNext) {
  std::string log;
  ASSERT_EQ(test_run({}, &log), 0) << log;
  EXPECT_NE(log.find("measuring the plans"), std::string::npos) << log;
  EXPECT_NE(log.find(cache().string()), std::string::npos) << log;
  const std::string text = testing::read_file_bytes(cache());
  EXPECT_NE(text.find("1x3x32x48"), std::string::npos) << text;
  ASSERT_EQ(test_run({}, &log), 0) << log;
  EXPECT_EQ(log.find("measuring the plans"), std::string::npos) << "measured twice:\n" << log;
  EXPECT_NE(log.find("1x3x32x48: "), std::string::npos) << "-v names the choice:\n" << log;
}

TEST_F(CliRuntimePlan, ANamedPlanRunsWithoutMeasuringAndABadOneIsAConfigurationError) {
  std::string log;
  ASSERT_EQ(test_run({"--runtime-plan", "nchw"}, &log), 0) << log;
  EXPECT_EQ(log.find("measuring the plans"), std::string::npos) << log;
  EXPECT_NE(log.find("plan nchw"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(cache()));
  EXPECT_EQ(test_run({"--runtime-plan", "fastest"}, &log), 3) << log;  // a bad key value
  EXPECT_NE(log.find("fastest"), std::string::npos) << log;
}

}  // namespace
}  // namespace msinet
