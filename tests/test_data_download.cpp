#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "msinet/fetch/checksums.h"
#include "msinet/fetch/download.h"
#include "msinet/fetch/drive_page.h"
#include "msinet/fetch/url.h"
#include "msinet/util/error.h"
#include "test_support.h"
#include "tools/http_server.h"
#include "tools/refused_port.h"

namespace fs = std::filesystem;
using msinet::Error;
using msinet::ErrorCode;
using msinet::fetch::DownloadOptions;
using msinet::fetch::Source;
using msinet::testing::thrown_error;

namespace {

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

// Deterministic incompressible-looking bytes.
std::string make_bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class Download : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/msinet_download_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "root");
    server_ = std::make_unique<msinet::testing::HttpServer>(dir_ / "root", dir_ / "requests.log");
  }
  static void TearDownTestSuite() {
    tls_server_.reset();
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    out_ = dir_ / "out" / name;
    fs::create_directories(out_);
  }

  // Puts `size` bytes at root/<rel> and returns their SHA-256 computed by Python.
  static std::string serve(const std::string& rel, size_t size, uint32_t seed = 7) {
    write_bytes(dir_ / "root" / rel, make_bytes(size, seed));
    return msinet::testing::python_sha256(dir_ / "root" / rel);
  }
  // Log lines of requests whose path ends with `suffix`.
  static std::vector<std::string> requests(const std::string& suffix) {
    std::vector<std::string> out;
    for (const auto& line : msinet::testing::read_log_lines(dir_ / "requests.log")) {
      if (contains(line, suffix + "\", \"query\"")) out.push_back(line);
    }
    return out;
  }
  static DownloadOptions fast(const std::string& mirror) {
    DownloadOptions o;
    o.mirror = mirror;
    o.retries = 3;
    o.backoff_s = 0.01;
    o.connect_timeout_s = 5;
    o.stall_timeout_s = 10;
    o.progress = false;
    return o;
  }

  // An HTTPS server on the same root, its certificate signed by a CA made here; null (the test
  // then skips, saying why) without the openssl tool.
  static msinet::testing::HttpServer* tls_server() {
    if (!tls_server_ && fs::exists("/usr/bin/openssl")) {
      certs_ = msinet::testing::make_test_certificates(dir_ / "certs");
      tls_server_ = std::make_unique<msinet::testing::HttpServer>(
          dir_ / "root", dir_ / "requests.log", "form", &certs_);
    }
    return tls_server_.get();
  }

  static inline fs::path dir_;
  static inline std::unique_ptr<msinet::testing::HttpServer> server_;
  static inline std::unique_ptr<msinet::testing::HttpServer> tls_server_;
  static inline msinet::testing::TestCertificates certs_;
  fs::path out_;
};

// ---------------------------------------------------------------------------------------------

TEST(ResolveUrl, WithoutMirrorUrlsAreUnchangedAndDriveIdsUseTheDownloadForm) {
  using msinet::fetch::resolve_url;
  EXPECT_EQ(
      resolve_url({"https://www.dropbox.com/s/30nxg2uwd1wpb80/webpage_dataset.zip?dl=1", ""}, ""),
      "https://www.dropbox.com/s/30nxg2uwd1wpb80/webpage_dataset.zip?dl=1");
  EXPECT_EQ(resolve_url({"", "1g8j-hTT-51IG1UFwP0xTGhLdgIUCW5e5"}, ""),
            "https://drive.google.com/uc?id=1g8j-hTT-51IG1UFwP0xTGhLdgIUCW5e5&export=download");
}

TEST(ResolveUrl, MirrorTakesHostAndPathAndDropsTheQuery) {
  using msinet::fetch::resolve_url;
  EXPECT_EQ(resolve_url({"https://github.com/NUS-VIP/predicting-human-gaze-beyond-pixels/archive/"
                         "master.zip",
                         ""},
                        "http://127.0.0.1:8000"),
            "http://127.0.0.1:8000/github.com/NUS-VIP/predicting-human-gaze-beyond-pixels/archive/"
            "master.zip");
  EXPECT_EQ(resolve_url({"https://www.dropbox.com/s/30nxg2uwd1wpb80/webpage_dataset.zip?dl=1", ""},
                        "https://mirror.example/data/"),
            "https://mirror.example/data/www.dropbox.com/s/30nxg2uwd1wpb80/webpage_dataset.zip");
  EXPECT_EQ(resolve_url({"http://saliency.mit.edu:80/trainSet.zip#x", ""}, "file:///srv/m"),
            "file:///srv/m/saliency.mit.edu/trainSet.zip");
  EXPECT_EQ(resolve_url({"", "1PnO7szbdub1559LfjYHMy65EDC4VhJC8"}, "http://m"),
            "http://m/drive.google.com/1PnO7szbdub1559LfjYHMy65EDC4VhJC8");
}

TEST(ResolveUrl, DriveUrlsAreRecognisedAsDriveIds) {
  using msinet::fetch::gdrive_id_of;
  using msinet::fetch::resolve_url;
  EXPECT_EQ(gdrive_id_of({"https://drive.google.com/uc?export=download&id=abc_-9", ""}), "abc_-9");
  EXPECT_EQ(gdrive_id_of({"https://drive.google.com/file/d/XYZ123/view?usp=sharing", ""}),
            "XYZ123");
  EXPECT_EQ(gdrive_id_of({"https://example.com/uc?id=abc", ""}), "");
  EXPECT_EQ(resolve_url({"https://drive.google.com/file/d/XYZ123/view", ""}, "http://m"),
            "http://m/drive.google.com/XYZ123");
}

