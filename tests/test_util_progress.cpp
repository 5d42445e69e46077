// Progress lines in logs (stderr not a terminal, as under CTest) and JSON log lines, in process.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "msinet/util/error.h"
#include "msinet/util/logging.h"
#include "msinet/util/progress.h"

namespace msinet::util {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) out.push_back(line);
  return out;
}

class ProgressLines : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(stderr_is_terminal()) << "run with stderr redirected"; }
  void TearDown() override {
    set_progress_interval(30);
    setup_logging(LogFormat::kText, spdlog::level::info);
  }
};

TEST_F(ProgressLines, TextLinesGiveDoneTotalAndPercentAtEveryUpdateWithIntervalZero) {
  setup_logging(LogFormat::kText, spdlog::level::info);
  set_progress_interval(0);
  ::testing::internal::CaptureStderr();
  {
    Progress p("job", 4);
    for (int i = 1; i <= 4; ++i) p.update(i, "loss 0.5");
  }
  const std::vector<std::string> lines = lines_of(::testing::internal::GetCapturedStderr());
  ASSERT_EQ(lines.size(), 4u);
  const char* expected[] = {"info: job: 1/4 (25%), ", "info: job: 2/4 (50%), ",
                            "info: job: 3/4 (75%), ", "info: job: 4/4 (100%), "};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(lines[i].rfind(expected[i], 0), 0u) << lines[i];
    EXPECT_NE(lines[i].find("/s, ETA "), std::string::npos) << lines[i];
    EXPECT_NE(lines[i].find(", loss 0.5"), std::string::npos) << lines[i];
    EXPECT_EQ(lines[i].find('\r'), std::string::npos) << "no bar when stderr is a file";
  }
  EXPECT_NE(lines[3].find("ETA 0s"), std::string::npos) << lines[3];
}

TEST_F(ProgressLines, DisabledProgressPrintsNothing) {
  setup_logging(LogFormat::kText, spdlog::level::info);
  set_progress_interval(0);
  ::testing::internal::CaptureStderr();
  {
    Progress p("job", 3, /*enabled=*/false);
    for (int i = 1; i <= 3; ++i) p.update(i);
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(ProgressLines, JsonLinesCarryTheFieldsAndTheRunEta) {
  setup_logging(LogFormat::kJson, spdlog::level::info);
  set_progress_interval(0);
  ::testing::internal::CaptureStderr();
  {
    Progress p("epoch 1/3", 4);
    p.set_work_after(/*units=*/8);  // two later epochs of 4 at this rate
    p.update(2);
    Progress q("epoch 2/3", 4);
    q.set_work_after(/*units=*/4, /*seconds=*/100.0);  // the mean epoch time is known
    q.update(1);
  }
  const std::vector<std::string> lines = lines_of(::testing::internal::GetCapturedStderr());
  ASSERT_EQ(lines.size(), 2u);
  const nlohmann::json a = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(a["level"], "info");
  EXPECT_EQ(a["event"], "progress");
  EXPECT_EQ(a["label"], "epoch 1/3");
  EXPECT_EQ(a["done"], 2);
  EXPECT_EQ(a["total"], 4);
  EXPECT_EQ(a["message"].get<std::string>().rfind("epoch 1/3: 2/4 (50%), ", 0), 0u);
  // 2 left of this epoch and 8 later at the same rate: the run takes 5 times the epoch's rest.
  const double rate = a["rate"], eta = a["eta_s"], run_eta = a["run_eta_s"];
  EXPECT_GT(rate, 0);
  EXPECT_NEAR(eta, 2 / rate, 1e-6 * eta);
  EXPECT_NEAR(run_eta, 5 * eta, 1e-6 * run_eta);
  const nlohmann::json b = nlohmann::json::parse(lines[1]);
  EXPECT_NEAR(b["run_eta_s"].get<double>(), b["eta_s"].get<double>() + 100.0, 1e-6);
  // 2026-12-02T05:31:18.123Z
  const std::string t = a["time"];
  ASSERT_EQ(t.size(), 24u) << t;
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t[19], '.');
  EXPECT_EQ(t[23], 'Z');
}

TEST_F(ProgressLines, JsonEscapesQuotesControlCharactersAndBadUtf8) {
  setup_logging(LogFormat::kJson, spdlog::level::debug);
  ::testing::internal::CaptureStderr();
  spdlog::warn("cannot read 'a \"b\"\\c\td\xff.jpg'");
  const std::vector<std::string> lines = lines_of(::testing::internal::GetCapturedStderr());
  ASSERT_EQ(lines.size(), 1u);
  const nlohmann::json j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["level"], "warning");
  EXPECT_EQ(j["message"], "cannot read 'a \"b\"\\c\td\xef\xbf\xbd.jpg'");
  EXPECT_FALSE(j.contains("event"));
}

TEST(LogFormat, NamesAreParsedAndOthersRefused) {
  EXPECT_EQ(parse_log_format("text"), LogFormat::kText);
  EXPECT_EQ(parse_log_format("json"), LogFormat::kJson);
  EXPECT_THROW(parse_log_format("xml"), Error);
}

}  // namespace
}  // namespace msinet::util
