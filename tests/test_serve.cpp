// `msinet serve` through the real binary: the maps it answers are those `msinet test` writes,
// concurrent requests are batched and all answered, every bad request gets its 4xx, a slow
// client is cut off, a full queue says 503, SIGTERM answers the request in flight, and /metrics
// is Prometheus text.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <regex>
#include <set>
#include <thread>

#include "msinet/bench/bench.h"
#include "test_support.h"
#include "tools/synthetic_photo.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using Clock = std::chrono::steady_clock;

// A `msinet serve` process on a free port, stopped (SIGTERM, then SIGKILL) at destruction.
class Server {
 public:
  Server(const fs::path& weights, const fs::path& dir, std::vector<std::string> extra,
         const std::vector<std::string>& env = {}) {
    std::vector<std::string> args = {testing::msinet_binary(),
                                     "serve",
                                     "--weights",
                                     weights.string(),
                                     "--port",
                                     "0",
                                     "--size",
                                     "48x64"};
    args.insert(args.end(), extra.begin(), extra.end());
    process_ = std::make_unique<testing::Process>(args, dir, env);
    const std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)/");
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline) {
      std::smatch m;
      const std::string log = process_->output();
      if (std::regex_search(log, m, listening)) {
        port_ = std::stoi(m[1]);
        return;
      }
      if (log.find("error:") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "the server did not start:\n" << process_->output();
  }
  ~Server() {
    if (!process_) return;
    process_->signal(SIGTERM);
    process_->wait();
  }
  int port() const { return port_; }
  testing::Process& process() { return *process_; }
  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_read_timeout(60);
    c->set_write_timeout(60);
    return c;
  }
  // Waits for the process to end and returns its exit code.
  int wait() {
    const int rc = process_->wait();
    return rc;
  }

 private:
  std::unique_ptr<testing::Process> process_;
  int port_ = 0;
};

std::string encoded(const cv::Mat& bgr, const std::string& ext) {
  std::vector<uchar> buf;
  EXPECT_TRUE(cv::imencode(ext, bgr, buf));
  return std::string(buf.begin(), buf.end());
}

cv::Mat decoded(const std::string& bytes, int flags = cv::IMREAD_UNCHANGED) {
  const std::vector<uchar> buf(bytes.begin(), bytes.end());
  return cv::imdecode(buf, flags);
}

int max_difference(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return 256;
  double m = 0;
  cv::minMaxLoc(cv::abs(a - b), nullptr, &m);
  return static_cast<int>(m);
}

