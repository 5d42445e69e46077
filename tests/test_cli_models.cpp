// `msinet models`: the table of published models, fetching through MSINET_MIRROR (served by
// tests/tools/http_server.py on loopback), verify finding damaged files, and a server that
// cannot be reached costing one request per source.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "msinet/checkpoint/tf_names.h"
#include "msinet/model/msinet.h"
#include "msinet/weights/writers.h"
#include "test_support.h"
#include "tools/http_server.h"
#include "tools/refused_port.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using testing::run_msinet;
using testing::TempDir;

// The Drive ids of reference-semantics.md section 6.
constexpr const char* kOsieCpuId = "1JD1tvAqZGxj_gEGmIfoxb9dTe5HOaHj1";
constexpr const char* kSaliconCpuId = "1Xy9C72pcA8DO4CY0rc6B7wsuE9L9DDZY";
constexpr const char* kVgg16Id = "1ff0va472Xs1bvidCwRlW3Ctf7Hbyyn7p";

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// The lines of `text` that start with `prefix`.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  }
  return out;
}

// The whitespace-separated fields of a line.
std::vector<std::string> fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

// The table row of `file` (fields: MODEL KIND FILE PRESENT SIZE SHA-256 SOURCE...).
std::vector<std::string> row_of(const std::string& out, const std::string& file) {
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    const auto f = fields(line);
    if (f.size() >= 6 && f[2] == file) return f;
  }
  return {};
}

class Models : public ::testing::Test {
 protected:
  fs::path dir() const { return tmp_.path(); }
  fs::path weights() const { return tmp_.path() / "weights"; }
  fs::path mirror() const { return tmp_.path() / "mirror"; }
  std::vector<std::string> with_weights(std::vector<std::string> args) const {
    args.insert(args.end(), {"--weights-dir", weights().string()});
    return args;
  }
  // A random MSI-Net as the published osie graph, zipped where the mirror serves the Drive id;
  // returns the graph's SHA-256 computed by Python.
  std::string serve_osie_model() {
    fs::create_directories(mirror() / "drive.google.com");
    torch::manual_seed(5);
    model::MSINet net;
    const fs::path pb = dir() / "model_osie_cpu.pb";
    weights::write_frozen_graph(pb, checkpoint::export_tf_weights(net));
    const auto r = testing::run_command(
        {"/usr/bin/python3", "-c",
         "import sys, zipfile\n"
         "with zipfile.ZipFile(sys.argv[1], 'w') as z: z.write(sys.argv[2], 'model_osie_cpu.pb')",
         (mirror() / "drive.google.com" / kOsieCpuId).string(), pb.string()});
    EXPECT_EQ(r.status, 0) << r.out;
    return testing::python_sha256(pb);
  }
  // Fetches osie through a mirror; returns the graph's SHA-256.
  std::string fetch_osie() {
    const std::string sha = serve_osie_model();
    testing::HttpServer server(mirror(), {}, "form");
    std::string out;
    EXPECT_EQ(run_msinet(with_weights({"models", "fetch", "osie"}), dir(), &out,
                         {"MSINET_MIRROR=" + server.base()}),
              0)
        << out;
    return sha;
  }
  TempDir tmp_{"models"};
};

TEST_F(Models, ListOnAnEmptyWeightsFolderShowsEveryModelAndItsSources) {
  std::string out;
  ASSERT_EQ(run_msinet(with_weights({"models"}), dir(), &out), 0) << out;
  for (const char* model :
       {"salicon", "mit1003", "cat2000", "dutomron", "pascals", "osie", "fiwi", "vgg16_hybrid"}) {
    EXPECT_FALSE(lines_starting(out, model).empty()) << model << "\n" << out;
  }
  const auto salicon = row_of(out, "model_salicon_cpu.pb");
  ASSERT_GE(salicon.size(), 9u) << out;
  EXPECT_EQ(salicon[1], "downloaded");
  EXPECT_EQ(salicon[3], "no");
  EXPECT_EQ(salicon[4], "-");
  EXPECT_EQ(salicon[5], "-");
  EXPECT_EQ(salicon[8], kSaliconCpuId);
  const auto imported = row_of(out, "salicon.msinet");
  ASSERT_GE(imported.size(), 4u) << out;
  EXPECT_EQ(imported[1], "imported");
  EXPECT_EQ(imported[3], "no");
  EXPECT_TRUE(contains(out,
                       "https://huggingface.co/alexanderkroner/MSI-Net/resolve/main/"
                       "saved_model.pb"))
      << out;
  EXPECT_TRUE(contains(out, "https://storage.googleapis.com/msi-net/model/very_low/model.json"))
      << out;
  const auto vgg = row_of(out, "vgg16_hybrid.ckpt.index");
  ASSERT_GE(vgg.size(), 9u) << out;
  EXPECT_EQ(vgg[8], kVgg16Id);
  // Nothing is present.
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    const auto f = fields(line);
    if (f.size() >= 4) {
      EXPECT_NE(f[3], "yes") << line;
    }
  }
}