TEST(ResolveUrl, BadInputIsAConfigErrorNamingIt) {
  using msinet::fetch::resolve_url;
  auto e = thrown_error([] { resolve_url({"", "../../etc"}, ""); });
  EXPECT_EQ(e.code(), ErrorCode::kConfig);
  EXPECT_TRUE(contains(e.what(), "'../../etc' is not a Google Drive file id")) << e.what();
  e = thrown_error([] { resolve_url({"https://a.b/c.zip", ""}, "ftp://mirror"); });
  EXPECT_EQ(e.code(), ErrorCode::kConfig);
  EXPECT_TRUE(contains(e.what(), "ftp://mirror")) << e.what();
  e = thrown_error([] { resolve_url({"", ""}, ""); });
  EXPECT_EQ(e.code(), ErrorCode::kConfig);
}

TEST(ResolveUrl, MirrorPathsAreNormalisedAndStayUnderTheHost) {
  using msinet::fetch::resolve_url;
  EXPECT_EQ(resolve_url({"https://a.example/x/../../etc/passwd", ""}, "http://m"),
            "http://m/a.example/etc/passwd");
  EXPECT_EQ(resolve_url({"https://Example.ORG/Files/A.zip", ""}, "http://m/"),
            "http://m/example.org/Files/A.zip");
  EXPECT_EQ(resolve_url({"https://u:p@h.example:8443/f.zip?x=1#y", ""}, "file:///m"),
            "file:///m/h.example/f.zip");
  auto e = thrown_error([] { resolve_url({"www.example.com/f.zip", ""}, "http://m"); });
  EXPECT_EQ(e.code(), ErrorCode::kConfig);
  EXPECT_TRUE(contains(e.what(), "cannot mirror 'www.example.com/f.zip'")) << e.what();
  e = thrown_error([] { resolve_url({"https://a.b/c.zip", ""}, "/srv/mirror"); });
  EXPECT_EQ(e.code(), ErrorCode::kConfig);
  EXPECT_TRUE(contains(e.what(), "mirror '/srv/mirror' is not an http://")) << e.what();
}

TEST(ResolveUrl, DriveHostsAreMatchedWithoutCase) {
  using msinet::fetch::gdrive_id_of;
  EXPECT_EQ(gdrive_id_of({"https://DRIVE.Google.com/open?id=Abc-1", ""}), "Abc-1");
  EXPECT_EQ(
      gdrive_id_of({"https://drive.usercontent.google.com/download?id=U1&export=download", ""}),
      "U1");
  EXPECT_EQ(gdrive_id_of({"https://docs.google.com/file/d/D2/edit", ""}), "D2");
  EXPECT_EQ(gdrive_id_of({"not a url", ""}), "");
  const auto e = thrown_error([] { gdrive_id_of({"https://docs.google.com/uc?id=bad.id", ""}); });
  EXPECT_EQ(e.code(), ErrorCode::kConfig);
  EXPECT_TRUE(contains(e.what(), "'bad.id' is not a Google Drive file id")) << e.what();
}

TEST(Url, ParseSplitsAbsoluteUrls) {
  using msinet::fetch::parse_url;
  const auto a = parse_url("HTTPS://User:pw@Example.ORG:8080/A/./b/../c.zip?x=1&id=Q#frag");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->scheme, "https");
  EXPECT_EQ(a->host, "example.org");
  EXPECT_EQ(a->path, "/A/c.zip");
  EXPECT_EQ(a->query, "x=1&id=Q");
  const auto f = parse_url("file:///srv/m");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->scheme, "file");
  EXPECT_EQ(f->host, "");
  EXPECT_EQ(f->path, "/srv/m");
  EXPECT_EQ(f->query, "");
  const auto v6 = parse_url("http://[::1]:8000");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->path, "/");
  EXPECT_FALSE(parse_url(""));
  EXPECT_FALSE(parse_url("/srv/mirror"));
  EXPECT_FALSE(parse_url("example.org/x"));
  EXPECT_FALSE(parse_url("https://a.b/a b"));
}

TEST(Url, QueryParamReturnsTheRawValue) {
  using msinet::fetch::query_param;
  EXPECT_EQ(query_param("export=download&id=abc&confirm=t", "id"), "abc");
  EXPECT_EQ(query_param("xid=1&id=2", "id"), "2");
  EXPECT_EQ(query_param("id=a%2Fb", "id"), "a%2Fb");
  EXPECT_EQ(query_param("a=1&b", "b"), "");
  EXPECT_EQ(query_param("", "id"), "");
}

TEST(Url, ReferencesResolveAgainstThePage) {
  using msinet::fetch::resolve_reference;
  const std::string page = "https://drive.google.com/uc?id=Y&export=download";
  EXPECT_EQ(resolve_reference("/uc?export=download&confirm=X&id=Y", page),
            "https://drive.google.com/uc?export=download&confirm=X&id=Y");
  EXPECT_EQ(resolve_reference("download", "http://127.0.0.1:8000/_gd=form/drive.google.com/ID"),
            "http://127.0.0.1:8000/_gd=form/drive.google.com/download");
  EXPECT_EQ(resolve_reference("//other.example/p", "https://a.b/x"), "https://other.example/p");
  EXPECT_EQ(resolve_reference("?confirm=t", "https://a.b/x/y?z=1"), "https://a.b/x/y?confirm=t");
  EXPECT_EQ(resolve_reference("../up", "https://a.b/x/y/z"), "https://a.b/x/up");
  EXPECT_EQ(resolve_reference("https://c.d/e", page), "https://c.d/e");
  EXPECT_EQ(resolve_reference("rel", "not a url"), "rel");
}

