// Download on first use of the published weights, against tests/tools/http_server.py on a
// loopback port standing in for Google Drive and HuggingFace (MSINET_MIRROR layout).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <memory>
#include <regex>

#include "msinet/weights/proto_wire.h"
#include "msinet/weights/published.h"
#include "msinet/weights/readers.h"
#include "msinet/weights/writers.h"
#include "tools/http_server.h"
#include "tools/weights_test_util.h"

namespace {

namespace w = msinet::weights;
namespace fs = std::filesystem;
using msinet::testing::expect_error;
using msinet::testing::same_tensors;
using msinet::testing::slurp;

// The Drive ids of reference-semantics.md section 6.
constexpr const char* kSaliconCpu = "1Xy9C72pcA8DO4CY0rc6B7wsuE9L9DDZY";
constexpr const char* kSaliconGpu = "1Th7fqVYx25ePMZz4LYsjNQWgAu8tJqwL";
constexpr const char* kMit1003Cpu = "1jsESjYtsTvkMqKftA4rdstfB7mSYw5Ec";
constexpr const char* kMit1003Gpu = "1P_tWxBl3igZlzcHGp5H3T3kzsOskWeG6";
constexpr const char* kCat2000Cpu = "1XxaEx7xxD6rHasQTa-VY7T7eVpGhMxuV";
constexpr const char* kVgg16 = "1ff0va472Xs1bvidCwRlW3Ctf7Hbyyn7p";

// Small tensors under MSI-Net names (the check after download looks at names, not shapes).
w::NamedTensors small_msinet(float base) {
  w::NamedTensors t;
  t["conv1/conv1_1/kernel"] = w::FloatTensor{{1, 1, 3, 2}, {base, 1, 2, 3, 4, 5}};
  t["conv1/conv1_1/bias"] = w::FloatTensor{{2}, {base, -base}};
  t["decoder/conv4/bias"] = w::FloatTensor{{1}, {0.5f}};
  return t;
}

// A zip made by Python's zipfile: each (file, name inside the archive).
void make_zip(const fs::path& zip, const std::vector<std::pair<fs::path, std::string>>& members) {
  fs::create_directories(zip.parent_path());
  std::vector<std::string> argv = {
      "/usr/bin/python3", "-c",
      "import sys, zipfile\n"
      "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n"
      "    for i in range(2, len(sys.argv), 2): z.write(sys.argv[i], arcname=sys.argv[i + 1])\n",
      zip.string()};
  for (const auto& [file, name] : members) {
    argv.push_back(file.string());
    argv.push_back(name);
  }
  ASSERT_EQ(msinet::testing::run_command(argv).status, 0);
}

class WeightsPublished : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<msinet::testing::ScratchFolder>("weights-published");
    root_ = tmp_->path() / "root";
    fs::create_directories(root_);
    log_ = tmp_->path() / "requests.log";
    server_ = std::make_unique<msinet::testing::HttpServer>(root_, log_, "form");
    weights_ = tmp_->path() / "weights";
    options_.mirror = server_->base();
    options_.retries = 0;
    options_.backoff_s = 0.01;
    options_.progress = false;
  }
  void TearDown() override {
    server_.reset();
    tmp_.reset();
  }

  // Serves a zip holding `file` (named `name` inside) as the Drive file `id`.
  void serve_zip(const std::string& id, const fs::path& file, const std::string& name) {
    make_zip(root_ / "drive.google.com" / id, {{file, name}});
  }

  size_t requests() const { return msinet::testing::read_log_lines(log_).size(); }

  // No scratch folders or archives left behind in the weights folder.
  void expect_clean_weights_dir() const {
    for (const auto& e : fs::directory_iterator(weights_)) {
      const std::string n = e.path().filename().string();
      EXPECT_EQ(n.find(".tmp"), std::string::npos) << n;
      EXPECT_NE(e.path().extension(), ".zip") << n;
      EXPECT_NE(e.path().extension(), ".part") << n;
    }
  }

  std::unique_ptr<msinet::testing::ScratchFolder> tmp_;
  std::unique_ptr<msinet::testing::HttpServer> server_;
  fs::path root_, log_, weights_;
  msinet::fetch::DownloadOptions options_;
};