// One value of a metric line `name{labels} value` (exact name and labels), -1 when absent.
double metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(fs::exists(testing::msinet_binary())) << "build the msinet target first";
    dir_ = new TempDir("serve");
    fixture_ = new fs::path(make_fixture());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete fixture_;
    delete dir_;
  }
  // Random weights, two images and what `msinet test` writes for them at 48x64, made once per
  // build of msinet and shared by the test processes (ctest runs each test in its own).
  static fs::path make_fixture() {
    const fs::path bin = testing::msinet_binary();
    const fs::path root = fs::path(MSINET_BINARY_DIR) / "test-tmp";
    const std::string stamp = std::to_string(fs::last_write_time(bin).time_since_epoch().count()) +
                              "-" + std::to_string(fs::file_size(bin));
    const fs::path dir = root / ("serve-fixture-" + stamp);
    if (fs::exists(dir / "complete")) return dir;
    const fs::path tmp = dir.string() + ".tmp-" + std::to_string(::getpid());
    fs::create_directories(tmp / "images");
    bench::write_random_weights(tmp / "w.msinet", /*seed=*/5);
    cv::RNG rng(11);
    cv::Point c;
    EXPECT_TRUE(cv::imwrite((tmp / "images" / "a.png").string(),
                            testing::synthetic_photo(40, 56, rng, &c)));
    EXPECT_TRUE(cv::imwrite((tmp / "images" / "b.jpg").string(),
                            testing::synthetic_photo(75, 50, rng, &c)));
    for (const std::string format : {"png", "npy"}) {
      std::string log;
      EXPECT_EQ(testing::run_msinet({"test", "--weights", (tmp / "w.msinet").string(), "--size",
                                     "48x64", "-p", (tmp / "images").string(), "-o",
                                     (tmp / "expected").string(), "--format", format, "--overlay"},
                                    tmp, &log),
                0)
          << log;
    }
    std::string log;
    EXPECT_EQ(
        testing::run_msinet({"test", "--weights", (tmp / "w.msinet").string(), "--size", "48x64",
                             "-p", (tmp / "images").string(), "-o", (tmp / "styled").string(),
                             "--overlay", "--colormap", "jet", "--alpha", "0.5", "--colorbar"},
                            tmp, &log),
        0)
        << log;
    std::ofstream(tmp / "complete") << stamp << "\n";
    std::error_code ec;
    fs::rename(tmp, dir, ec);  // another test process may have been first: use its fixture
    fs::remove_all(tmp, ec);
    for (const auto& e : fs::directory_iterator(root, ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("serve-fixture-", 0) == 0 && e.path() != dir &&
          name.find(".tmp-") == std::string::npos) {
        fs::remove_all(e.path(), ec);  // of an earlier build
      }
    }
    return dir;
  }
  // The server most tests share: batching on, small limits so that they are quick to reach.
  static Server& server() {
    static std::mutex starting;
    const std::lock_guard<std::mutex> lock(starting);
    if (!server_) {
      server_ = new Server(weights(), dir_->path(),
                           {"--batch-size", "8", "--batch-wait-ms", "30", "--max-body-mb", "1",
                            "--read-timeout", "2", "--keep-alive-timeout", "2"},
                           {"MSINET_MAX_IMAGE_MEGAPIXELS=1"});
    }
    return *server_;
  }
  static fs::path weights() { return *fixture_ / "w.msinet"; }
  static fs::path image(int i) { return *fixture_ / "images" / (i == 0 ? "a.png" : "b.jpg"); }
  static std::string body(int i) { return testing::read_file_bytes(image(i)); }
  static std::string expected(int i, const std::string& suffix) {
    return testing::read_file_bytes(*fixture_ / "expected" / (image(i).stem().string() + suffix));
  }
  static httplib::Result post(httplib::Client& c, const std::string& query,
                              const std::string& data) {
    return c.Post(("/v1/saliency" + query).c_str(), data, "application/octet-stream");
  }

  static TempDir* dir_;       // logs of the processes
  static fs::path* fixture_;  // make_fixture()
  static Server* server_;
};
TempDir* ServeTest::dir_ = nullptr;
fs::path* ServeTest::fixture_ = nullptr;
Server* ServeTest::server_ = nullptr;

TEST_F(ServeTest, MapsAreThoseTestWrites) {
  auto c = server().client();
  for (int i = 0; i < 2; ++i) {
    auto png = post(*c, "", body(i));
    ASSERT_TRUE(png);
    ASSERT_EQ(png->status, 200) << png->body;
    EXPECT_EQ(png->get_header_value("Content-Type"), "image/png");
    EXPECT_TRUE(png->has_header("X-Msinet-Latency-Ms"));
    EXPECT_EQ(png->get_header_value("X-Msinet-Batch-Size"), "1");
    const cv::Mat want = decoded(expected(i, ".png"));
    const cv::Mat got = decoded(png->body);
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(got.size(), want.size());
    EXPECT_EQ(max_difference(got, want), 0) << "image " << i;

    auto npy = post(*c, "?format=npy&size=48x64", body(i));
    ASSERT_TRUE(npy);
    ASSERT_EQ(npy->status, 200) << npy->body;
    EXPECT_EQ(npy->body, expected(i, ".npy")) << "image " << i;

    auto overlay = post(*c, "?overlay=1", body(i));
    ASSERT_TRUE(overlay);
    ASSERT_EQ(overlay->status, 200) << overlay->body;
    EXPECT_EQ(overlay->get_header_value("Content-Type"), "image/jpeg");
    EXPECT_EQ(max_difference(decoded(overlay->body), decoded(expected(i, "_overlay.jpeg"))), 0);
    auto styled = post(*c, "?overlay=1&colormap=jet&alpha=0.5&colorbar=1", body(i));
    ASSERT_TRUE(styled);
    ASSERT_EQ(styled->status, 200) << styled->body;
    const std::string stem = image(i).stem().string();
    EXPECT_EQ(max_difference(decoded(styled->body),
                             decoded(testing::read_file_bytes(*fixture_ / "styled" /
                                                              (stem + "_overlay.jpeg")))),
              0)
        << "the overlay of test --colormap jet --alpha 0.5 --colorbar";

    auto json = post(*c, "?format=json", body(i));
    ASSERT_TRUE(json);
    ASSERT_EQ(json->status, 200) << json->body;
    const nlohmann::json j = nlohmann::json::parse(json->body);
    ASSERT_EQ(j["height"].get<int>(), want.rows);
    ASSERT_EQ(j["width"].get<int>(), want.cols);
    const auto values = j["map"].get<std::vector<int>>();
    ASSERT_EQ(values.size(), want.total());
    int wrong = 0;
    for (int y = 0; y < want.rows; ++y) {
      for (int x = 0; x < want.cols; ++x)
        wrong += values[y * want.cols + x] != want.at<uchar>(y, x);
    }
    EXPECT_EQ(wrong, 0);
  }
  // A body labelled as a form (curl's default) is still the image, even over 8 KiB.
  cv::RNG rng(2);
  cv::Point centre;
  const std::string large = encoded(testing::synthetic_photo(200, 300, rng, &centre), ".png");
  ASSERT_GT(large.size(), 8192u);
  auto form = c->Post("/v1/saliency", large, "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 200) << form->body;
  EXPECT_EQ(decoded(form->body).size(), cv::Size(300, 200));
  // Another input size gets a pipeline of its own.
  auto other = post(*c, "?size=96x128&format=jpeg", body(0));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200) << other->body;
  EXPECT_EQ(other->get_header_value("X-Msinet-Input-Size"), "96x128");
  EXPECT_EQ(decoded(other->body).size(), decoded(expected(0, ".png")).size());
}

