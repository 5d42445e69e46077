#include "msinet/bench/bench.h"

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ATen/Context.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "msinet/checkpoint/container.h"
#include "msinet/checkpoint/state.h"
#include "msinet/data/image.h"
#include "msinet/model/layers.h"
#include "msinet/model/msinet.h"
#include "msinet/pipeline/tensors.h"
#include "msinet/runtime/cpu_info.h"
#include "msinet/runtime/device.h"
#include "msinet/runtime/inference.h"
#include "msinet/runtime/int8_calibration.h"
#include "msinet/runtime/memory.h"
#include "msinet/runtime/precision.h"
#include "msinet/train/loss.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"

#include "measure.h"
#include "onnxruntime_peer.h"
#include "plans.h"

extern char** environ;

namespace msinet::bench {

namespace fs = std::filesystem;

namespace {

// ---- Peak arithmetic rate --------------------------------------------------------------------

constexpr int kAccumulators = 12;

#if defined(__x86_64__)
__attribute__((target("avx512f"))) float fma_loop_avx512(int64_t n) {
  __m512 acc[kAccumulators];
  for (int k = 0; k < kAccumulators; ++k) acc[k] = _mm512_set1_ps(0.001f * static_cast<float>(k));
  const __m512 m = _mm512_set1_ps(0.99999f), c = _mm512_set1_ps(1e-6f);
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < kAccumulators; ++k) acc[k] = _mm512_fmadd_ps(acc[k], m, c);
  }
  __m512 s = acc[0];
  for (int k = 1; k < kAccumulators; ++k) s = _mm512_add_ps(s, acc[k]);
  float out[16];
  _mm512_storeu_ps(out, s);
  float sum = 0;
  for (float v : out) sum += v;
  return sum;
}

__attribute__((target("avx2,fma"))) float fma_loop_avx2(int64_t n) {
  __m256 acc[kAccumulators];
  for (int k = 0; k < kAccumulators; ++k) acc[k] = _mm256_set1_ps(0.001f * static_cast<float>(k));
  const __m256 m = _mm256_set1_ps(0.99999f), c = _mm256_set1_ps(1e-6f);
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < kAccumulators; ++k) acc[k] = _mm256_fmadd_ps(acc[k], m, c);
  }
  __m256 s = acc[0];
  for (int k = 1; k < kAccumulators; ++k) s = _mm256_add_ps(s, acc[k]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

__attribute__((target("avx512bf16,avx512f"))) float bf16_loop_avx512(int64_t n) {
  __m512 acc[kAccumulators];
  for (int k = 0; k < kAccumulators; ++k) acc[k] = _mm512_setzero_ps();
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.001f), _mm512_set1_ps(0.002f));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.003f), _mm512_set1_ps(0.004f));
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < kAccumulators; ++k) acc[k] = _mm512_dpbf16_ps(acc[k], a, b);
  }
  __m512 s = acc[0];
  for (int k = 1; k < kAccumulators; ++k) s = _mm512_add_ps(s, acc[k]);
  float out[16];
  _mm512_storeu_ps(out, s);
  float sum = 0;
  for (float v : out) sum += v;
  return sum;
}
#endif

// GFLOP/s of `loop` (flops_per_iter per iteration) run on `threads` threads at once; best of 3.
double measure_rate(const std::function<float(int64_t)>& loop, double flops_per_iter, int threads) {
  int64_t n = 100000;
  for (;;) {
    const double t0 = wall_now();
    volatile float sink = loop(n);
    (void)sink;
    const double dt = wall_now() - t0;
    if (dt > 0.02 || n > (int64_t{1} << 40)) {
      n = static_cast<int64_t>(static_cast<double>(n) * 0.15 / std::max(dt, 1e-6)) + 1;
      break;
    }
    n *= 4;
  }
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<std::thread> pool;
    const double t0 = wall_now();
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&loop, n] {
        volatile float sink = loop(n);
        (void)sink;
      });
    }
    for (auto& t : pool) t.join();
    const double dt = wall_now() - t0;
    best = std::max(best, flops_per_iter * static_cast<double>(n) * threads / dt / 1e9);
  }
  return best;
}

