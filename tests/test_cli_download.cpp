// `msinet download` and dataset files through the real binary: the exit code of every failure
// class the README's table names, the messages, and what is left on disk. Archives come from
// tests/tools/make_dataset_archives.py, served by tests/tools/http_server.py (HTTP, and HTTPS
// with a CA made here by the openssl tool) on loopback ports.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "test_support.h"
#include "tools/http_server.h"

namespace fs = std::filesystem;

namespace {

using msinet::testing::HttpServer;
using msinet::testing::listing;
using msinet::testing::run_msinet;
using msinet::testing::TempDir;

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class CliDownload : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::unsetenv("MSINET_MIRROR");
    ::unsetenv("CURL_CA_BUNDLE");
    dir_ = std::make_unique<TempDir>("cli-download");
    const auto r = msinet::testing::run_command(
        {"/usr/bin/python3",
         std::string(MSINET_SOURCE_DIR) + "/tests/tools/make_dataset_archives.py", "archives",
         (dir_->path() / "fixtures").string()});
    ASSERT_EQ(r.status, 0) << "making the test archives failed";
    server_ = std::make_unique<HttpServer>(dir_->path() / "fixtures" / "mirror");
    if (fs::exists("/usr/bin/openssl")) {
      certs_ = msinet::testing::make_test_certificates(dir_->path() / "certs");
      tls_server_ = std::make_unique<HttpServer>(dir_->path() / "fixtures" / "mirror", fs::path(),
                                                 "form", &certs_);
    }
  }
  static void TearDownTestSuite() {
    tls_server_.reset();
    server_.reset();
    dir_.reset();
  }

  // A configuration file: the mirror and the `urls:` lines given.
  fs::path config(const std::string& mirror, const std::vector<std::string>& urls) const {
    const fs::path file = tmp_.path() / "config.yaml";
    std::ofstream out(file);
    out << "mirror: " << mirror << "\nthreads: 2\n";
    if (!urls.empty()) out << "urls:\n";
    for (const auto& u : urls) out << "  " << u << "\n";
    return file;
  }

  // `msinet download -d NAME -p data --config CFG`; returns the exit code, output in out_.
  int download(const std::string& name, const fs::path& cfg,
               const std::vector<std::string>& env = {}) {
    return run_msinet({"download", "-d", name, "-p", data().string(), "--config", cfg.string()},
                      tmp_.path(), &out_, env);
  }

  fs::path data() const { return tmp_.path() / "data"; }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::unique_ptr<HttpServer> server_;
  static inline std::unique_ptr<HttpServer> tls_server_;
  static inline msinet::testing::TestCertificates certs_;
  TempDir tmp_{"cli-download-run"};
  std::string out_;
};

TEST_F(CliDownload, HttpsServerIsTrustedOnlyWithItsCaFromCurlCaBundle) {
  if (!tls_server_) GTEST_SKIP() << "no /usr/bin/openssl to make the test certificates";
  const fs::path cfg =
      config(tls_server_->base(), {"osie.archive: https://example.org/osie-small.zip"});
  EXPECT_EQ(download("osie", cfg), 6) << out_;
  EXPECT_TRUE(has(out_, "TLS certificate verification failed")) << out_;
  EXPECT_TRUE(has(out_, "CURL_CA_BUNDLE=FILE.pem")) << out_;
  EXPECT_EQ(listing(data()), std::vector<std::string>{}) << out_;

  EXPECT_EQ(download("osie", cfg, {"CURL_CA_BUNDLE=" + certs_.ca.string()}), 0) << out_;
  EXPECT_TRUE(fs::exists(data() / "osie" / "stimuli" / "1001.jpg")) << out_;
  EXPECT_TRUE(fs::exists(data() / "osie" / "saliency" / "1003.png")) << out_;
}

TEST_F(CliDownload, FolderLinkInAnArchiveIsRefusedWithExitTen) {
  const fs::path cfg = config(server_->base(), {"osie.archive: https://example.org/osie-link.zip"});
  EXPECT_EQ(download("osie", cfg), 10) << out_;
  EXPECT_TRUE(has(out_, "data/stimuli' (a symbolic link)")) << out_;
  EXPECT_FALSE(fs::exists(data() / "osie"));
  EXPECT_FALSE(fs::exists(data() / "escaped-stimuli"));
  EXPECT_FALSE(fs::exists(tmp_.path() / "escaped-stimuli"));
  EXPECT_EQ(listing(data()),
            (std::vector<std::string>{"downloads/", "downloads/checksums.local.yaml"}));
}

TEST_F(CliDownload, DatasetThatFailsItsCheckIsNotInstalled) {
  const fs::path cfg =
      config(server_->base(), {"osie.archive: https://example.org/osie-unpaired.zip"});
  EXPECT_EQ(download("osie", cfg), 10) << out_;
  EXPECT_TRUE(has(out_,
                  "stimulus 'stimuli/1005.jpg' does not match saliency map "
                  "'saliency/1003.png'"))
      << out_;
  EXPECT_FALSE(fs::exists(data() / "osie"));
  // The archive is kept, so that it need not be fetched again to look at it.
  EXPECT_TRUE(
      fs::exists(data() / "downloads" / "osie-predicting-human-gaze-beyond-pixels-master.zip"));
}