TEST_F(ServeTest, ConcurrentRequestsAreBatchedAndAllAnswered) {
  const cv::Mat want[2] = {decoded(expected(0, ".png")), decoded(expected(1, ".png"))};
  const std::string bodies[2] = {body(0), body(1)};
  std::atomic<int> ok{0}, close{0}, batched{0};
  std::mutex failed_mutex;
  std::vector<std::string> failed;  // what each request that was not answered 200 got instead
  std::vector<std::thread> clients;
  for (int t = 0; t < 16; ++t) {
    clients.emplace_back([&, t] {
      auto c = server().client();
      for (int r = 0; r < 4; ++r) {
        const int i = (t + r) % 2;
        auto res = post(*c, "", bodies[i]);
        if (!res || res->status != 200) {
          const std::lock_guard<std::mutex> lock(failed_mutex);
          failed.push_back(res ? std::to_string(res->status) + " " + res->body
                               : "no answer: " + httplib::to_string(res.error()));
          continue;
        }
        ++ok;
        // Batched forward passes may round differently from single ones, by one level at most.
        close += max_difference(decoded(res->body), want[i]) <= 1;
        batched += std::stoi(res->get_header_value("X-Msinet-Batch-Size")) > 1;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok, 64) << ::testing::PrintToString(failed);
  EXPECT_EQ(close, 64);
  EXPECT_GT(batched, 0);
  auto m = server().client()->Get("/metrics");
  ASSERT_TRUE(m);
  const double count = metric(m->body, "msinet_batch_size_count");
  const double singles = metric(m->body, "msinet_batch_size_bucket{le=\"1\"}");
  EXPECT_GT(count, singles) << m->body;
}

TEST_F(ServeTest, BadRequestsGetTheirStatusAndSayWhy) {
  auto c = server().client();
  auto expect_error = [](const httplib::Result& r, int status, const std::string& says) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_NE(r->body.find(says), std::string::npos) << r->body;
  };
  expect_error(post(*c, "", std::string(2 << 20, 'x')), 413, "--max-body-mb");
  const cv::Mat big(1100, 1000, CV_8UC3, cv::Scalar(1, 2, 3));
  expect_error(post(*c, "", encoded(big, ".png")), 413, "max_image_megapixels");
  expect_error(post(*c, "", "not an image"), 400, "request body");
  const std::string jpeg = testing::read_file_bytes(image(1));
  expect_error(post(*c, "", jpeg.substr(0, jpeg.size() / 2)), 400, "request body");
  expect_error(post(*c, "", ""), 400, "empty");
  expect_error(post(*c, "?size=50x64", body(0)), 400, "multiple");
  expect_error(post(*c, "?size=big", body(0)), 400, "size");
  expect_error(post(*c, "?format=gif", body(0)), 400, "unknown format 'gif'");
  expect_error(post(*c, "?overlay=2", body(0)), 400, "overlay");
  expect_error(post(*c, "?overlay=1&format=npy", body(0)), 400, "overlay");
  expect_error(post(*c, "?colormap=jet", body(0)), 400, "add overlay=1");
  expect_error(post(*c, "?overlay=1&colormap=hot", body(0)), 400, "'hot'");
  expect_error(post(*c, "?overlay=1&alpha=0", body(0)), 400, "alpha must be a number in (0, 1]");
  expect_error(post(*c, "?overlay=1&alpha=x", body(0)), 400, "alpha");
  expect_error(post(*c, "?overlay=1&colorbar=yes", body(0)), 400, "colorbar must be 0 or 1");
  expect_error(post(*c, "?colour=red", body(0)), 400, "unknown query parameter 'colour'");
  for (const char* path : {"/nope", "/index.html", "/../CMakeLists.txt", "/%2e%2e/CMakeLists.txt",
                           "/app.js/../../CMakeLists.txt", "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
                           "/v1/saliency/x", "//app.js"}) {
    expect_error(c->Get(path), 404, "no such path");
  }
  auto get = c->Get("/v1/saliency");
  expect_error(get, 405, "use POST");
  EXPECT_EQ(get->get_header_value("Allow"), "POST");
  expect_error(c->Post("/", "x", "text/plain"), 405, "not allowed");
  expect_error(c->Delete("/healthz"), 405, "not allowed");
  expect_error(c->Put("/v1/models", "x", "text/plain"), 405, "not allowed");
  // The server still answers after all that.
  auto ok = post(*c, "", body(0));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServeTest, ThePageHealthAndModelRoutes) {
  auto c = server().client();
  const fs::path page = fs::path(MSINET_SOURCE_DIR) / "src" / "serve" / "page";
  const std::map<std::string, std::pair<std::string, std::string>> files = {
      {"/", {"index.html", "text/html; charset=utf-8"}},
      {"/app.js", {"app.js", "text/javascript; charset=utf-8"}},
      {"/app.css", {"app.css", "text/css; charset=utf-8"}}};
  for (const auto& [path, file] : files) {
    auto r = c->Get(path.c_str());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), file.second);
    EXPECT_EQ(r->body, testing::read_file_bytes(page / file.first)) << path;
  }
  auto health = c->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok");
  auto models = c->Get("/v1/models");
  ASSERT_TRUE(models);
  ASSERT_EQ(models->status, 200);
  const nlohmann::json j = nlohmann::json::parse(models->body);
  EXPECT_EQ(j["input_size"]["height"], 48);
  EXPECT_EQ(j["input_size"]["width"], 64);
  EXPECT_EQ(j["weights"], weights().string());
  EXPECT_EQ(j["device"], "cpu");
  EXPECT_EQ(j["precision"], "fp32");
  EXPECT_EQ(j["sizes"]["multiple_of"], 8);
}

