#include "msinet/serve/server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "msinet/data/image.h"
#include "msinet/pipeline/predictor.h"
#include "msinet/serve/answer.h"
#include "msinet/serve/assets.h"
#include "msinet/serve/metrics.h"
#include "msinet/serve/refused.h"

namespace msinet::serve {

namespace {

using Clock = std::chrono::steady_clock;
using Handler =
    std::function<void(const httplib::Request&, const std::string& body, httplib::Response&)>;

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string size_text(const util::Size& s) {
  return std::to_string(s.h) + "x" + std::to_string(s.w);
}

// Compares without stopping at the first difference, so the time taken does not tell how much
// of a guessed token was right.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

// A path as it may appear in an answer: at most 80 characters.
std::string shown(const std::string& path) {
  return path.size() <= 80 ? path : path.substr(0, 80) + "...";
}

void set_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", message}, {"status", status}}.dump() + "\n",
                  "application/json");
}

// One route: the methods it takes, whether it is behind the token, what it does.
struct Route {
  std::vector<std::string> methods;
  bool api = false;
  Handler handler;
};

class Service {
 public:
  Service(const ServeOptions& o, pipeline::Predictor& predictor)
      : o_(o), predictor_(predictor), batcher_(predictor, o.batching) {
    for (const char* path : {"/", "/app.js", "/app.css"}) {
      routes_[path] = {{"GET", "HEAD"}, false, [](const auto& req, const auto&, auto& res) {
                         const Asset* a = find_asset(req.path);
                         res.set_content(std::string(a->bytes), std::string(a->content_type));
                       }};
    }
    routes_["/healthz"] = {{"GET", "HEAD"}, false, [](const auto&, const auto&, auto& res) {
                             res.set_content("ok", "text/plain");
                           }};
    routes_["/metrics"] = {
        {"GET", "HEAD"}, false, [this](const auto&, const auto&, auto& res) {
          res.set_content(metrics_.render(batcher_.unanswered(),
                                          static_cast<int64_t>(batcher_.sizes_in_use().size())),
                          "text/plain; version=0.0.4");
        }};
    routes_["/v1/models"] = {
        {"GET", "HEAD"}, true, [this](const auto&, const auto&, auto& res) { models(res); }};
    routes_["/v1/saliency"] = {
        {"POST"}, true, [this](const auto& req, const auto& body, auto& res) {
          saliency(req, body, res);
        }};
  }

  // Every method of every path comes here, with the body (read by httplib, or by post() for
  // POST): exact paths only, so no request ever names a file.
  void dispatch(const httplib::Request& req, const std::string& body, httplib::Response& res) {
    const auto it = routes_.find(req.path);
    if (it == routes_.end()) {
      metrics_.count_error("not_found");
      set_error(res, 404,
                "no such path '" + shown(req.path) +
                    "': use GET /, /healthz, /metrics, /v1/models or POST /v1/saliency");
      return;
    }
    const Route& route = it->second;
    if (std::find(route.methods.begin(), route.methods.end(), req.method) == route.methods.end()) {
      std::string allow;
      for (const auto& m : route.methods) allow += (allow.empty() ? "" : ", ") + m;
      metrics_.count_error("method_not_allowed");
      res.set_header("Allow", allow);
      set_error(res, 405, req.method + " is not allowed on " + req.path + ": use " + allow);
      return;
    }
    if (route.api && !o_.token.empty() &&
        !same_secret(req.get_header_value("Authorization"), "Bearer " + o_.token)) {
      metrics_.count_error("unauthorized");
      res.set_header("WWW-Authenticate", "Bearer");
      set_error(res, 401,
                req.has_header("Authorization")
                    ? "wrong token: send the server's token as 'Authorization: Bearer TOKEN'"
                    : "this server needs a token: send 'Authorization: Bearer TOKEN'");
      return;
    }
    route.handler(req, body, res);
  }

  // POST bodies are read here, whatever their Content-Type says: httplib would parse a body
  // labelled as a form (curl's default) into parameters, and refuse one over 8 KiB.
  void post(const httplib::Request& req, httplib::Response& res,
            const httplib::ContentReader& reader) {
    if (req.is_multipart_form_data()) {
      metrics_.count_error("bad_request");
      res.set_header("Connection", "close");
      set_error(res, 415, "send the image's bytes as the request body, not as a multipart form");
      return;
    }
    std::string body;
    if (!reader([&body](const char* data, size_t n) {
          body.append(data, n);
          return true;
        })) {
      if (res.status < 400) res.status = 400;  // 413 when over --max-body-mb
      return;
    }
    dispatch(req, body, res);
  }