TEST_F(WeightsPublished, RegistryMatchesTheReferenceDocument) {
  const std::string doc = slurp(fs::path(MSINET_SHARED_DIR) / "docs" / "reference-semantics.md");
  ASSERT_EQ(w::published_models().size(), 7u);
  for (const w::PublishedModel& m : w::published_models()) {
    const std::regex line(m.dataset + " `" + m.cpu_gdrive_id + "`[^`]*`" + m.gpu_gdrive_id + "`");
    EXPECT_TRUE(std::regex_search(doc, line)) << m.dataset;
  }
  EXPECT_NE(
      doc.find(std::string("`vgg16_hybrid` (TF checkpoint V2): `") + w::kVgg16HybridGdriveId + "`"),
      std::string::npos);
  for (const w::PublishedTfjsModel& t : w::published_tfjs_models()) {
    EXPECT_NE(doc.find(std::to_string(t.height) + "x" + std::to_string(t.width)), std::string::npos)
        << t.name;
    EXPECT_EQ(t.url, "https://storage.googleapis.com/msi-net/model/" + t.name + "/model.json");
  }
  EXPECT_EQ(w::gdrive_url("X"), "https://drive.google.com/uc?id=X&export=download");
  const std::string m =
      expect_error([] { w::published_model("imagenet"); }, msinet::ErrorCode::kConfig);
  EXPECT_NE(m.find("salicon, mit1003, cat2000, dutomron, pascals, osie, fiwi"), std::string::npos)
      << m;
}

TEST_F(WeightsPublished, FirstUseDownloadsThroughTheDriveFormAndReuses) {
  const w::NamedTensors t = small_msinet(0.25f);
  w::write_frozen_graph(tmp_->path() / "model_salicon_cpu.pb", t);
  serve_zip(kSaliconCpu, tmp_->path() / "model_salicon_cpu.pb", "model_salicon_cpu.pb");
  const fs::path got = w::ensure_published_model("salicon", weights_, options_);
  EXPECT_EQ(got, weights_ / "model_salicon_cpu.pb");
  EXPECT_TRUE(same_tensors(w::read_weights(got), t));
  expect_clean_weights_dir();
  // The confirmation page was answered: a page request, then the file request.
  const auto lines = msinet::testing::read_log_lines(log_);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_NE(lines.back().find("confirm"), std::string::npos) << lines.back();
  // Second use: nothing is fetched.
  const size_t before = requests();
  EXPECT_EQ(w::ensure_published_model("salicon", weights_, options_), got);
  EXPECT_EQ(requests(), before);
}

TEST_F(WeightsPublished, CookieConfirmationAndFolderInsideTheArchive) {
  const w::NamedTensors t = small_msinet(1.5f);
  w::write_frozen_graph(tmp_->path() / "m.pb", t);
  serve_zip(kCat2000Cpu, tmp_->path() / "m.pb", "weights/model_cat2000_cpu.pb");
  options_.mirror = server_->base() + "/_gd=href";
  const fs::path got = w::ensure_published_model("cat2000", weights_, options_);
  EXPECT_EQ(got, weights_ / "model_cat2000_cpu.pb");
  EXPECT_TRUE(same_tensors(w::read_weights(got), t));
}