TEST(Url, AppendQueryEncodesNameAndValue) {
  using msinet::fetch::append_query;
  EXPECT_EQ(append_query("https://a.b/download", "id", "X_1"), "https://a.b/download?id=X_1");
  EXPECT_EQ(append_query("https://a.b/d?id=X", "uuid", "a b/&=~"),
            "https://a.b/d?id=X&uuid=a%20b%2F%26%3D~");
  EXPECT_EQ(append_query("https://a.b/d#top", "confirm", "t"), "https://a.b/d?confirm=t#top");
  EXPECT_EQ(append_query("not a url", "a", "b"), "not a url");
}

TEST(DrivePage, DownloadFormBecomesItsQuery) {
  const std::string html =
      "<html><body><form id=\"other\" action=\"/nope\"><input name=\"q\" value=\"1\"></form>"
      "<FORM ID='download-form' ACTION=\"https://drive.usercontent.google.com/download\" "
      "method=\"get\"><input type=\"hidden\" name=\"id\" value=\"ID1\">"
      "<input type=hidden name=export value=download><input type=\"hidden\" name=\"confirm\" "
      "value=\"t\"><input type=\"hidden\" name=\"uuid\" value=\"a&amp;b\">"
      "<input type=\"submit\" value=\"Download anyway\"></form></body></html>";
  EXPECT_EQ(msinet::fetch::drive_confirmation_url(
                html, "https://drive.google.com/uc?id=ID1&export=download"),
            "https://drive.usercontent.google.com/download?id=ID1&export=download&confirm=t&uuid="
            "a%26b");
}

TEST(DrivePage, ConfirmationLinkAndBareTokenAreFollowed) {
  const std::string page = "https://drive.google.com/uc?id=H&export=download";
  EXPECT_EQ(msinet::fetch::drive_confirmation_url(
                "<p>too large</p><a id=\"uc-download-link\" "
                "href=\"/uc?export=download&amp;confirm=Xk3_q9&amp;id=H\">Download anyway</a>",
                page),
            "https://drive.google.com/uc?export=download&confirm=Xk3_q9&id=H");
  EXPECT_EQ(msinet::fetch::drive_confirmation_url(
                "<script>location = 'x?confirm=AbC_9-x';</script>", page),
            "https://drive.google.com/uc?id=H&export=download&confirm=AbC_9-x");
}

TEST(DrivePage, PageWithoutConfirmationGivesNothing) {
  const std::string page = "https://drive.google.com/uc?id=Q&export=download";
  EXPECT_EQ(msinet::fetch::drive_confirmation_url("<html><body><p>Quota exceeded</p></body></html>",
                                                  page),
            "");
  EXPECT_EQ(msinet::fetch::drive_confirmation_url(
                "<!-- <form id=\"download-form\" action=\"/x\"><input name=\"a\" value=\"b\">"
                "</form> --><p>Sorry</p>",
                page),
            "");
  EXPECT_EQ(msinet::fetch::drive_confirmation_url("", page), "");
}