  // The label of a request in msinet_requests_total: its path when it is a route.
  std::string route_label(const std::string& path) const {
    return routes_.count(path) ? path : "other";
  }

  // Bodies for the answers httplib makes itself (413 for a large body, 400 for a bad request).
  httplib::Server::HandlerResponse error_body(const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 413) {
      metrics_.count_error("body_too_large");
      set_error(res, 413,
                "the request body is larger than " + std::to_string(o_.max_body_bytes >> 20) +
                    " MiB (--max-body-mb)");
    } else if (res.status == 404) {
      metrics_.count_error("not_found");
      set_error(res, 404, "no such path '" + shown(req.path) + "'");
    } else if (res.status >= 500) {
      metrics_.count_error("internal");
      set_error(res, res.status, "internal error");
    } else {
      metrics_.count_error("bad_request");
      set_error(res, res.status, "malformed HTTP request");
    }
    return httplib::Server::HandlerResponse::Handled;
  }

  Metrics& metrics() { return metrics_; }
  Batcher& batcher() { return batcher_; }

 private:
  void models(httplib::Response& res) {
    nlohmann::json j = {
        {"dataset", o_.dataset},
        {"input_size", {{"height", o_.size.h}, {"width", o_.size.w}}},
        {"weights", o_.weights.string()},
        {"device", predictor_.device_name()},
        {"precision", o_.network.precision},
        {"runtime", predictor_.describe()},
        {"sizes",
         {{"multiple_of", 8},
          {"max_side", util::kMaxSide},
          {"max_at_once", o_.batching.max_sizes},
          {"in_use", batcher_.sizes_in_use()}}},
        {"formats", {"png", "jpeg", "npy", "json"}},
        {"batch_size", o_.batching.batch_size},
        {"batch_wait_ms", o_.batching.batch_wait.count() / 1000.0},
        {"queue", o_.batching.queue},
        {"max_body_bytes", o_.max_body_bytes},
        {"max_image_pixels", data::max_image_pixels()},
    };
    res.set_content(j.dump(2) + "\n", "application/json");
  }

  void saliency(const httplib::Request& req, const std::string& body, httplib::Response& res) {
    const auto t0 = Clock::now();
    try {
      const std::multimap<std::string, std::string> params(req.params.begin(), req.params.end());
      const SaliencyQuery q = parse_saliency_query(params, o_.size);
      if (body.empty()) {
        throw Refused(400, "empty_body",
                      "the request body is empty: send the bytes of a JPEG or PNG image");
      }
      const data::Size2 dims = data::image_dimensions(body);
      const int64_t pixels = int64_t{dims.h} * dims.w;
      if (pixels > data::max_image_pixels()) {
        throw Refused(413, "too_many_pixels",
                      "the image is " + std::to_string(dims.h) + "x" + std::to_string(dims.w) +
                          " = " + std::to_string(pixels) + " pixels, more than the " +
                          std::to_string(data::max_image_pixels()) +
                          " this server takes (key max_image_megapixels)");
      }
      std::future<pipeline::Result> future = batcher_.submit(q.size, body);
      if (future.wait_for(std::chrono::seconds(o_.request_timeout_s)) !=
          std::future_status::ready) {
        throw Refused(503, "timeout",
                      "no map within " + std::to_string(o_.request_timeout_s) +
                          " s (--request-timeout): the server is busy; retry");
      }
      const pipeline::Result r = future.get();
      Answer a = encode_answer(r, q);
      const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      char latency[32];
      std::snprintf(latency, sizeof latency, "%.1f", seconds * 1000);
      res.set_header("X-Msinet-Latency-Ms", latency);
      res.set_header("X-Msinet-Batch-Size", std::to_string(r.batch_size));
      res.set_header("X-Msinet-Input-Size", size_text(q.size));
      res.set_content(std::move(a.body), a.content_type);
      metrics_.observe_latency(seconds);
      metrics_.observe_batch_size(r.batch_size);
    } catch (const Refused& e) {
      metrics_.count_error(e.reason());
      if (e.status() == 503) res.set_header("Retry-After", "1");
      set_error(res, e.status(), e.what());
    } catch (const Error& e) {
      const bool input = e.code() == ErrorCode::kInput;
      const bool memory = e.code() == ErrorCode::kOutOfMemory;
      metrics_.count_error(input ? "bad_image" : memory ? "out_of_memory" : "internal");
      if (memory) res.set_header("Retry-After", "1");
      set_error(res, input ? 400 : memory ? 503 : 500, e.what());
    } catch (const std::exception& e) {
      metrics_.count_error("internal");
      spdlog::error("serve: {}", e.what());
      set_error(res, 500, std::string("internal error: ") + e.what());
    }
    if (res.status >= 400) {
      metrics_.observe_latency(std::chrono::duration<double>(Clock::now() - t0).count());
    }
  }

  const ServeOptions& o_;
  pipeline::Predictor& predictor_;
  Metrics metrics_;
  Batcher batcher_;
  std::map<std::string, Route> routes_;
};

