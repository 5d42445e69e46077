// A download with stderr in a file logs progress lines in bytes (tests/tools/http_server.py on a
// loopback port serves the file).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "msinet/fetch/download.h"
#include "msinet/util/logging.h"
#include "msinet/util/progress.h"
#include "tools/http_server.h"

namespace {

namespace fs = std::filesystem;

TEST(DownloadProgress, ARedirectedLogGetsJsonLinesCountingBytesUpToTheSize) {
  ASSERT_FALSE(msinet::util::stderr_is_terminal()) << "run with stderr redirected";
  char tmpl[] = "/tmp/msinet_fetch_progress_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  constexpr int64_t kSize = 3'000'000;
  fs::create_directories(dir / "root" / "example.org");
  {
    std::ofstream out(dir / "root" / "example.org" / "big.bin", std::ios::binary);
    for (int64_t i = 0; i < kSize; ++i) out.put(static_cast<char>(i * 7 % 251));
  }
  std::string log;
  {
    msinet::testing::HttpServer server(dir / "root");
    msinet::fetch::DownloadOptions o;
    o.mirror = server.base();
    o.progress = true;
    msinet::util::setup_logging(msinet::util::LogFormat::kJson, spdlog::level::info);
    msinet::util::set_progress_interval(0);
    ::testing::internal::CaptureStderr();
    msinet::fetch::download({"https://example.org/big.bin", ""}, dir / "big.bin", o);
    log = ::testing::internal::GetCapturedStderr();
    msinet::util::set_progress_interval(30);
    msinet::util::setup_logging(msinet::util::LogFormat::kText, spdlog::level::info);
  }
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(dir / "big.bin")), kSize);
  std::stringstream ss(log);
  int64_t last = -1;
  int lines = 0;
  for (std::string line; std::getline(ss, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);  // every line is JSON
    if (j.value("event", "") != "progress") continue;
    ++lines;
    EXPECT_EQ(j["label"], "big.bin");
    EXPECT_EQ(j["unit"], "bytes");
    EXPECT_EQ(j["total"], kSize);
    EXPECT_GE(j["done"].get<int64_t>(), last);
    last = j["done"];
    EXPECT_NE(j["message"].get<std::string>().find(" MiB"), std::string::npos) << line;
  }
  EXPECT_GT(lines, 0) << log;
  EXPECT_EQ(last, kSize) << log;
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