TEST_F(Models, FetchThroughTheMirrorThenListShowsTheFilesAndTheirChecksum) {
  const std::string sha = fetch_osie();
  EXPECT_TRUE(fs::is_regular_file(weights() / "model_osie_cpu.pb"));
  EXPECT_TRUE(fs::is_regular_file(weights() / "osie.msinet"));
  std::string out;
  ASSERT_EQ(run_msinet(with_weights({"models", "list", "osie"}), dir(), &out), 0) << out;
  const auto pb = row_of(out, "model_osie_cpu.pb");
  ASSERT_GE(pb.size(), 7u) << out;
  EXPECT_EQ(pb[1], "downloaded");
  EXPECT_EQ(pb[3], "yes");
  // SIZE is two fields ("95.6 MiB"), then the SHA-256.
  const double mib = static_cast<double>(fs::file_size(weights() / "model_osie_cpu.pb")) / 1048576;
  EXPECT_EQ(pb[5], "MiB");
  EXPECT_NEAR(std::stod(pb[4]), mib, 0.051) << pb[4];
  EXPECT_EQ(pb[6], sha);
  const auto gpu = row_of(out, "model_osie_gpu.pb");
  ASSERT_GE(gpu.size(), 4u) << out;
  EXPECT_EQ(gpu[3], "no");
  const auto imported = row_of(out, "osie.msinet");
  ASSERT_GE(imported.size(), 4u) << out;
  EXPECT_EQ(imported[1], "imported");
  EXPECT_EQ(imported[3], "yes");
  EXPECT_TRUE(lines_starting(out, "salicon").empty()) << "only osie was asked for\n" << out;
}

TEST_F(Models, VerifyPassesOnFetchedFilesAndFindsACorruptedGraph) {
  fetch_osie();
  std::string out;
  ASSERT_EQ(run_msinet(with_weights({"models", "verify"}), dir(), &out), 0) << out;
  EXPECT_TRUE(contains(out, "ok   model_osie_cpu.pb: SHA-256 matches")) << out;
  EXPECT_TRUE(contains(out, "ok   osie.msinet")) << out;

  // One byte changed in the middle of the graph: the checksum no longer matches.
  const fs::path pb = weights() / "model_osie_cpu.pb";
  std::string bytes = testing::read_file_bytes(pb);
  ASSERT_GT(bytes.size(), 1000u);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
  std::ofstream(pb, std::ios::binary | std::ios::trunc) << bytes;
  const int rc = run_msinet(with_weights({"models", "verify", "osie"}), dir(), &out);
  EXPECT_EQ(rc, 10) << out;
  EXPECT_TRUE(contains(out, "BAD  model_osie_cpu.pb")) << out;
  EXPECT_TRUE(contains(out, pb.string())) << out;
  EXPECT_TRUE(contains(out, "msinet models fetch osie")) << out;
}

TEST_F(Models, VerifyFindsATruncatedImport) {
  fetch_osie();
  const fs::path ckpt = weights() / "osie.msinet";
  const std::string bytes = testing::read_file_bytes(ckpt);
  std::ofstream(ckpt, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  std::string out;
  EXPECT_EQ(run_msinet(with_weights({"models", "verify"}), dir(), &out), 5) << out;
  EXPECT_TRUE(contains(out, "BAD  osie.msinet")) << out;
  EXPECT_TRUE(contains(out, "ok   model_osie_cpu.pb")) << out;
}

TEST_F(Models, VerifyOfAModelThatIsNotHereSaysHowToFetchIt) {
  std::string out;
  EXPECT_EQ(run_msinet(with_weights({"models", "verify", "fiwi"}), dir(), &out), 5) << out;
  EXPECT_TRUE(contains(out, "msinet models fetch fiwi")) << out;
  // Everything, on an empty folder: nothing to check, nothing wrong.
  EXPECT_EQ(run_msinet(with_weights({"models", "verify"}), dir(), &out), 0) << out;
}

TEST_F(Models, UnknownModelIsAUsageError) {
  std::string out;
  EXPECT_EQ(run_msinet(with_weights({"models", "fetch", "imagenet"}), dir(), &out), 2) << out;
  EXPECT_TRUE(contains(out, "vgg16_hybrid")) << out;
  EXPECT_EQ(run_msinet(with_weights({"models", "fetch"}), dir(), &out), 2) << out;
}

TEST_F(Models, UnreachableServerCostsOneRequestPerSource) {
  const testing::RefusedPort refused;
  const std::string base = refused.base();
  std::string out;
  const int rc = run_msinet(with_weights({"models", "fetch", "salicon", "-v"}), dir(), &out,
                            {"MSINET_MIRROR=" + base});
  EXPECT_EQ(rc, 6) << out;
  // Three sources (the CPU and GPU graphs on Drive, the SavedModel on HuggingFace), one
  // request each.
  const auto requests = lines_starting(out, "debug: request ");
  ASSERT_EQ(requests.size(), 3u) << out;
  EXPECT_TRUE(contains(requests[0], base + "/drive.google.com/" + kSaliconCpuId)) << requests[0];
  EXPECT_TRUE(contains(requests[1], base + "/drive.google.com/1Th7fqVYx25ePMZz4LYsjNQWgAu8tJqwL"))
      << requests[1];
  EXPECT_TRUE(contains(requests[2], base + "/huggingface.co/")) << requests[2];
  for (const auto& r : requests) EXPECT_TRUE(contains(r, "request 1 for")) << r;
  EXPECT_FALSE(contains(out, "retrying")) << out;
  EXPECT_TRUE(contains(out, "Machines without internet")) << out;
  EXPECT_TRUE(contains(out, "msinet models fetch salicon")) << out;
  EXPECT_FALSE(fs::exists(weights() / "salicon.msinet"));
}

}  // namespace
}  // namespace msinet