PeakResult measure_peak(int threads) {
  PeakResult p;
  p.threads = threads;
#if defined(__x86_64__)
  __builtin_cpu_init();
  std::string fp32_method;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    p.fp32_gflops = measure_rate(fma_loop_avx2, 2.0 * 8 * kAccumulators, threads);
    fp32_method = "AVX2 FMA loop";
  }
  if (__builtin_cpu_supports("avx512f")) {
    const double r = measure_rate(fma_loop_avx512, 2.0 * 16 * kAccumulators, threads);
    if (r > p.fp32_gflops) {
      p.fp32_gflops = r;
      fp32_method = "AVX-512 FMA loop";
    }
  }
  p.method = fp32_method.empty() ? "no FMA loop for this CPU" : fp32_method;
  if (runtime::cpu_has_bf16() && __builtin_cpu_supports("avx512f")) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    __cpuid_count(7, 1, a, b, c, d);
    if (a & (1u << 5)) {
      p.bf16_gflops = measure_rate(bf16_loop_avx512, 2.0 * 32 * kAccumulators, threads);
      p.method += ", AVX512_BF16 dot-product loop";
    }
  }
  p.method += ", " + std::to_string(threads) + " thread(s)";
#else
  p.method = "no peak loop for this architecture";
#endif
  return p;
}

// ---- Inputs
// ----------------------------------------------------------------------------------------

}  // namespace

namespace {

// Encoded photos: the files of the photo folder, or generated JPEGs when it has none.
std::vector<std::pair<std::string, std::string>> load_photos(const fs::path& folder,
                                                             std::string* source) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const fs::path& p : list_photos(folder))
    out.emplace_back(p.filename().string(), util::read_file(p));
  if (!out.empty()) {
    *source = folder.string();
    return out;
  }
  *source = "generated";
  cv::RNG rng(7);
  const int sizes[][2] = {{480, 640}, {600, 800}, {375, 500}, {512, 512}, {427, 640}, {640, 427}};
  for (int i = 0; i < 12; ++i) {
    const int h = sizes[i % 6][0], w = sizes[i % 6][1];
    cv::Mat img(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        img.at<cv::Vec3b>(y, x) =
            cv::Vec3b(static_cast<uchar>((x * 255) / w), static_cast<uchar>((y * 255) / h),
                      static_cast<uchar>(rng.uniform(0, 256)));
      }
    }
    out.emplace_back("generated" + std::to_string(i) + ".jpg", data::encode_jpeg(img, 90));
  }
  return out;
}

// ---- Training step
// ---------------------------------------------------------------------------------