TEST_F(CliDownload, BusyDatasetLockExitsSix) {
  fs::create_directories(data());
  const fs::path lock = data() / ".osie.lock";
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const fs::path cfg =
      config(server_->base(), {"osie.archive: https://example.org/osie-small.zip"});
  const int rc = download("osie", cfg);
  ::close(fd);
  EXPECT_EQ(rc, 6) << out_;
  EXPECT_TRUE(has(out_, "another msinet process is preparing osie")) << out_;
  EXPECT_FALSE(fs::exists(data() / "osie"));
  EXPECT_FALSE(fs::exists(data() / "downloads"));
}

TEST_F(CliDownload, DownloadOverTheSizeCapExitsSix) {
  // large.bin is 2 MiB and one byte; the cap is 2 MiB.
  const fs::path cfg = config(server_->base(), {"osie.archive: https://example.org/large.bin"});
  EXPECT_EQ(download("osie", cfg, {"MSINET_MAX_DOWNLOAD_MB=2"}), 6) << out_;
  EXPECT_TRUE(has(out_, "2097153 bytes, over the limit of 2097152 bytes")) << out_;
  EXPECT_TRUE(has(out_, "max_download_mb")) << out_;
  EXPECT_EQ(listing(data()), std::vector<std::string>{}) << out_;
}

TEST_F(CliDownload, FailedDownloadLeavesNoLockAndNoEmptyDownloadsFolder) {
  const fs::path cfg = config(server_->base(), {"osie.archive: https://example.org/absent.zip"});
  EXPECT_EQ(download("osie", cfg), 6) << out_;
  EXPECT_TRUE(has(out_, "HTTP 404")) << out_;
  EXPECT_EQ(listing(data()), std::vector<std::string>{}) << out_;
}

TEST_F(CliDownload, UnknownUrlsKeyExitsThree) {
  const fs::path cfg = config(server_->base(), {"osie.archiv: https://example.org/osie-small.zip"});
  EXPECT_EQ(download("osie", cfg), 3) << out_;
  EXPECT_TRUE(has(out_, "unknown download source 'urls: osie.archiv'")) << out_;
  EXPECT_EQ(listing(data()), std::vector<std::string>{}) << out_;
}

TEST_F(CliDownload, MatFileErrorNamesTheArchiveInDownloads) {
  const fs::path cfg =
      config(server_->base(), {"dutomron.fixations: https://example.org/dut-bad-fixations.zip"});
  EXPECT_EQ(download("dutomron", cfg), 10) << out_;
  const fs::path archive = data() / "downloads" / "dutomron-DUT-OMRON-eye-fixations.zip";
  EXPECT_TRUE(has(out_, "MAT file 'im005.mat' from archive '" + archive.string() + "'")) << out_;
  EXPECT_TRUE(fs::exists(archive));
  EXPECT_FALSE(has(out_, ".tmp-")) << out_;
}

TEST_F(CliDownload, DatasetFileIsNoDownloadSource) {
  EXPECT_EQ(run_msinet({"download", "-d", "mine.yaml", "-p", data().string()}, tmp_.path(), &out_),
            2)
      << out_;
  EXPECT_TRUE(has(out_,
                  "'mine.yaml' is a dataset file: msinet download prepares the built-in "
                  "datasets"))
      << out_;
  EXPECT_FALSE(fs::exists(data()));
}

// Dataset files are read before anything else happens, so `train` fails at once.
class CliDatasetFile : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(tmp_.path() / "images");
    fs::create_directories(tmp_.path() / "maps");
  }
  int train(const std::string& yaml_text) {
    const fs::path file = tmp_.path() / "mydata.yaml";
    std::ofstream(file) << yaml_text;
    return run_msinet(
        {"train", "-d", file.string(), "--results-dir", (tmp_.path() / "results").string()},
        tmp_.path(), &out_);
  }
  TempDir tmp_{"cli-dataset-file"};
  std::string out_;
};

TEST_F(CliDatasetFile, BadYamlUnknownKeyAndBadValueExitThree) {
  EXPECT_EQ(train("stimuli: [images\n"), 3) << out_;
  EXPECT_TRUE(has(out_, "is not valid YAML")) << out_;
  EXPECT_EQ(train("stimuli: images\nsaliency: maps\nsize: 64x64\nshufle: true\n"), 3) << out_;
  EXPECT_TRUE(has(out_, "key 'shufle': unknown key")) << out_;
  EXPECT_EQ(train("stimuli: images\nsaliency: maps\nsize: 60x64\n"), 3) << out_;
  EXPECT_TRUE(has(out_, "multiples of 8")) << out_;
  EXPECT_FALSE(fs::exists(tmp_.path() / "results"));
}

TEST_F(CliDatasetFile, MissingStimuliFolderExitsFour) {
  EXPECT_EQ(train("stimuli: pictures\nsaliency: maps\nsize: 64x64\n"), 4) << out_;
  EXPECT_TRUE(has(
      out_, "key 'stimuli': folder '" + (tmp_.path() / "pictures").string() + "' does not exist"))
      << out_;
}

}  // namespace
