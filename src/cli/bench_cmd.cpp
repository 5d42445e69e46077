// `msinet bench`: speed of this machine for MSI-Net (see include/msinet/bench/bench.h).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>
#include <random>
#include <sstream>

#include <opencv2/core.hpp>

#include "msinet/bench/bench.h"
#include "msinet/cli/common.h"
#include "msinet/data/image.h"
#include "msinet/infer/infer.h"
#include "msinet/runtime/memory.h"
#include "msinet/runtime/threads.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"

namespace msinet::cli {

namespace {

namespace fs = std::filesystem;

// `count` images for the test job: the photos, repeated under numbered names, or generated ones.
void fill_test_folder(const fs::path& dir, const std::vector<fs::path>& photos, int count) {
  fs::create_directories(dir);
  for (int i = 0; i < count; ++i) {
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "%04d_", i);
    if (!photos.empty()) {
      const fs::path& src = photos[static_cast<size_t>(i) % photos.size()];
      fs::copy_file(src, dir / (prefix + src.filename().string()));
      continue;
    }
    cv::Mat img(480, 640, CV_8UC3);
    cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
    data::write_jpeg_u8(dir / (std::string(prefix) + "generated.jpg"), img, 90);
  }
}

}  // namespace

Command register_bench(CLI::App& root) {
  CLI::App* app = root.add_subcommand(
      "bench",
      "measure forward speed (per size, batch, precision, and of every runtime plan) against "
      "this machine's peak, the training step, the image pipeline, the test job and memory");
  auto state = add_common_options(*app);
  struct Args {
    std::string sizes = "240x320,360x360,216x384";
    std::string batches = "1,4,8";
    std::string precision;
    int iters = 3;
    std::string json;
    int test_images = 200;
    int test_batch = 1;
    std::string photos = "/usr/share/doc/opencv-doc/examples/data";
    std::string skip;
    uint64_t seed = 42;
    std::string save_weights;
    bool train_only = false;
    std::string train_batches;
    std::string peer;
    std::string peer_python = "/usr/bin/python3";
    std::string peer_script;
    std::string calibrate_int8, weights, int8_calibration;
  };
  auto args = std::make_shared<Args>();
  app->add_option("--sizes", args->sizes,
                  "input sizes HxW, comma-separated; the first is also used for the "
                  "comparison details and the test job")
      ->type_name("HxW,...")
      ->capture_default_str();
  app->add_option("--batches", args->batches, "batch sizes, comma-separated")
      ->type_name("N,...")
      ->capture_default_str();
  app->add_option("--precision", args->precision,
                  "precisions to time, comma-separated (fp32, bf16, fp16; int8 by "
                  "--calibrate-int8) [default: fp32 and every "
                  "reduced precision this device supports]")
      ->type_name("P,...");
  app->add_option("--iters", args->iters,
                  "timed runs per configuration after one warm-up (the median is reported)")
      ->capture_default_str();
  app->add_option("--json", args->json, "also write the results to this JSON file")
      ->type_name("FILE");
  app->add_option("--test-images", args->test_images,
                  "images for timing the test job (photos repeated as needed); 0 skips it")
      ->capture_default_str();
  app->add_option("--test-batch", args->test_batch, "batch size of the test job")
      ->capture_default_str();
  app->add_option("--photos", args->photos,
                  "folder of real photos (generated images when it has none)")
      ->type_name("DIR")
      ->capture_default_str();
  app->add_option("--skip", args->skip,
                  "parts to leave out, comma-separated: plans, accuracy, train, pipeline")
      ->type_name("PART,...");
  app->add_option("--seed", args->seed, "seed of the random weights and inputs")
      ->type_name("INT")
      ->capture_default_str();
  app->add_option("--save-weights", args->save_weights,
                  "also write the random weights of --seed to this checkpoint (to export them "
                  "and time another runtime on the same network)")
      ->type_name("FILE");
  app->add_flag("--train", args->train_only,
                "time only the training step (no forward sweep, plans, accuracy, pipeline or test "
                "job)");
  app->add_option("--train-batches", args->train_batches,
                  "batch sizes of the training step, comma-separated [default: 1]")
      ->type_name("N,...");
  app->add_option("--peer", args->peer,
                  "also time, in the same run at the same sizes, batches and threads: the "
                  "training step of an independent PyTorch eager MSI-Net (torch), or the forward "
                  "pass of the same network exported to ONNX in ONNX Runtime (onnxruntime)")
      ->type_name("torch|onnxruntime");
  app->add_option("--peer-python", args->peer_python, "Python with PyTorch that runs the peer")
      ->type_name("FILE")
      ->capture_default_str();
  app->add_option("--peer-script", args->peer_script,
                  "the peer script [default: tests/tools/torch_train_peer.py (torch) or "
                  "tests/node/run_model.js (onnxruntime) beside the executable's folder or in the "
                  "current folder]")
      ->type_name("FILE");
  app->add_option("--calibrate-int8", args->calibrate_int8,
                  "instead of the benchmark: measure an int8 calibration on the photos in DIR "
                  "(resized to the first of --sizes), write it, and print int8 against fp32 "
                  "(maps' CC and max abs difference on those photos, ms per size at batch 1)")
      ->type_name("DIR");
  app->add_option("--weights", args->weights,
                  "--calibrate-int8: the weights to calibrate [default: random weights of --seed]")
      ->type_name("FILE");
  app->add_option("--int8-calibration", args->int8_calibration,
                  "--calibrate-int8: where the calibration goes [default: beside --weights, "
                  "its extension replaced by .int8.yaml; random-SEED.int8.yaml without]")
      ->type_name("FILE");
  Command cmd{app, state, nullptr};
  cmd.run = [args](const config::Config& cfg) {
    const int threads = runtime::configure_threads(cfg.get_int("threads"));
    runtime::reuse_freed_memory();
    if (args->calibrate_int8.empty() &&
        (!args->weights.empty() || !args->int8_calibration.empty())) {
      throw Error(ErrorCode::kUsage,
                  "--weights and --int8-calibration go with --calibrate-int8 DIR (the benchmark "
                  "itself times random weights)");
    }
    if (!args->calibrate_int8.empty()) {
      bench::Int8CalibrationOptions io;
      io.photos = args->calibrate_int8;
      io.weights = args->weights;
      io.seed = args->seed;
      io.sizes = bench::parse_sizes(args->sizes);
      io.iters = args->iters;
      io.output = args->int8_calibration;
      if (io.output.empty()) {
        io.output = io.weights.empty()
                        ? fs::path("random-" + std::to_string(io.seed) + ".int8.yaml")
                        : fs::path(io.weights).replace_extension(".int8.yaml");
      }
      std::cout << bench::format_int8_report(bench::calibrate_int8(io)) << std::flush;
      return 0;
    }
    bench::BenchOptions o;
    o.sizes = bench::parse_sizes(args->sizes);
    o.batches = bench::parse_batches(args->batches);
    o.precisions = split_list(args->precision);
    if (args->iters < 1) throw Error(ErrorCode::kUsage, "--iters must be at least 1");
    if (args->test_images < 0) throw Error(ErrorCode::kUsage, "--test-images must be 0 or more");
    if (args->test_batch < 1) throw Error(ErrorCode::kUsage, "--test-batch must be at least 1");
    o.iters = args->iters;
    o.device = cfg.get("device");
    o.photos = args->photos;
    o.seed = args->seed;
    if (!args->train_batches.empty()) o.train_batches = bench::parse_batches(args->train_batches);
    o.peer = args->peer;
    o.peer_python = args->peer_python;
    o.peer_script = args->peer_script;
    for (const std::string& part : split_list(args->skip)) {
      if (part == "plans") {
        o.plans = false;
      } else if (part == "accuracy") {
        o.accuracy_photos = 0;
      } else if (part == "train") {
        o.train = false;
      } else if (part == "pipeline") {
        o.pipeline = false;
      } else {
        throw Error(ErrorCode::kUsage, "unknown part '" + part +
                                           "' in --skip: use plans, accuracy, train or pipeline");
      }
    }
    if (args->train_only) {
      if (!o.train) throw Error(ErrorCode::kUsage, "--train and --skip train contradict");
      o.forward = o.plans = o.pipeline = false;
      o.accuracy_photos = 0;
      args->test_images = 0;
    }
    bench::check_options(o);
    spdlog::info("bench: {} thread(s)", threads);
    if (!args->save_weights.empty()) bench::write_random_weights(args->save_weights, o.seed);

    // The test job first, so that the peak memory after it is its own.
    std::vector<bench::TestJobResult> test_job;
    if (args->test_images > 0) {
      util::ScratchDir scratch(std::filesystem::temp_directory_path() / "msinet-bench");
      fill_test_folder(scratch.path() / "images", bench::list_photos(o.photos), args->test_images);
      bench::write_random_weights(scratch.path() / "bench.msinet", o.seed);
      infer::InferOptions io;
      io.input = scratch.path() / "images";
      io.weights = scratch.path() / "bench.msinet";
      io.output_dir = scratch.path() / "maps";
      io.height = o.sizes.front().h;
      io.width = o.sizes.front().w;
      io.batch_size = args->test_batch;
      io.network.device = o.device;
      io.network.precision = "fp32";
      io.progress = false;
      spdlog::info("bench: test job on {} image(s)", args->test_images);
      const infer::InferResult r = infer::run_test(io);
      test_job.push_back({static_cast<int>(r.written), args->test_batch, io.network.precision,
                          r.total_seconds, r.forward_seconds, bench::peak_rss_mb()});
    }
    bench::BenchReport report = bench::run_bench(o);
    report.test_job = test_job;
    for (const auto& t : test_job) report.seconds += t.wall_seconds;
    std::cout << bench::format_table(report) << std::flush;
    if (!args->json.empty()) util::write_file_atomic(args->json, bench::to_json(report));
    return 0;
  };
  return cmd;
}

}  // namespace msinet::cli