std::string url_of(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/";
}

}  // namespace

void check_options(const ServeOptions& o) {
  util::check_input_size(o.size, "the input size");
  if (o.port < 0 || o.port > 65535) throw Error(ErrorCode::kUsage, "--port must be 0..65535");
  if (o.max_body_bytes < 1) throw Error(ErrorCode::kUsage, "--max-body-mb must be at least 1");
  if (o.http_threads < 1) throw Error(ErrorCode::kUsage, "--http-threads must be at least 1");
  if (o.read_timeout_s < 1 || o.write_timeout_s < 1 || o.keep_alive_timeout_s < 1 ||
      o.request_timeout_s < 1) {
    throw Error(ErrorCode::kUsage,
                "--read-timeout, --write-timeout, --keep-alive-timeout and --request-timeout "
                "must be at least 1 second");
  }
  if (o.keep_alive_max < 1) {
    throw Error(ErrorCode::kUsage, "--keep-alive-max must be at least 1");
  }
}

void run_server(const ServeOptions& o, const StopSignals& signals) {
  check_options(o);
  httplib::Server svr;
  const size_t threads = static_cast<size_t>(o.http_threads);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_read_timeout(o.read_timeout_s);
  svr.set_write_timeout(o.write_timeout_s);
  svr.set_keep_alive_timeout(o.keep_alive_timeout_s);
  svr.set_keep_alive_max_count(static_cast<size_t>(o.keep_alive_max));
  svr.set_payload_max_length(static_cast<size_t>(o.max_body_bytes));
  svr.set_default_headers({{"X-Content-Type-Options", "nosniff"}, {"Cache-Control", "no-store"}});
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a second server on a
  // port in use would bind as well and share its connections.
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Bound before the weights load, so that a port in use fails at once.
  const int port =
      o.port == 0 ? svr.bind_to_any_port(o.host) : (svr.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port <= 0) {
    throw Error(ErrorCode::kUsage, "cannot listen on " + o.host + " port " +
                                       std::to_string(o.port) +
                                       " (in use, or not an address of this machine); choose "
                                       "another --port or --host");
  }
  pipeline::Predictor predictor(o.weights, o.network);
  spdlog::info("serve: weights '{}', input {} by default, device {} ({})", o.weights.string(),
               size_text(o.size), predictor.device_name(), predictor.describe());
  Service service(o, predictor);

  const auto dispatch = [&service](const httplib::Request& req, httplib::Response& res) {
    service.dispatch(req, req.body, res);
  };
  svr.Get(".*", dispatch);
  svr.Post(".*",
           [&service](const httplib::Request& req, httplib::Response& res,
                      const httplib::ContentReader& reader) { service.post(req, res, reader); });
  svr.Put(".*", dispatch);
  svr.Delete(".*", dispatch);
  svr.Options(".*", dispatch);
  svr.Patch(".*", dispatch);
  const httplib::Server::HandlerWithResponse error_body = [&service](const httplib::Request& req,
                                                                     httplib::Response& res) {
    return service.error_body(req, res);
  };
  svr.set_error_handler(error_body);
  // Counted before the answer is written (the logger runs after), so that a client that has its
  // answer finds it counted in /metrics.
  svr.set_post_routing_handler([&service](const httplib::Request& req, httplib::Response& res) {
    service.metrics().count_request(service.route_label(req.path), res.status);
  });

  if (!is_loopback(o.host)) {
    spdlog::warn("serve: listening on {}, reachable from other machines{}", o.host,
                 o.token.empty() ? ", without a token (--token)" : "");
  }
  std::atomic<bool> listening_ended{false};
  std::thread listener([&svr, &listening_ended] {
    svr.listen_after_bind();
    listening_ended = true;
  });
  std::printf("msinet serve: listening on %s\n", url_of(o.host, port).c_str());
  std::fflush(stdout);
  while (signals.received() == 0 && !listening_ended) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  spdlog::info("serve: stopping; answering the {} request(s) in flight",
               service.batcher().unanswered());
  // stop() acts only once the server runs.
  while (!svr.is_running() && !listening_ended) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  svr.stop();
  service.batcher().close();
  listener.join();
  spdlog::info("serve: stopped");
}

}  // namespace msinet::serve