TEST(Sha256, KnownVectors) {
  char tmpl[] = "/tmp/msinet_sha_test_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  write_bytes(dir / "empty", "");
  write_bytes(dir / "abc", "abc");
  write_bytes(dir / "nist448", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  write_bytes(dir / "million", std::string(1000000, 'a'));
  using msinet::fetch::sha256_file;
  // FIPS 180-2 test vectors.
  EXPECT_EQ(sha256_file(dir / "empty"),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_file(dir / "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_file(dir / "nist448"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_file(dir / "million"),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  const auto e = thrown_error([&] { sha256_file(dir / "missing"); });
  EXPECT_EQ(e.code(), ErrorCode::kInput);
  EXPECT_TRUE(contains(e.what(), (dir / "missing").string())) << e.what();
  fs::remove_all(dir);
}

TEST(Checksums, RegistryHoldsTheOsieArchive) {
  const Source osie{
      "https://github.com/NUS-VIP/predicting-human-gaze-beyond-pixels/archive/"
      "master.zip",
      ""};
  EXPECT_EQ(msinet::fetch::known_sha256(osie),
            "74df311e2d0ac343ce28d844950b89c890920164563690719eb460ff63521218");
  EXPECT_EQ(msinet::fetch::known_sha256({"https://example.com/unknown.zip", ""}), "");
  EXPECT_EQ(msinet::fetch::checksum_key({"", "abc"}), "abc");
}

TEST(Checksums, MalformedRegistryIsAConfigError) {
  const auto e = thrown_error(
      [] { msinet::fetch::parse_checksums("\"https://a/b.zip\": 1234\n", "my.yaml"); });
  EXPECT_EQ(e.code(), ErrorCode::kConfig);
  EXPECT_TRUE(contains(e.what(), "my.yaml")) << e.what();
  EXPECT_TRUE(contains(e.what(), "https://a/b.zip")) << e.what();
  const auto ok = msinet::fetch::parse_checksums(
      "# comment\nid1: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n", "x");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok.at("id1"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// ---------------------------------------------------------------------------------------------

TEST_F(Download, ServedFileIsVerifiedAndRenamedIntoPlace) {
  const std::string sha = serve("example.org/plain/a.bin", 200000);
  auto o = fast(server_->base());
  o.expected_sha256 = sha;
  const fs::path dest = out_ / "a.bin";
  EXPECT_EQ(msinet::fetch::download({"https://example.org/plain/a.bin?token=1", ""}, dest, o), sha);
  EXPECT_EQ(read_bytes(dest), make_bytes(200000, 7));
  EXPECT_FALSE(fs::exists(out_ / "a.bin.part"));
  EXPECT_FALSE(fs::exists(out_ / msinet::fetch::kLocalChecksumsFile));
  // A second call finds the verified file and asks nothing of the server.
  const size_t before = requests("/example.org/plain/a.bin").size();
  EXPECT_EQ(msinet::fetch::download({"https://example.org/plain/a.bin", ""}, dest, o), sha);
  EXPECT_EQ(requests("/example.org/plain/a.bin").size(), before);
}

TEST_F(Download, ChecksumMismatchIsADataErrorAndLeavesNoFile) {
  serve("example.org/plain/b.bin", 5000);
  auto o = fast(server_->base());
  o.expected_sha256 = std::string(64, '0');
  const fs::path dest = out_ / "b.bin";
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/plain/b.bin", ""}, dest, o);
  });
  EXPECT_EQ(e.code(), ErrorCode::kData);
  EXPECT_TRUE(contains(e.what(), "SHA-256")) << e.what();
  EXPECT_TRUE(contains(e.what(), std::string(64, '0'))) << e.what();
  EXPECT_TRUE(contains(e.what(), server_->base() + "/example.org/plain/b.bin")) << e.what();
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_FALSE(fs::exists(out_ / "b.bin.part"));
}

TEST_F(Download, RegistryChecksumIsUsedWhenNoneIsGiven) {
  // Something other than the OSIE archive at its mirror path must be refused.
  serve("github.com/NUS-VIP/predicting-human-gaze-beyond-pixels/archive/master.zip", 1000);
  const fs::path dest = out_ / "osie.zip";
  const auto e = thrown_error([&] {
    msinet::fetch::download(
        {"https://github.com/NUS-VIP/predicting-human-gaze-beyond-pixels/archive/master.zip", ""},
        dest, fast(server_->base()));
  });
  EXPECT_EQ(e.code(), ErrorCode::kData);
  EXPECT_TRUE(
      contains(e.what(), "74df311e2d0ac343ce28d844950b89c890920164563690719eb460ff63521218"))
      << e.what();
  EXPECT_FALSE(fs::exists(dest));
}

TEST_F(Download, RealOsieArchiveMatchesTheRegistry) {
  const fs::path shared = fs::path(MSINET_SHARED_DIR) / "data" / "osie" /
                          "predicting-human-gaze-beyond-pixels-master.zip";
  if (!fs::exists(shared)) GTEST_SKIP() << "no " << shared;
  const fs::path link = dir_ / "root" / "osie-mirror" / "github.com" / "NUS-VIP" /
                        "predicting-human-gaze-beyond-pixels" / "archive" / "master.zip";
  fs::create_directories(link.parent_path());
  fs::create_symlink(fs::absolute(shared), link);
  const fs::path dest = out_ / "osie.zip";
  const std::string sha = msinet::fetch::download(
      {"https://github.com/NUS-VIP/predicting-human-gaze-beyond-pixels/archive/master.zip", ""},
      dest, fast(server_->base() + "/osie-mirror"));
  EXPECT_EQ(sha, "74df311e2d0ac343ce28d844950b89c890920164563690719eb460ff63521218");
  EXPECT_EQ(fs::file_size(dest), fs::file_size(shared));
  fs::remove(dest);
}

TEST_F(Download, UnknownChecksumIsRecordedBesideTheFile) {
  const std::string sha = serve("example.org/plain/c.bin", 3000);
  const fs::path dest = out_ / "c.bin";
  EXPECT_EQ(
      msinet::fetch::download({"https://example.org/plain/c.bin", ""}, dest, fast(server_->base())),
      sha);
  const auto record = msinet::fetch::read_local_checksums(out_ / "checksums.local.yaml");
  ASSERT_EQ(record.count("https://example.org/plain/c.bin"), 1u);
  EXPECT_EQ(record.at("https://example.org/plain/c.bin"), sha);
  // A second source is added; the first stays.
  const std::string sha2 = serve("example.org/plain/d.bin", 10, 9);
  msinet::fetch::download({"https://example.org/plain/d.bin", ""}, out_ / "d.bin",
                          fast(server_->base()));
  const auto record2 = msinet::fetch::read_local_checksums(out_ / "checksums.local.yaml");
  EXPECT_EQ(record2.size(), 2u);
  EXPECT_EQ(record2.at("https://example.org/plain/c.bin"), sha);
  EXPECT_EQ(record2.at("https://example.org/plain/d.bin"), sha2);
}

TEST_F(Download, ExistingFileWithAnotherChecksumIsRefused) {
  serve("example.org/plain/e.bin", 100);
  write_bytes(out_ / "e.bin", "something else");
  auto o = fast(server_->base());
  o.expected_sha256 = msinet::testing::python_sha256(dir_ / "root/example.org/plain/e.bin");
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/plain/e.bin", ""}, out_ / "e.bin", o);
  });
  EXPECT_EQ(e.code(), ErrorCode::kData);
  EXPECT_TRUE(contains(e.what(), (out_ / "e.bin").string() + "' exists")) << e.what();
  EXPECT_TRUE(contains(e.what(), "delete it")) << e.what();
}

TEST_F(Download, DroppedConnectionResumesWithRange) {
  const std::string sha = serve("example.org/drop/f.bin", 300000);
  auto o = fast(server_->base() + "/_drop=100000");
  o.expected_sha256 = sha;
  const fs::path dest = out_ / "f.bin";
  EXPECT_EQ(msinet::fetch::download({"https://example.org/drop/f.bin", ""}, dest, o), sha);
  EXPECT_EQ(read_bytes(dest), make_bytes(300000, 7));
  const auto lines = requests("/_drop=100000/example.org/drop/f.bin");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(contains(lines[0], "\"range\": null")) << lines[0];
  EXPECT_TRUE(contains(lines[1], "\"range\": \"bytes=100000-\"")) << lines[1];
  EXPECT_TRUE(contains(lines[1], "\"status\": 206")) << lines[1];
}

TEST_F(Download, PartialFileFromAnEarlierRunIsResumed) {
  const std::string sha = serve("example.org/resume/g.bin", 50000);
  write_bytes(out_ / "g.bin.part", make_bytes(50000, 7).substr(0, 12345));
  auto o = fast(server_->base());
  o.expected_sha256 = sha;
  EXPECT_EQ(msinet::fetch::download({"https://example.org/resume/g.bin", ""}, out_ / "g.bin", o),
            sha);
  const auto lines = requests("/example.org/resume/g.bin");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(contains(lines[0], "\"range\": \"bytes=12345-\"")) << lines[0];
  EXPECT_FALSE(fs::exists(out_ / "g.bin.part"));
}

TEST_F(Download, ServerIgnoringRangeRestartsCleanly) {
  const std::string sha = serve("example.org/norange/h.bin", 40000);
  write_bytes(out_ / "h.bin.part", "garbage that is not the start of the file");
  auto o = fast(server_->base() + "/_norange");
  o.expected_sha256 = sha;
  EXPECT_EQ(msinet::fetch::download({"https://example.org/norange/h.bin", ""}, out_ / "h.bin", o),
            sha);
  EXPECT_EQ(read_bytes(out_ / "h.bin"), make_bytes(40000, 7));
  const auto lines = requests("/_norange/example.org/norange/h.bin");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(contains(lines[0], "\"status\": 200")) << lines[0];
}

TEST_F(Download, CompletePartialFileIsVerifiedAfterA416) {
  const std::string sha = serve("example.org/full/i.bin", 4000);
  write_bytes(out_ / "i.bin.part", make_bytes(4000, 7));
  auto o = fast(server_->base());
  o.expected_sha256 = sha;
  EXPECT_EQ(msinet::fetch::download({"https://example.org/full/i.bin", ""}, out_ / "i.bin", o),
            sha);
  const auto lines = requests("/example.org/full/i.bin");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(contains(lines[0], "\"status\": 416")) << lines[0];
}

TEST_F(Download, NotFoundIsFinalAndNamesTheUrl) {
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/missing/j.bin", ""}, out_ / "j.bin",
                            fast(server_->base() + "/_status=404"));
  });
  EXPECT_EQ(e.code(), ErrorCode::kNetwork);
  EXPECT_TRUE(contains(e.what(), server_->base() + "/_status=404/example.org/missing/j.bin"))
      << e.what();
  EXPECT_TRUE(contains(e.what(), "HTTP 404 (not found); check that the mirror")) << e.what();
  EXPECT_EQ(requests("/_status=404/example.org/missing/j.bin").size(), 1u);
  EXPECT_FALSE(fs::exists(out_ / "j.bin"));
  EXPECT_FALSE(fs::exists(out_ / "j.bin.part"));
}