// Every 4-D parameter (the convolution kernels) in channels-last order, as PyTorch's
// Module.to(memory_format=torch.channels_last) does; the tensors stay the same variables.
void to_channels_last(model::MSINet& net) {
  torch::NoGradGuard no_grad;
  for (torch::Tensor& p : net->parameters()) {
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

// A trainee with its optimiser and data, so that several memory formats can be timed
// round-robin.
struct Trainee {
  model::MSINet net;
  std::unique_ptr<torch::optim::Adam> adam;
  torch::Tensor x, y;
};

std::unique_ptr<Trainee> make_trainee(uint64_t seed, const util::Size& s, int batch,
                                      const torch::Device& device, bool channels_last) {
  auto t = std::make_unique<Trainee>();
  t->net = model::random_msinet(seed);
  t->net->to(device);
  if (channels_last) to_channels_last(t->net);
  t->net->train();
  t->adam =
      std::make_unique<torch::optim::Adam>(t->net->parameters(), torch::optim::AdamOptions(1e-5));
  t->x = (torch::rand({batch, 3, s.h, s.w}) * 255).to(device);
  t->y = (torch::rand({batch, 1, s.h, s.w}) * 255).to(device);
  if (channels_last) {
    t->x = t->x.contiguous(torch::MemoryFormat::ChannelsLast);
    t->y = t->y.contiguous(torch::MemoryFormat::ChannelsLast);
  }
  return t;
}

// The train job's step (src/train/train.cpp), nothing more.
void train_step(Trainee& t) {
  t.adam->zero_grad();
  torch::Tensor loss = train::kld_loss(t.y, t.net->forward(t.x));
  loss.backward();
  t.adam->step();
  (void)loss.item<double>();
}

struct PeerStep {
  double median_ms = 0;
  std::string version;
  int64_t parameters = 0;
  std::vector<int64_t> output;
};

// One run of the peer script: `iters` timed steps after one warm-up, as time_calls does.
PeerStep run_peer(const fs::path& python, const fs::path& script, const util::Size& s, int batch,
                  int threads, int iters, bool channels_last, uint64_t seed) {
  std::vector<std::string> argv = {python.string(), script.string(),
                                   "--size",        std::to_string(s.h) + "x" + std::to_string(s.w),
                                   "--batch",       std::to_string(batch),
                                   "--threads",     std::to_string(threads),
                                   "--steps",       std::to_string(iters),
                                   "--warmup",      "1",
                                   "--seed",        std::to_string(seed)};
  if (channels_last) argv.push_back("--channels-last");
  const std::string out = run_capture(argv, "give a Python with PyTorch by --peer-python");
  const std::string line = last_line(out);
  try {
    const nlohmann::json j = nlohmann::json::parse(line);
    PeerStep r;
    r.median_ms = j.at("step_ms_median").get<double>();
    r.version = j.at("torch").get<std::string>();
    r.parameters = j.at("parameters").get<int64_t>();
    r.output = j.at("output_shape").get<std::vector<int64_t>>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::kInternal, "the peer '" + script.string() +
                                          "' did not end with its JSON line (" + e.what() +
                                          "); it wrote: " + line.substr(0, 200));
  }
}

}  // namespace

fs::path resolve_peer_script(const BenchOptions& o) {
  if (!o.peer_script.empty()) {
    if (!fs::is_regular_file(o.peer_script))
      throw Error(ErrorCode::kUsage,
                  "--peer-script '" + o.peer_script.string() + "' is not a file");
    return o.peer_script;
  }
  const fs::path rel = o.peer == "onnxruntime"
                           ? fs::path("tests") / "node" / "run_model.js"
                           : fs::path("tests") / "tools" / "torch_train_peer.py";
  std::vector<fs::path> candidates;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(exe.parent_path().parent_path() / rel);
    candidates.push_back(exe.parent_path() / rel);
  }
  candidates.push_back(fs::current_path(ec) / rel);
  for (const fs::path& c : candidates) {
    if (fs::is_regular_file(c, ec)) return c;
  }
  throw Error(ErrorCode::kUsage,
              "cannot find " + rel.string() +
                  " beside the executable or in the current folder; give it by --peer-script");
}

// ---- Options
// ---------------------------------------------------------------------------------------

std::vector<util::Size> parse_sizes(const std::string& text) {
  std::vector<util::Size> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    out.push_back(util::parse_size(item, "size in --sizes"));
  }
  if (out.empty()) throw Error(ErrorCode::kUsage, "--sizes is empty: give e.g. 240x320");
  return out;
}

std::vector<int> parse_batches(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    char* end = nullptr;
    const long b = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || b < 1 || b > 1024) {
      throw Error(ErrorCode::kUsage,
                  "invalid batch size '" + item +
                      "' in --batches: expected whole numbers 1..1024 (e.g. 1,4,8)");
    }
    out.push_back(static_cast<int>(b));
  }
  if (out.empty()) throw Error(ErrorCode::kUsage, "--batches is empty: give e.g. 1,4,8");
  return out;
}