TEST_F(ServeTest, MetricsAreValidPrometheusText) {
  auto c = server().client();
  const auto answered = post(*c, "", body(0));
  ASSERT_TRUE(answered);
  ASSERT_EQ(answered->status, 200) << answered->body;
  ASSERT_TRUE(c->Get("/nope"));
  auto r = c->Get("/metrics");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")"
      R"((,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})? ([-+]?([0-9.]+([eE][-+]?[0-9]+)?|Inf|NaN)))");
  const std::regex comment(R"(# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
  std::set<std::string> typed, helped;
  std::istringstream in(r->body);
  int samples = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, comment)) {
      (m[1] == "HELP" ? helped : typed).insert(m[2]);
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m, sample)) << "not a sample line: '" << line << "'";
    std::string family = m[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (!typed.count(family) && family.size() > s.size() &&
          family.compare(family.size() - s.size(), s.size(), s) == 0) {
        family = family.substr(0, family.size() - s.size());
      }
    }
    EXPECT_TRUE(typed.count(family) && helped.count(family)) << "no HELP/TYPE before " << line;
    ++samples;
  }
  EXPECT_GT(samples, 20);
  EXPECT_GE(metric(r->body, "msinet_requests_total{route=\"/v1/saliency\",code=\"200\"}"), 1);
  EXPECT_GE(metric(r->body, "msinet_requests_total{route=\"other\",code=\"404\"}"), 1);
  EXPECT_GE(metric(r->body, "msinet_request_errors_total{reason=\"not_found\"}"), 1);
  EXPECT_GE(metric(r->body, "msinet_request_duration_seconds_count"), 1);
  EXPECT_GE(metric(r->body, "msinet_request_duration_seconds_bucket{le=\"+Inf\"}"), 1);
  EXPECT_GE(metric(r->body, "msinet_request_duration_seconds_sum"), 0);
  EXPECT_EQ(metric(r->body, "msinet_queue_depth"), 0);
}