TEST_F(Download, ServerErrorsAreRetriedWithBackoff) {
  const std::string sha = serve("example.org/flaky/k.bin", 1000);
  auto o = fast(server_->base() + "/_fail=2");
  o.expected_sha256 = sha;
  EXPECT_EQ(msinet::fetch::download({"https://example.org/flaky/k.bin", ""}, out_ / "k.bin", o),
            sha);
  const auto lines = requests("/_fail=2/example.org/flaky/k.bin");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(contains(lines[0], "\"status\": 500"));
  EXPECT_TRUE(contains(lines[1], "\"status\": 500"));
  EXPECT_TRUE(contains(lines[2], "\"status\": 200"));
}

TEST_F(Download, PersistentServerErrorFailsAfterTheRetries) {
  auto o = fast(server_->base() + "/_status=500");
  o.retries = 2;
  o.backoff_s = 0.05;
  const auto start = std::chrono::steady_clock::now();
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/broken/l.bin", ""}, out_ / "l.bin", o);
  });
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(e.code(), ErrorCode::kNetwork);
  EXPECT_TRUE(contains(e.what(), "HTTP 500")) << e.what();
  EXPECT_TRUE(contains(e.what(), "after 3 attempts")) << e.what();
  EXPECT_TRUE(contains(e.what(), "/example.org/broken/l.bin")) << e.what();
  EXPECT_EQ(requests("/_status=500/example.org/broken/l.bin").size(), 3u);
  EXPECT_GE(secs, 0.05 + 0.1);  // waits of 0.05 s, then 0.1 s
}