std::vector<fs::path> list_photos(const fs::path& folder) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return out;
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    if (!e.is_regular_file(ec)) continue;
    const std::string ext = util::to_lower(e.path().extension().string());
    if (ext == ".jpg" || ext == ".jpeg") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void write_random_weights(const fs::path& path, uint64_t seed) {
  model::MSINet net = model::random_msinet(seed);
  checkpoint::Checkpoint ckpt;
  ckpt.model = checkpoint::serialize_state(net);
  ckpt.meta.dataset = "bench";
  checkpoint::write_checkpoint(path, ckpt);
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

// ---- The benchmark
// ---------------------------------------------------------------------------------

void check_options(const BenchOptions& o) {
  if (o.iters < 1) throw Error(ErrorCode::kUsage, "--iters must be at least 1");
  if (o.sizes.empty() || o.batches.empty()) throw Error(ErrorCode::kUsage, "nothing to measure");
  const torch::Device device = runtime::resolve_device(o.device);
  for (const std::string& name : o.precisions) {
    runtime::check_precision(runtime::parse_precision(name), device);
  }
  for (int b : o.train_batches) {
    if (b < 1) throw Error(ErrorCode::kUsage, "training batch sizes must be at least 1");
  }
  if (!o.peer.empty()) {
    if (o.peer != "torch" && o.peer != "onnxruntime")
      throw Error(ErrorCode::kUsage,
                  "unknown peer '" + o.peer + "': the peers are 'torch' and 'onnxruntime'");
    if (!device.is_cpu())
      throw Error(ErrorCode::kUsage,
                  "the " + o.peer + " peer times the CPU only; use --device cpu");
    if (o.peer == "torch" && !o.train)
      throw Error(ErrorCode::kUsage, "--peer torch times the training step: drop --skip train");
    if (o.peer == "onnxruntime" && !o.forward)
      throw Error(ErrorCode::kUsage, "--peer onnxruntime times the forward pass: drop --train");
    (void)resolve_peer_script(o);
  }
}

BenchReport run_bench(const BenchOptions& o) {
  check_options(o);
  const double start = wall_now();
  runtime::reuse_freed_memory();
  BenchReport report;
  report.load_before = load_average();
  const torch::Device device = runtime::resolve_device(o.device);
  report.device = device.str();
  report.threads = torch::get_num_threads();
  report.cpu_flags = std::string("oneDNN ") + (at::hasMKLDNN() ? "yes" : "no") +
                     ", bf16 instructions " + (runtime::cpu_has_bf16() ? "yes" : "no");
  report.cpu_model = runtime::cpu_info().model;
  report.cpu_isa = runtime::cpu_info().isa;

  std::vector<runtime::Precision> precisions;
  if (o.precisions.empty()) {
    precisions.push_back(runtime::Precision::kFloat32);
    for (auto p :
         {runtime::Precision::kBFloat16, runtime::Precision::kFloat16, runtime::Precision::kInt8}) {
      if (runtime::precision_unsupported_reason(p, device).empty()) precisions.push_back(p);
    }
  } else {
    for (const std::string& name : o.precisions) {
      const runtime::Precision p = runtime::parse_precision(name);
      runtime::check_precision(p, device);
      if (std::find(precisions.begin(), precisions.end(), p) == precisions.end())
        precisions.push_back(p);
    }
  }

  model::MSINet net = model::random_msinet(o.seed);
  report.parameters = model::count_parameters(net);
  const util::Size first = o.sizes.front();

  if (device.is_cpu()) {
    spdlog::info("bench: measuring the peak arithmetic rate");
    report.peak = measure_peak(report.threads);
  } else {
    report.peak.method = "not measured on " + device.str();
  }
  auto peak_of = [&](runtime::Precision p) {
    if (!device.is_cpu()) return 0.0;
    return p == runtime::Precision::kFloat32    ? report.peak.fp32_gflops
           : p == runtime::Precision::kBFloat16 ? report.peak.bf16_gflops
                                                : 0.0;
  };

  std::string photo_source;
  const auto photos = load_photos(o.photos, &photo_source);
  auto stimuli_of = [&](size_t begin, size_t count) {
    std::vector<cv::Mat> stimuli;
    for (size_t i = begin; i < photos.size() && stimuli.size() < count; ++i) {
      const auto& [name, bytes] = photos[i];
      stimuli.push_back(
          data::preprocess_stimulus(data::decode_image_bytes(bytes, 3, name), first.h, first.w));
    }
    return stimuli;
  };
  const size_t compared = static_cast<size_t>(std::max(0, o.accuracy_photos));

  // int8 runs on a calibration of these random weights, measured on photos after those the
  // accuracy rows compare (the last ones when there are too few).
  std::shared_ptr<const runtime::Int8Calibration> calibration;
  if (std::find(precisions.begin(), precisions.end(), runtime::Precision::kInt8) !=
      precisions.end()) {
    constexpr size_t kCalibrationPhotos = 8;
    const size_t begin = photos.size() >= compared + kCalibrationPhotos
                             ? compared
                             : photos.size() - std::min(photos.size(), kCalibrationPhotos);
    std::vector<torch::Tensor> images;
    for (const cv::Mat& m : stimuli_of(begin, kCalibrationPhotos))
      images.push_back(pipeline::images_to_batch({m}));
    spdlog::info("bench: int8 calibration on {} photo(s)", images.size());
    calibration =
        std::make_shared<runtime::Int8Calibration>(runtime::measure_int8_calibration(net, images));
    report.int8_calibration = std::to_string(images.size()) + " photo(s) from " + photo_source +
                              ", numbers " + std::to_string(begin + 1) + " to " +
                              std::to_string(begin + images.size());
  }
  auto options_of = [&](runtime::Precision p) {
    runtime::InferenceOptions options;
    options.precision = p;
    if (p == runtime::Precision::kInt8) options.int8_calibration = calibration;
    return options;
  };

  // Forward sweep: every precision, size and batch, each shape on the plan auto chooses.
  for (runtime::Precision p : o.forward ? precisions : std::vector<runtime::Precision>{}) {
    const runtime::InferenceOptions options = options_of(p);
    runtime::InferenceNet fast(net, device, options);
    for (const util::Size& s : o.sizes) {
      for (int b : o.batches) {
        spdlog::info("bench: forward {} {} batch {}", runtime::precision_name(p),
                     size_text(s.h, s.w), b);
        const torch::Tensor input = torch::rand({b, 3, s.h, s.w}) * 255;
        const Sample sample = time_calls([&] { to_cpu(fast.forward(input)); }, o.iters);
        ForwardResult row =
            forward_row("msinet", runtime::precision_name(p), s.h, s.w, b, sample, peak_of(p));
        row.plan = fast.plan({b, 3, s.h, s.w});
        report.forward.push_back(row);
      }
    }
    if (p == runtime::Precision::kFloat32) report.fast_path = fast.describe();
  }

  // Every plan side by side, and the layers of the one chosen at the first size.
  if (o.plans && device.is_cpu()) {
    report.plans =
        time_plans(net, o.sizes, o.batches, o.iters, peak_of(runtime::Precision::kFloat32));
    const ForwardResult* best = nullptr;
    for (const ForwardResult& r : report.plans) {
      if (r.h != first.h || r.w != first.w || r.batch != report.plans.front().batch) continue;
      if (!best || r.ms_per_image < best->ms_per_image) best = &r;
    }
    report.layers_plan = best->plan;
    spdlog::info("bench: the layers of plan {} at {}", best->plan, size_text(first.h, first.w));
    report.layers = time_layers(net, report.layers_plan, first, o.iters);
  }

  // Every path against the reference forward on photos at the first size.
  if (compared > 0) {
    spdlog::info("bench: every path against the reference forward on photos");
    report.reference = "model::MSINet forward, float32, NCHW, LibTorch " TORCH_VERSION;
    std::vector<runtime::InferenceOptions> reduced;
    for (runtime::Precision p : precisions)
      if (!device.is_cpu() || p != runtime::Precision::kFloat32) reduced.push_back(options_of(p));
    report.accuracy =
        compare_paths(net, device, pipeline::images_to_batch(stimuli_of(0, compared)), reduced);
  }

  // ONNX Runtime on the same weights, exported, after msinet.
  if (o.peer == "onnxruntime") {
    const fs::path script = resolve_peer_script(o);
    const util::ScratchDir work(fs::temp_directory_path() / "msinet-bench-onnx");
    const fs::path weights = work.path() / "random.msinet";
    write_random_weights(weights, o.seed);
    const OnnxRuntimeTimes t =
        time_onnxruntime(weights, script, work.path(), o.sizes, o.batches, report.threads, o.iters);
    report.onnxruntime = t.version;
    report.peer_forward = t.rows;
    report.peer.name = o.peer;
    report.peer.command = "node " + script.string();
  }

  if (o.train) {
    // As the train job: denormal Adam moments flushed to zero, as TensorFlow does on the CPU.
    const bool flushed = at::globalContext().setFlushDenormal(true);
    fs::path script;
    if (o.peer == "torch") {
      script = resolve_peer_script(o);
      report.peer.name = o.peer;
      report.peer.command = o.peer_python.string() + " " + script.string();
    }
    const std::vector<int>& batches = o.train_batches.empty() ? o.batches : o.train_batches;
    for (const util::Size& s : o.sizes) {
      for (int b : batches) {
        spdlog::info("bench: training step at {}, batch {}, NCHW and channels-last",
                     size_text(s.h, s.w), b);
        TrainResult t{s.h, s.w, b};
        {
          auto nchw = make_trainee(o.seed + 1, s, b, device, /*channels_last=*/false);
          auto cl = make_trainee(o.seed + 1, s, b, device, /*channels_last=*/true);
          const std::vector<Sample> samples =
              time_interleaved({[&] { train_step(*nchw); }, [&] { train_step(*cl); }}, o.iters);
          t.step_ms = 1e3 * samples[0].wall;
          t.step_ms_channels_last = 1e3 * samples[1].wall;
        }
        if (!script.empty()) {
          spdlog::info("bench: peer training step at {}, batch {}", size_text(s.h, s.w), b);
          for (const bool channels_last : {false, true}) {
            const PeerStep p = run_peer(o.peer_python, script, s, b, report.threads, o.iters,
                                        channels_last, o.seed + 1);
            (channels_last ? t.peer_step_ms_channels_last : t.peer_step_ms) = p.median_ms;
            report.peer.version = p.version;
            if (report.peer.output.empty()) {
              report.peer.parameters = p.parameters;
              report.peer.output = p.output;
            }
          }
        }
        report.train.push_back(t);
      }
    }
    if (flushed) at::globalContext().setFlushDenormal(false);
  }

  if (o.pipeline && !photos.empty()) {
    spdlog::info("bench: image pipeline on {} photo(s)", photos.size());
    PipelineResult r;
    r.images = static_cast<int>(photos.size());
    r.source = photo_source;
    std::vector<std::pair<int, int>> original;
    double t0 = wall_now();
    for (const auto& [name, bytes] : photos) {
      const cv::Mat rgb = data::decode_image_bytes(bytes, 3, name);
      original.emplace_back(rgb.rows, rgb.cols);
      const cv::Mat s = data::preprocess_stimulus(rgb, first.h, first.w);
      (void)s;
    }
    r.preprocess_per_second = static_cast<double>(photos.size()) / (wall_now() - t0);
    cv::Mat map(first.h, first.w, CV_32FC1);
    for (int y = 0; y < first.h; ++y) {
      for (int x = 0; x < first.w; ++x) {
        const double dy = (y - first.h / 2.0) / first.h, dx = (x - first.w / 2.0) / first.w;
        map.at<float>(y, x) = static_cast<float>(std::exp(-(dx * dx + dy * dy) * 8));
      }
    }
    t0 = wall_now();
    size_t bytes_out = 0;
    for (const auto& [h, w] : original) {
      const cv::Mat q = data::quantize_u8(data::restore_map(map, h, w));
      bytes_out += data::encode_jpeg(q, 100).size();
    }
    r.postprocess_per_second = static_cast<double>(original.size()) / (wall_now() - t0);
    (void)bytes_out;
    report.pipeline.push_back(r);
  }

  report.peak_rss_mb = peak_rss_mb();
  report.load_after = load_average();
  report.seconds = wall_now() - start;
  return report;
}

}  // namespace msinet::bench
