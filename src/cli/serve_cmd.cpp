// `msinet serve`: saliency maps over HTTP.
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "msinet/cli/common.h"
#include "msinet/cli/datasets.h"
#include "msinet/runtime/memory.h"
#include "msinet/runtime/threads.h"
#include "msinet/serve/server.h"
#include "msinet/serve/stop_signals.h"
#include "msinet/util/error.h"

namespace msinet::cli {

Command register_serve(CLI::App& root) {
  CLI::App* app = root.add_subcommand(
      "serve", "answer saliency requests over HTTP (POST /v1/saliency) with a browser page at /");
  auto state = add_common_options(*app);
  struct Args {
    std::string dataset = "salicon";
    std::string weights;
    serve::ServeOptions o;
    int batch_wait_ms = 5;
    int max_body_mb = 20;
  };
  auto args = std::make_shared<Args>();
  serve::ServeOptions& o = args->o;
  app->add_option("-d,--dataset", args->dataset,
                  "dataset whose input size and weights to use (as for test)")
      ->type_name("DATA")
      ->capture_default_str();
  app->add_option("--weights", args->weights,
                  "weights, any form test --weights takes [default: as test: the best checkpoint "
                  "trained here, else the published model]")
      ->type_name("FILE");
  app->add_option("--host", o.host, "address to listen on; other than loopback is warned about")
      ->type_name("ADDR")
      ->capture_default_str();
  app->add_option("--port", o.port, "port; 0 = any free one (printed)")
      ->type_name("INT")
      ->capture_default_str();
  app->add_option("--token", o.token,
                  "require 'Authorization: Bearer TOKEN' on /v1/* [default: env MSINET_TOKEN, "
                  "else none]")
      ->type_name("TOKEN");
  app->add_option("--batch-size", o.batching.batch_size,
                  "requests of one size per forward pass at most; 1 = no batching")
      ->type_name("INT")
      ->capture_default_str();
  app->add_option("--batch-wait-ms", args->batch_wait_ms,
                  "how long a partial batch waits for more requests")
      ->type_name("MS")
      ->capture_default_str();
  app->add_option("--queue", o.batching.queue,
                  "requests accepted and not answered yet at most; more get 503")
      ->type_name("INT")
      ->capture_default_str();
  app->add_option("--max-sizes", o.batching.max_sizes,
                  "input sizes with a pipeline at once; a new size while all are busy gets 503")
      ->type_name("INT")
      ->capture_default_str();
  app->add_option("--max-body-mb", args->max_body_mb, "larger request bodies get 413 (MiB)")
      ->type_name("MIB")
      ->capture_default_str();
  app->add_option("--http-threads", o.http_threads, "connections served at once")
      ->type_name("INT")
      ->capture_default_str();
  app->add_option("--read-timeout", o.read_timeout_s, "seconds a read from a client may take")
      ->type_name("S")
      ->capture_default_str();
  app->add_option("--write-timeout", o.write_timeout_s, "seconds a write to a client may take")
      ->type_name("S")
      ->capture_default_str();
  app->add_option("--keep-alive-timeout", o.keep_alive_timeout_s,
                  "seconds an idle connection stays open")
      ->type_name("S")
      ->capture_default_str();
  app->add_option("--keep-alive-max", o.keep_alive_max, "requests per connection at most")
      ->type_name("INT")
      ->capture_default_str();
  app->add_option("--request-timeout", o.request_timeout_s,
                  "seconds a request waits for its map before 503")
      ->type_name("S")
      ->capture_default_str();
  add_config_flag(*app, *state, "--size", "size");
  add_config_flag(*app, *state, "--precision", "precision");
  add_config_flag(*app, *state, "--runtime-plan", "runtime_plan");
  add_config_flag(*app, *state, "--int8-calibration", "int8_calibration");
  Command cmd{app, state, nullptr};
  cmd.run = [args](const config::Config& cfg) {
    // Before any thread starts, so that every thread has the stop signals blocked.
    const serve::StopSignals signals;
    runtime::configure_threads(cfg.get_int("threads"));
    runtime::reuse_freed_memory();
    const data::DatasetSpec ds = choose_dataset(args->dataset, cfg);
    serve::ServeOptions o = args->o;
    o.dataset = ds.name;
    o.size = {ds.height, ds.width};
    o.network.device = cfg.get("device");
    o.network.precision = cfg.get("precision");
    o.network.plan = cfg.get("runtime_plan");
    o.network.int8_calibration = cfg.get("int8_calibration");
    o.batching.batch_wait = std::chrono::milliseconds(args->batch_wait_ms);
    o.batching.inflight_bytes = int64_t{cfg.get_int("inflight_memory_mb")} << 20;
    o.max_body_bytes = int64_t{args->max_body_mb} << 20;
    if (o.token.empty()) {
      if (const char* t = std::getenv("MSINET_TOKEN")) o.token = t;
    }
    if (args->batch_wait_ms < 0) throw Error(ErrorCode::kUsage, "--batch-wait-ms must be >= 0");
    serve::check_options(o);
    o.weights = args->weights;
    o.results_dir = cfg.get("results_dir");
    o.weights_dir = cfg.get("weights_dir");
    o.download = download_options(cfg);
    o.weights = serve::weights_to_load(o);
    serve::run_server(o, signals);
    return 0;
  };
  return cmd;
}

}  // namespace msinet::cli