TEST_F(Download, ServiceUnavailableIsRetried) {
  auto o = fast(server_->base() + "/_status=503");
  o.retries = 2;
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/busy/u.bin", ""}, out_ / "u.bin", o);
  });
  EXPECT_EQ(e.code(), ErrorCode::kNetwork);
  EXPECT_TRUE(contains(e.what(), "HTTP 503")) << e.what();
  // The first request and the two retries, all answered 503 by the server.
  const auto lines = requests("/_status=503/example.org/busy/u.bin");
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& line : lines) EXPECT_TRUE(contains(line, "\"status\": 503")) << line;
}

TEST_F(Download, RefusedConnectionIsNotRetried) {
  const msinet::testing::RefusedPort refused;
  const std::string base = refused.base();

  // Count the requests through the downloader's debug log.
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100);
  auto logger = std::make_shared<spdlog::logger>("refused", sink);
  logger->set_level(spdlog::level::debug);
  const auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  auto o = fast(base);
  o.retries = 3;
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/away/r.bin", ""}, out_ / "r.bin", o);
  });
  spdlog::set_default_logger(previous);
  EXPECT_EQ(e.code(), ErrorCode::kNetwork);
  EXPECT_TRUE(contains(e.what(), "not retried")) << e.what();
  EXPECT_TRUE(contains(e.what(), base + "/example.org/away/r.bin")) << e.what();
  int requests_made = 0;
  for (const std::string& line : sink->last_formatted()) {
    if (contains(line, "request ") && contains(line, "r.bin.part")) ++requests_made;
  }
  EXPECT_EQ(requests_made, 1);
  EXPECT_FALSE(fs::exists(out_ / "r.bin.part"));
}

TEST_F(Download, DriveConfirmationFormIsFollowed) {
  const std::string sha = serve("drive.google.com/FormId_123", 70000);
  auto o = fast(server_->base());
  o.expected_sha256 = sha;
  EXPECT_EQ(msinet::fetch::download({"", "FormId_123"}, out_ / "form.zip", o), sha);
  EXPECT_EQ(read_bytes(out_ / "form.zip"), make_bytes(70000, 7));
  ASSERT_EQ(requests("/drive.google.com/FormId_123").size(), 1u);
  const auto real = requests("/download");
  ASSERT_FALSE(real.empty());
  EXPECT_TRUE(contains(real.back(), "id=FormId_123&export=download&confirm=t&uuid=u-"))
      << real.back();
}

TEST_F(Download, DriveConfirmationLinkWithCookieIsFollowed) {
  const std::string sha = serve("drive.google.com/HrefId", 20000);
  auto o = fast(server_->base() + "/_gd=href");
  o.expected_sha256 = sha;
  EXPECT_EQ(msinet::fetch::download({"https://drive.google.com/uc?id=HrefId&export=download", ""},
                                    out_ / "href.zip", o),
            sha);
  const auto real = requests("/_gd=href/uc");
  ASSERT_EQ(real.size(), 1u);
  EXPECT_TRUE(contains(real[0], "confirm=Xk3_q9")) << real[0];
  EXPECT_TRUE(contains(real[0], "download_warning_HrefId=Xk3_q9")) << real[0];
  EXPECT_TRUE(contains(real[0], "\"status\": 200")) << real[0];
}

TEST_F(Download, DrivePageWithoutConfirmationIsAClearError) {
  serve("drive.google.com/QuotaId", 100);
  const fs::path dest = out_ / "quota.zip";
  const auto e = thrown_error([&] {
    msinet::fetch::download({"", "QuotaId"}, dest, fast(server_->base() + "/_gd=refuse"));
  });
  EXPECT_EQ(e.code(), ErrorCode::kNetwork);
  EXPECT_TRUE(contains(e.what(), "Google Drive refused the download of file id 'QuotaId'"))
      << e.what();
  EXPECT_TRUE(contains(e.what(), "put it at '" + dest.string() + "'")) << e.what();
  EXPECT_FALSE(fs::exists(dest));
}

TEST_F(Download, AnnouncedSizeOverTheCapIsRefusedBeforeDownloading) {
  serve("example.org/big/m.bin", 100000);
  auto o = fast(server_->base());
  o.max_bytes = 99999;
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/big/m.bin", ""}, out_ / "m.bin", o);
  });
  EXPECT_EQ(e.code(), ErrorCode::kNetwork);  // the download failed; the file is not corrupt
  EXPECT_TRUE(contains(e.what(), "100000 bytes, over the limit of 99999")) << e.what();
  EXPECT_EQ(requests("/example.org/big/m.bin").size(), 1u);
  EXPECT_FALSE(fs::exists(out_ / "m.bin"));
  EXPECT_FALSE(fs::exists(out_ / "m.bin.part"));
}

TEST_F(Download, StreamPastTheCapIsAborted) {
  serve("example.org/big/n.bin", 300000);
  auto o = fast(server_->base() + "/_nolength");
  o.max_bytes = 100000;
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/big/n.bin", ""}, out_ / "n.bin", o);
  });
  EXPECT_EQ(e.code(), ErrorCode::kNetwork);
  EXPECT_TRUE(contains(e.what(), "past the limit of 100000 bytes")) << e.what();
  EXPECT_FALSE(fs::exists(out_ / "n.bin"));
  EXPECT_FALSE(fs::exists(out_ / "n.bin.part"));
}