// The mirror is a configuration key (MSINET_MIRROR reaches it through the configuration, tested
// through the binary in test_cli_published.cpp); the library itself reads no environment.
TEST_F(WeightsPublished, MirrorComesFromTheOptionsNotTheEnvironment) {
  const w::NamedTensors t = small_msinet(2.0f);
  w::write_frozen_graph(tmp_->path() / "m.pb", t);
  serve_zip(kSaliconCpu, tmp_->path() / "m.pb", "model_salicon_cpu.pb");
  ::setenv("MSINET_MIRROR", "http://127.0.0.1:1/nothing-here", 1);
  const fs::path got = w::ensure_published_model("salicon", weights_, options_);
  ::unsetenv("MSINET_MIRROR");
  EXPECT_TRUE(same_tensors(w::read_weights(got), t));
}

TEST_F(WeightsPublished, CorruptZipIsRefusedAndSaysWhereToPutTheFile) {
  msinet::testing::spit(root_ / "drive.google.com" / kMit1003Cpu, std::string(5000, 'z'));
  msinet::testing::spit(root_ / "drive.google.com" / kMit1003Gpu, "PK\x03\x04 not really a zip");
  const std::string m = expect_error(
      [&] { w::ensure_published_model("mit1003", weights_, options_); }, msinet::ErrorCode::kData);
  EXPECT_NE(m.find("https://drive.google.com/"
                   "uc?id=1jsESjYtsTvkMqKftA4rdstfB7mSYw5Ec&export=download by hand"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("model_mit1003_cpu.pb into '" + weights_.string()), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(weights_ / "model_mit1003_cpu.pb"));
  expect_clean_weights_dir();
  // Put there by hand, it is used without any download.
  const w::NamedTensors t = small_msinet(3.0f);
  w::write_frozen_graph(weights_ / "model_mit1003_cpu.pb", t);
  const size_t before = requests();
  EXPECT_TRUE(
      same_tensors(w::read_weights(w::ensure_published_model("mit1003", weights_, options_)), t));
  EXPECT_EQ(requests(), before);
}

TEST_F(WeightsPublished, ArchiveWithoutTheModelOrWithABrokenGraphIsRefused) {
  msinet::testing::spit(tmp_->path() / "readme.txt", "nothing here");
  serve_zip(kMit1003Cpu, tmp_->path() / "readme.txt", "readme.txt");
  const w::NamedTensors t = small_msinet(0.5f);
  w::write_frozen_graph(tmp_->path() / "g.pb", t);
  const std::string pb = slurp(tmp_->path() / "g.pb");
  msinet::testing::spit(tmp_->path() / "cut.pb", pb.substr(0, pb.size() - 10));
  serve_zip(kMit1003Gpu, tmp_->path() / "cut.pb", "model_mit1003_gpu.pb");
  const std::string m = expect_error(
      [&] { w::ensure_published_model("mit1003", weights_, options_); }, msinet::ErrorCode::kData);
  EXPECT_NE(m.find("holds none of the expected model_mit1003_cpu files"), std::string::npos) << m;
  EXPECT_NE(m.find("is corrupt"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(weights_ / "model_mit1003_gpu.pb"));
  expect_clean_weights_dir();
}

TEST_F(WeightsPublished, GpuFileWhenTheCpuFileIsMissing) {
  const w::NamedTensors t = small_msinet(4.0f);
  w::write_frozen_graph(tmp_->path() / "g.pb", t);
  serve_zip(kSaliconGpu, tmp_->path() / "g.pb", "model_salicon_gpu.pb");
  const fs::path got = w::ensure_published_model("salicon", weights_, options_);
  EXPECT_EQ(got, weights_ / "model_salicon_gpu.pb");
  EXPECT_TRUE(same_tensors(w::read_weights(got), t));
}

TEST_F(WeightsPublished, SaliconFallsBackToTheHuggingFaceSavedModel) {
  // A SavedModel (saved_model.proto: schema version 1, meta_graphs {graph_def}) around a GraphDef
  // of Consts, with the real MSI-Net variables bundle that holds only the object graph.
  const w::NamedTensors t = small_msinet(5.0f);
  w::write_frozen_graph(tmp_->path() / "g.pb", t);
  const std::string graph = slurp(tmp_->path() / "g.pb");
  std::string meta, saved;
  w::wire::put_varint_field(saved, 1, 1);
  w::wire::put_bytes_field(meta, 2, graph);
  w::wire::put_bytes_field(saved, 2, meta);
  const fs::path hf = root_ / "huggingface.co" / "alexanderkroner" / "MSI-Net" / "resolve" / "main";
  msinet::testing::spit(hf / "saved_model.pb", saved);
  msinet::testing::copy_tree(msinet::testing::tf_fixture("msi-net-hf/variables"), hf / "variables");
  const fs::path got = w::ensure_published_model("salicon", weights_, options_);
  EXPECT_EQ(got, weights_ / "msinet_salicon_savedmodel");
  EXPECT_TRUE(same_tensors(w::read_weights(got), t));
  expect_clean_weights_dir();
  const size_t before = requests();
  EXPECT_EQ(w::ensure_published_model("salicon", weights_, options_), got);
  EXPECT_EQ(requests(), before);
}

TEST_F(WeightsPublished, NothingReachableIsANetworkErrorWithManualSteps) {
  const std::string m =
      expect_error([&] { w::ensure_published_model("salicon", weights_, options_); },
                   msinet::ErrorCode::kNetwork);
  EXPECT_NE(m.find("model_salicon_cpu.pb into '" + weights_.string()), std::string::npos) << m;
  EXPECT_NE(m.find("https://huggingface.co/alexanderkroner/MSI-Net"), std::string::npos) << m;
  EXPECT_NE(m.find("MSINET_MIRROR"), std::string::npos) << m;
}

TEST_F(WeightsPublished, Vgg16CheckpointFromItsZip) {
  w::NamedTensors t;
  t["conv1_1/weights"] = w::FloatTensor{{3, 3, 3, 2}, std::vector<float>(54, 0.125f)};
  t["conv1_1/biases"] = w::FloatTensor{{2}, {1, 2}};
  t["fc6/weights"] = w::FloatTensor{{2, 2}, {1, 2, 3, 4}};
  w::write_checkpoint(tmp_->path() / "ck" / "vgg16_hybrid.ckpt", t);
  msinet::testing::spit(tmp_->path() / "ck" / "vgg16_hybrid.ckpt.meta", "graph");
  make_zip(root_ / "drive.google.com" / kVgg16,
           {{tmp_->path() / "ck" / "vgg16_hybrid.ckpt.index", "vgg16_hybrid.ckpt.index"},
            {tmp_->path() / "ck" / "vgg16_hybrid.ckpt.data-00000-of-00001",
             "vgg16_hybrid.ckpt.data-00000-of-00001"},
            {tmp_->path() / "ck" / "vgg16_hybrid.ckpt.meta", "vgg16_hybrid.ckpt.meta"}});
  const fs::path prefix = w::ensure_vgg16_checkpoint(weights_, options_);
  EXPECT_EQ(prefix, weights_ / "vgg16_hybrid.ckpt");
  EXPECT_TRUE(same_tensors(w::read_weights(prefix), t));
  EXPECT_FALSE(fs::exists(weights_ / "vgg16_hybrid.ckpt.meta"));
  expect_clean_weights_dir();
  const size_t before = requests();
  EXPECT_EQ(w::ensure_vgg16_checkpoint(weights_, options_), prefix);
  EXPECT_EQ(requests(), before);
}

TEST_F(WeightsPublished, Vgg16FailureSaysWhereToPutTheFiles) {
  const std::string m = expect_error([&] { w::ensure_vgg16_checkpoint(weights_, options_); },
                                     msinet::ErrorCode::kNetwork);
  EXPECT_NE(m.find("vgg16_hybrid.ckpt.index and vgg16_hybrid.ckpt.data-00000-of-00001 into '" +
                   weights_.string()),
            std::string::npos)
      << m;
  EXPECT_NE(m.find(kVgg16), std::string::npos) << m;
}

}  // namespace
