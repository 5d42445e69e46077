// The log of the real binary with stderr in a file: progress lines at the configured interval,
// JSON lines (--log-format json) that parse and carry their fields, what -v reports, training's
// ETA of the whole run, and where eval wrote its files.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "msinet/bench/bench.h"
#include "test_support.h"
#include "tools/synthetic_photo.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::run_msinet;
using testing::TempDir;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// Every line as a JSON object with time, level and message (a test failure for any other).
std::vector<json> json_lines(const std::string& log) {
  std::vector<json> out;
  for (const std::string& line : lines_of(log)) {
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(j.is_object()) << "not a JSON object: " << line;
    if (!j.is_object()) continue;
    EXPECT_TRUE(j["time"].is_string() && j["level"].is_string() && j["message"].is_string())
        << line;
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<json> progress_of(const std::vector<json>& lines, const std::string& label) {
  std::vector<json> out;
  for (const json& j : lines) {
    if (j.value("event", "") == "progress" && j.value("label", "") == label) out.push_back(j);
  }
  return out;
}

class CliLogs : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(testing::msinet_binary())) << "build the msinet target first";
    bench::write_random_weights(weights(), /*seed=*/5);
  }
  fs::path dir() const { return tmp_.path(); }
  fs::path weights() const { return dir() / "w.msinet"; }
  // `n` photos (and blob maps beside them in `maps`) under `folder`.
  void photos(const fs::path& folder, int n) {
    fs::create_directories(folder / "stimuli");
    fs::create_directories(folder / "maps");
    for (int i = 0; i < n; ++i) {
      cv::RNG rng(i + 1);
      cv::Point c;
      const std::string stem = "img" + std::to_string(i);
      ASSERT_TRUE(cv::imwrite((folder / "stimuli" / (stem + ".jpg")).string(),
                              testing::synthetic_photo(48, 64, rng, &c)));
      cv::Mat map(48, 64, CV_8UC1, cv::Scalar(0));
      cv::circle(map, c, 10, cv::Scalar(255), cv::FILLED);
      cv::GaussianBlur(map, map, cv::Size(0, 0), 5.0);
      ASSERT_TRUE(cv::imwrite((folder / "maps" / (stem + ".png")).string(), map));
    }
  }
  TempDir tmp_{"logs"};
};

TEST_F(CliLogs, JsonLogOfATestRunIsOneObjectPerLineWithProgressAndVerboseFields) {
  // A quote, a backslash and a space in the folder name: the JSON must escape them.
  const fs::path folder = dir() / "we\"ird \\ dir";
  photos(folder, 5);
  std::string log;
  ASSERT_EQ(run_msinet({"test", "--weights", weights().string(), "--size", "48x64", "-p",
                        (folder / "stimuli").string(), "-o", (dir() / "out").string(), "--threads",
                        "1", "--device", "cpu", "--log-format", "json", "-v"},
                       dir(), &log, {"MSINET_PROGRESS_INTERVAL=0"}),
            0)
      << log;
  const std::vector<json> lines = json_lines(log);
  ASSERT_FALSE(lines.empty()) << log;
  for (const json& j : lines) {
    const std::string t = j["time"];
    EXPECT_EQ(t.size(), 24u) << t;  // 2026-12-02T05:31:18.123Z
    EXPECT_EQ(t.back(), 'Z') << t;
  }
  // Interval 0: a line at each of the 5 images, counting up to 5 of 5.
  const std::vector<json> progress = progress_of(lines, "test");
  ASSERT_EQ(progress.size(), 5u) << log;
  for (size_t i = 0; i < progress.size(); ++i) {
    EXPECT_EQ(progress[i]["done"], static_cast<int>(i + 1)) << progress[i];
    EXPECT_EQ(progress[i]["total"], 5) << progress[i];
    EXPECT_TRUE(progress[i]["rate"].is_number()) << progress[i];
    EXPECT_EQ(progress[i]["level"], "info");
  }
  EXPECT_EQ(progress.back()["eta_s"], 0.0);
  // -v: where the weights came from, the job's settings and the runtime's choices.
  bool weights_line = false, settings = false, network = false, input_path = false;
  for (const json& j : lines) {
    const std::string m = j["message"];
    if (j["level"] == "debug") {
      weights_line |= m.find("weights '" + weights().string() + "': an msinet checkpoint") == 0;
      settings |= m.find("test: input 48x64") == 0 && m.find("batch 1") != std::string::npos;
      network |= m.find("network: runs on cpu in fp32 with 1 CPU thread(s)") == 0;
    }
    input_path |= m.find("from '" + (folder / "stimuli").string() + "'") != std::string::npos;
  }
  EXPECT_TRUE(weights_line) << log;
  EXPECT_TRUE(settings) << log;
  EXPECT_TRUE(network) << log;
  EXPECT_TRUE(input_path) << "the folder's name survives the escaping\n" << log;
}