TEST_F(Download, StalledTransferTimesOutAndResumes) {
  const std::string sha = serve("example.org/stall/o.bin", 200000);
  auto o = fast(server_->base() + "/_stall=50000");
  o.stall_timeout_s = 1;
  o.expected_sha256 = sha;
  EXPECT_EQ(msinet::fetch::download({"https://example.org/stall/o.bin", ""}, out_ / "o.bin", o),
            sha);
  const auto lines = requests("/_stall=50000/example.org/stall/o.bin");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(contains(lines[1], "\"range\": \"bytes=50000-\"")) << lines[1];
}

TEST_F(Download, FileMirrorWorksAndResumes) {
  const std::string sha = serve("file-mirror/example.org/p.bin", 30000);
  write_bytes(out_ / "p.bin.part", make_bytes(30000, 7).substr(0, 1000));
  auto o = fast("file://" + (dir_ / "root" / "file-mirror").string());
  o.expected_sha256 = sha;
  EXPECT_EQ(msinet::fetch::download({"https://example.org/p.bin", ""}, out_ / "p.bin", o), sha);
  EXPECT_EQ(read_bytes(out_ / "p.bin"), make_bytes(30000, 7));
}

TEST_F(Download, MirrorComesFromTheOptionsAndNotTheEnvironment) {
  const std::string sha = serve("env.example/q.bin", 500);
  // A mirror in the environment that does not answer changes nothing.
  ::setenv("MSINET_MIRROR", "http://127.0.0.1:9/nowhere", 1);
  auto o = fast(server_->base());
  o.expected_sha256 = sha;
  EXPECT_EQ(msinet::fetch::download({"https://env.example/q.bin", ""}, out_ / "q.bin", o), sha);
  EXPECT_EQ(requests("/env.example/q.bin").size(), 1u);
  // Without a mirror in the options the source itself is fetched, whatever the environment says.
  ::setenv("MSINET_MIRROR", server_->base().c_str(), 1);
  const std::string sha2 = serve("env.example/q2.bin", 700, 3);
  auto direct = fast("");
  direct.expected_sha256 = sha2;
  EXPECT_EQ(msinet::fetch::download({"file://" + (dir_ / "root/env.example/q2.bin").string(), ""},
                                    out_ / "q2.bin", direct),
            sha2);
  ::unsetenv("MSINET_MIRROR");
  EXPECT_TRUE(requests("/env.example/q2.bin").empty());
}

TEST_F(Download, ConcurrentDownloadOfTheSameFileIsRefused) {
  serve("example.org/locked/r.bin", 100);
  write_bytes(out_ / "r.bin.part", "");
  const int fd = ::open((out_ / "r.bin.part").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/locked/r.bin", ""}, out_ / "r.bin",
                            fast(server_->base()));
  });
  ::close(fd);
  EXPECT_EQ(e.code(), ErrorCode::kNetwork);
  EXPECT_TRUE(contains(e.what(), "being downloaded by another process")) << e.what();
  EXPECT_TRUE(requests("/example.org/locked/r.bin").empty());
}

TEST_F(Download, TrickleOfBytesBetweenFailuresStopsAtTheAttemptLimit) {
  // Every request brings 100 more bytes and is then cut: each one progresses, so the retries
  // alone (which count requests that bring nothing) would go on until the file is complete.
  serve("example.org/trickle/s.bin", 10000);
  auto o = fast(server_->base() + "/_trickle=100");
  o.max_attempts = 5;
  const fs::path dest = out_ / "s.bin";
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/trickle/s.bin", ""}, dest, o);
  });
  EXPECT_EQ(e.code(), ErrorCode::kNetwork);
  EXPECT_TRUE(contains(e.what(), "gave up after 5 requests")) << e.what();
  EXPECT_TRUE(contains(e.what(), "run again later to resume")) << e.what();
  EXPECT_EQ(requests("/_trickle=100/example.org/trickle/s.bin").size(), 5u);
  EXPECT_FALSE(fs::exists(dest));
  // The 5 x 100 bytes are kept for the next run, which resumes at byte 500.
  EXPECT_EQ(read_bytes(out_ / "s.bin.part"), make_bytes(10000, 7).substr(0, 500));
}

TEST_F(Download, RedirectsAreFollowedUpToTheLimit) {
  const std::string sha = serve("example.org/moved/t.bin", 2000);
  auto o = fast(server_->base() + "/_redirect=3");
  o.max_redirects = 3;
  o.expected_sha256 = sha;
  EXPECT_EQ(msinet::fetch::download({"https://example.org/moved/t.bin", ""}, out_ / "t.bin", o),
            sha);
  EXPECT_EQ(read_bytes(out_ / "t.bin"), make_bytes(2000, 7));
  // One more redirect than allowed is a final error: no retries, nothing left behind.
  auto four = fast(server_->base() + "/_redirect=4");
  four.max_redirects = 3;
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/moved/t.bin", ""}, out_ / "t4.bin", four);
  });
  EXPECT_EQ(e.code(), ErrorCode::kNetwork);
  EXPECT_TRUE(contains(e.what(), "more than 3 redirects")) << e.what();
  EXPECT_EQ(requests("/_redirect=4/example.org/moved/t.bin").size(), 1u);
  EXPECT_FALSE(fs::exists(out_ / "t4.bin"));
  EXPECT_FALSE(fs::exists(out_ / "t4.bin.part"));
}

