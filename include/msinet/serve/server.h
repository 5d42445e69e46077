#pragma once
// `msinet serve`: saliency maps over HTTP, one network loaded once, requests batched through the
// inference pipeline (batcher.h). Routes and limits: README "msinet serve".

#include <cstdint>
#include <filesystem>
#include <string>

#include "msinet/fetch/download.h"
#include "msinet/pipeline/predictor.h"
#include "msinet/serve/batcher.h"
#include "msinet/serve/stop_signals.h"
#include "msinet/util/size.h"

namespace msinet::serve {

/// What `msinet serve` needs; every field has the CLI's default.
struct ServeOptions {
  std::string host = "127.0.0.1";   ///< address to listen on; other than loopback is warned about
  int port = 8080;                  ///< 0 = any free port (the one chosen is printed)
  std::string token;                ///< when set, /v1/* needs "Authorization: Bearer <token>"
  std::string dataset = "salicon";  ///< reported by /v1/models
  util::Size size;                  ///< input size of requests without size=
  std::filesystem::path weights;    ///< loaded once (any form checkpoint::load_weights_file takes)
  std::filesystem::path results_dir = "results";  ///< where weights_to_load() looks first
  std::filesystem::path weights_dir = "weights";
  fetch::DownloadOptions download;   ///< for the published weights (mirror, size cap)
  pipeline::NetworkOptions network;  ///< device, precision, runtime plan
  BatcherOptions batching;
  int64_t max_body_bytes = int64_t{20} << 20;  ///< larger request bodies get 413
  int http_threads = 16;         ///< connections served at once; more wait for a thread
  int read_timeout_s = 10;       ///< a read from a client that takes longer drops it
  int write_timeout_s = 10;      ///< a write to a client that takes longer drops it
  int keep_alive_timeout_s = 5;  ///< an idle kept-alive connection is closed after this
  int keep_alive_max = 100;      ///< requests per connection at most
  int request_timeout_s = 60;    ///< a map not ready by then is answered 503
};

/// ServeOptions::weights, or when empty the weights `test` would use for the dataset
/// (checkpoint::resolve_weights: the best checkpoint trained here, else the published model).
std::filesystem::path weights_to_load(const ServeOptions& options);

/// Throws Error(kUsage) naming the option unless the options can run.
void check_options(const ServeOptions& options);

/// Loads the weights, listens (printing "msinet serve: listening on http://HOST:PORT/" on
/// stdout), and answers until `signals` receives SIGINT or SIGTERM; then it takes no new
/// connections, answers the requests in flight and returns. Throws Error(kUsage) when it cannot
/// listen on host and port.
void run_server(const ServeOptions& options, const StopSignals& signals);

}  // namespace msinet::serve