TEST_F(ServeTest, ASlowClientIsCutOffWhileOthersAreAnswered) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server().port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const timeval limit{15, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  const std::string head =
      "POST /v1/saliency HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\nabc";
  ASSERT_EQ(::send(fd, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
  const auto t0 = Clock::now();
  // Meanwhile others are answered.
  auto c = server().client();
  auto ok = post(*c, "", body(1));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  // The stalled one is dropped after --read-timeout (2 s): the read ends (EOF or reset).
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
  }
  const double waited = std::chrono::duration<double>(Clock::now() - t0).count();
  ::close(fd);
  EXPECT_TRUE(n == 0 || errno == ECONNRESET) << "recv: " << std::strerror(errno);
  EXPECT_GE(waited, 1.5);
  EXPECT_LT(waited, 10.0);
}

TEST_F(ServeTest, APortInUseExitsTwoBeforeLoadingTheWeights) {
  std::string log;
  const auto t0 = Clock::now();
  EXPECT_EQ(testing::run_msinet({"serve", "--weights", weights().string(), "--port",
                                 std::to_string(server().port())},
                                dir_->path(), &log),
            2)
      << log;
  EXPECT_NE(log.find("cannot listen on 127.0.0.1 port " + std::to_string(server().port())),
            std::string::npos)
      << log;
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 5.0);
}

// Servers of their own: a token, a queue of one, and a stop with a request in flight.
class ServeProcessTest : public ServeTest {};

TEST_F(ServeProcessTest, TheTokenGuardsTheApiOnlyAndAFullQueueSays503) {
  Server s(weights(), dir_->path(), {"--queue", "1", "--batch-size", "1"}, {"MSINET_TOKEN=s3cret"});
  auto c = s.client();
  auto none = post(*c, "", body(0));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  auto models = c->Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 401);
  c->set_bearer_token_auth("wrong");
  auto wrong = post(*c, "", body(0));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_NE(wrong->body.find("wrong token"), std::string::npos);
  c->set_bearer_token_auth("s3cret");
  auto right = post(*c, "", body(0));
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200) << right->body;
  auto health = s.client()->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  // A burst at a larger size with room for one request at a time.
  std::atomic<int> ok{0}, busy{0}, other{0};
  std::vector<std::thread> burst;
  for (int t = 0; t < 12; ++t) {
    burst.emplace_back([&] {
      auto bc = s.client();
      bc->set_bearer_token_auth("s3cret");
      auto r = post(*bc, "?size=240x320", body(1));
      if (r && r->status == 200) {
        ++ok;
      } else if (r && r->status == 503 && r->get_header_value("Retry-After") == "1" &&
                 r->body.find("--queue") != std::string::npos) {
        ++busy;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : burst) t.join();
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1);
  EXPECT_EQ(other, 0);
}

TEST_F(ServeProcessTest, SigtermAnswersTheRequestInFlightThenExitsZero) {
  Server s(weights(), dir_->path(), {"--batch-size", "8", "--batch-wait-ms", "3000"});
  std::atomic<int> status{0};
  std::string answer;
  std::thread client([&] {
    auto c = s.client();
    auto r = post(*c, "", body(0));
    if (r) {
      status = r->status;
      answer = r->body;
    }
  });
  // Wait until the request waits in its batch, then stop the server.
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  bool waiting = false;
  while (!waiting && Clock::now() < deadline) {
    auto r = s.client()->Get("/metrics");
    waiting = r && metric(r->body, "msinet_queue_depth") == 1;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(waiting);
  const auto t0 = Clock::now();
  s.process().signal(SIGTERM);
  client.join();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 2.5)
      << "a stop runs the partial batch at once";
  EXPECT_EQ(status, 200) << answer;
  EXPECT_EQ(max_difference(decoded(answer), decoded(expected(0, ".png"))), 0);
  EXPECT_EQ(s.wait(), 0) << s.process().output();
  EXPECT_NE(s.process().output().find("serve: stopped"), std::string::npos);
}

}  // namespace
}  // namespace msinet