TEST_F(Download, RedirectLoopIsAClearError) {
  serve("example.org/loop/u.bin", 100);
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/loop/u.bin", ""}, out_ / "u.bin",
                            fast(server_->base() + "/_loop"));
  });
  EXPECT_EQ(e.code(), ErrorCode::kNetwork);
  EXPECT_TRUE(contains(e.what(), "more than 10 redirects (a redirect loop?)")) << e.what();
  EXPECT_TRUE(contains(e.what(), "/_loop/example.org/loop/u.bin")) << e.what();
  // The request and the 10 redirects allowed by default, once: a loop is not retried.
  EXPECT_EQ(requests("/_loop/example.org/loop/u.bin").size(), 11u);
}

TEST_F(Download, UntrustedCertificateIsRefusedSayingHowToGiveTheCa) {
  auto* tls = tls_server();
  if (tls == nullptr) GTEST_SKIP() << "no /usr/bin/openssl to make the test certificates";
  serve("example.org/tls/v.bin", 1000);
  const fs::path dest = out_ / "v.bin";
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/tls/v.bin", ""}, dest, fast(tls->base()));
  });
  EXPECT_EQ(e.code(), ErrorCode::kNetwork);
  EXPECT_TRUE(contains(e.what(), "TLS certificate verification failed")) << e.what();
  EXPECT_TRUE(contains(e.what(), "CURL_CA_BUNDLE=FILE.pem")) << e.what();
  EXPECT_TRUE(contains(e.what(), tls->base() + "/example.org/tls/v.bin")) << e.what();
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_FALSE(fs::exists(out_ / "v.bin.part"));
}

TEST_F(Download, CaFileMakesTheServerTrusted) {
  auto* tls = tls_server();
  if (tls == nullptr) GTEST_SKIP() << "no /usr/bin/openssl to make the test certificates";
  const std::string sha = serve("example.org/tls/w.bin", 30000);
  auto o = fast(tls->base());
  o.ca_file = certs_.ca.string();
  o.expected_sha256 = sha;
  EXPECT_EQ(msinet::fetch::download({"https://example.org/tls/w.bin", ""}, out_ / "w.bin", o), sha);
  // Another CA is no way around the check.
  const auto other = msinet::testing::make_test_certificates(out_ / "other");
  auto wrong = fast(tls->base());
  wrong.ca_file = other.ca.string();
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/tls/w.bin", ""}, out_ / "w2.bin", wrong);
  });
  EXPECT_EQ(e.code(), ErrorCode::kNetwork);
  EXPECT_TRUE(contains(e.what(), "check that the CA file '" + other.ca.string() + "'")) << e.what();
  EXPECT_FALSE(fs::exists(out_ / "w2.bin"));
  // A CA file that is not there is a configuration error, found before connecting.
  wrong.ca_file = (out_ / "missing.pem").string();
  const auto missing = thrown_error([&] {
    msinet::fetch::download({"https://example.org/tls/w.bin", ""}, out_ / "w3.bin", wrong);
  });
  EXPECT_EQ(missing.code(), ErrorCode::kConfig);
  EXPECT_TRUE(contains(missing.what(), "CA file '" + wrong.ca_file + "' (CURL_CA_BUNDLE)"))
      << missing.what();
}

TEST_F(Download, RedirectFromHttpsToHttpIsRefused) {
  auto* tls = tls_server();
  if (tls == nullptr) GTEST_SKIP() << "no /usr/bin/openssl to make the test certificates";
  serve("example.org/downgrade/x.bin", 1000);
  auto o = fast(tls->base() + "/_tohttp=" + std::to_string(server_->port()));
  o.ca_file = certs_.ca.string();
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/downgrade/x.bin", ""}, out_ / "x.bin", o);
  });
  EXPECT_EQ(e.code(), ErrorCode::kNetwork);
  EXPECT_TRUE(contains(e.what(), "redirected an https request to 'http://127.0.0.1:" +
                                     std::to_string(server_->port()) +
                                     "/example.org/downgrade/x.bin', which is not https"))
      << e.what();
  // The redirect was asked for once (not retried) and the plain-HTTP address never.
  EXPECT_EQ(requests("/example.org/downgrade/x.bin").size(), 1u);
  EXPECT_FALSE(fs::exists(out_ / "x.bin"));
  EXPECT_FALSE(fs::exists(out_ / "x.bin.part"));
}

TEST_F(Download, HttpsReachedThroughARedirectIsNotLeftForHttp) {
  auto* tls = tls_server();
  if (tls == nullptr) GTEST_SKIP() << "no /usr/bin/openssl to make the test certificates";
  serve("example.org/downgrade/y.bin", 1000);
  // http (the mirror) -> https (allowed) -> http (refused, though the source was http).
  const std::string http_port = std::to_string(server_->port());
  auto o =
      fast(server_->base() + "/_tohttps=" + std::to_string(tls->port()) + "/_tohttp=" + http_port);
  o.ca_file = certs_.ca.string();
  const auto e = thrown_error([&] {
    msinet::fetch::download({"https://example.org/downgrade/y.bin", ""}, out_ / "y.bin", o);
  });
  EXPECT_EQ(e.code(), ErrorCode::kNetwork);
  EXPECT_TRUE(contains(e.what(), "redirected an https request to 'http://127.0.0.1:" + http_port +
                                     "/example.org/downgrade/y.bin'"))
      << e.what();
  // The two redirects were asked for, the file at the plain-HTTP address never.
  EXPECT_EQ(requests("/_tohttp=" + http_port + "/example.org/downgrade/y.bin").size(), 2u);
  EXPECT_EQ(requests("/example.org/downgrade/y.bin").size(), 2u);
  EXPECT_FALSE(fs::exists(out_ / "y.bin"));
}

}  // namespace