TEST_F(CliLogs, ARedirectedLogGetsPlainProgressLinesAtTheConfiguredInterval) {
  photos(dir() / "p", 4);
  std::ofstream(dir() / "c.yaml") << "progress_interval: 0\n";
  std::string log;
  ASSERT_EQ(
      run_msinet({"test", "--weights", weights().string(), "--size", "48x64", "-p",
                  (dir() / "p" / "stimuli").string(), "-o", (dir() / "out").string(), "--threads",
                  "1", "--device", "cpu", "--config", (dir() / "c.yaml").string()},
                 dir(), &log),
      0)
      << log;
  std::vector<std::string> progress;
  for (const std::string& line : lines_of(log)) {
    if (line.rfind("info: test: ", 0) == 0 && line.find(" ETA ") != std::string::npos) {
      progress.push_back(line);
    }
  }
  ASSERT_EQ(progress.size(), 4u) << log;
  const char* expected[] = {"info: test: 1/4 (25%), ", "info: test: 2/4 (50%), ",
                            "info: test: 3/4 (75%), ", "info: test: 4/4 (100%), "};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(progress[i].rfind(expected[i], 0), 0u) << progress[i];
  EXPECT_EQ(log.find('\r'), std::string::npos) << "no bar in a file";
}

TEST_F(CliLogs, AnUnknownLogFormatIsAConfigurationError) {
  std::string log;
  EXPECT_EQ(run_msinet({"test", "-p", dir().string(), "--log-format", "xml"}, dir(), &log), 3)
      << log;
  EXPECT_NE(log.find("log_format"), std::string::npos) << log;
  EXPECT_NE(log.find("text|json"), std::string::npos) << log;
}

TEST_F(CliLogs, AnErrorThatEndsTheCommandIsAJsonLine) {
  std::string log;
  EXPECT_EQ(run_msinet({"test", "-p", (dir() / "missing").string(), "--weights", weights().string(),
                        "--log-format", "json"},
                       dir(), &log),
            4)
      << log;
  const std::vector<json> lines = json_lines(log);
  ASSERT_FALSE(lines.empty()) << log;
  EXPECT_EQ(lines.back()["level"], "error") << log;
}

TEST_F(CliLogs, TrainingGivesTheEtaOfTheWholeRun) {
  photos(dir() / "tiny", 8);
  std::ofstream(dir() / "tiny.yaml")
      << "stimuli: tiny/stimuli\nsaliency: tiny/maps\nsize: 48x64\nvalid_fraction: 0.25\n"
         "seed: 7\n";
  std::string log;
  ASSERT_EQ(run_msinet({"train", "-d", (dir() / "tiny.yaml").string(), "--init", "random",
                        "--epochs", "2", "--results-dir", (dir() / "results").string(), "--threads",
                        "2", "--device", "cpu", "--log-format", "json", "-v"},
                       dir(), &log, {"MSINET_PROGRESS_INTERVAL=0"}),
            0)
      << log;
  const std::vector<json> lines = json_lines(log);
  const std::vector<json> first = progress_of(lines, "epoch 1/2");
  const std::vector<json> second = progress_of(lines, "epoch 2/2");
  // 6 training images, batch 1: a line per step.
  ASSERT_EQ(first.size(), 6u) << log;
  ASSERT_EQ(second.size(), 6u) << log;
  for (const json& j : first) {
    EXPECT_EQ(j["total"], 6);
    // The rest of this epoch and all of the next one.
    EXPECT_GT(j["run_eta_s"].get<double>(), j["eta_s"].get<double>()) << j;
    EXPECT_NE(j.value("detail", "").find("loss "), std::string::npos) << j;
  }
  for (const json& j : second) {
    EXPECT_DOUBLE_EQ(j["run_eta_s"].get<double>(), j["eta_s"].get<double>()) << "the last epoch";
  }
  EXPECT_EQ(first.back()["done"], 6);
  bool summary = false, settings = false;
  for (const json& j : lines) {
    const std::string m = j["message"];
    summary |= m.find("epoch 1/2: train ") == 0 && m.find(", run ETA ") != std::string::npos;
    settings |= m.find("train: device cpu, 2 CPU thread(s)") == 0;
  }
  EXPECT_TRUE(summary) << log;
  EXPECT_TRUE(settings) << log;
}

TEST_F(CliLogs, EvalSaysWhereItWroteItsFilesAndHowLongItTook) {
  photos(dir() / "e", 3);
  const fs::path csv = dir() / "reports" / "scores.csv";
  fs::create_directories(csv.parent_path());
  std::string log;
  const int rc = run_msinet(
      {"eval", "--pred", (dir() / "e" / "maps").string(), "--maps", (dir() / "e" / "maps").string(),
       "--metrics", "cc", "--csv", csv.string(), "--no-plots", "--log-format", "json"},
      dir(), &log, {"MSINET_PROGRESS_INTERVAL=0"});
  ASSERT_EQ(rc, 0) << log;
  ASSERT_TRUE(fs::exists(csv));
  bool wrote = false;
  std::vector<json> lines;
  for (const std::string& line : lines_of(log)) {
    if (line.front() != '{') continue;  // the table on stdout shares the file here
    lines.push_back(json::parse(line));
    const std::string m = lines.back()["message"];
    wrote |= m.find("eval: wrote the CSV to '" + csv.string() + "' in ") == 0 &&
             m.substr(m.size() - 2) == " s";
  }
  EXPECT_TRUE(wrote) << log;
  const std::vector<json> progress = progress_of(lines, "eval");
  ASSERT_FALSE(progress.empty()) << log;
  EXPECT_EQ(progress.back()["done"], 3);
  EXPECT_EQ(progress.back()["total"], 3);
}

}  // namespace
}  // namespace msinet
