#include "msinet/bench/bench.h"

#include "bench_shared.h"

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
#include "msinet/runtime/device.h"
#include "msinet/runtime/inference.h"
#include "msinet/runtime/memory.h"
#include "msinet/runtime/precision.h"
#include "msinet/train/loss.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"

extern char** environ;

namespace msinet::bench {

namespace fs = std::filesystem;

namespace {

double wall_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpu_now() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double load_average() {
  double load[1] = {-1};
  return getloadavg(load, 1) == 1 ? load[0] : -1;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

std::string size_text(int h, int w) { return std::to_string(h) + "x" + std::to_string(w); }

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// "model name" of the first processor and which of the instruction sets that matter here the
// kernel reports in its "flags".
void read_cpuinfo(std::string* model, std::string* isa) {
  std::ifstream in("/proc/cpuinfo");
  std::string line, flags;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name" && model->empty()) *model = value;
    if (key == "flags" && flags.empty()) flags = " " + value + " ";
  }
  if (model->empty()) *model = "unknown CPU";
  for (const char* f : {"avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"}) {
    if (flags.find(std::string(" ") + f + " ") != std::string::npos)
      *isa += (isa->empty() ? "" : " ") + std::string(f);
  }
  if (isa->empty()) *isa = "none of avx2, avx512f, avx512_bf16, amx";
}

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

// ---- Timing
// --------------------------------------------------------------------------------------

struct Sample {
  double wall = 0, cpu = 0;
};

// One warm-up call, then `iters` timed calls; medians.
Sample time_calls(const std::function<void()>& f, int iters) {
  f();
  std::vector<double> walls, cpus;
  for (int i = 0; i < iters; ++i) {
    const double w0 = wall_now(), c0 = cpu_now();
    f();
    walls.push_back(wall_now() - w0);
    cpus.push_back(cpu_now() - c0);
  }
  return {median(walls), median(cpus)};
}

// Each function warmed up once, then called round-robin `iters` times, so that a change in the
// machine's load hits every variant alike; medians.
std::vector<Sample> time_interleaved(const std::vector<std::function<void()>>& fs, int iters) {
  for (const auto& f : fs) f();
  std::vector<std::vector<double>> walls(fs.size()), cpus(fs.size());
  for (int i = 0; i < iters; ++i) {
    for (size_t k = 0; k < fs.size(); ++k) {
      const double w0 = wall_now(), c0 = cpu_now();
      fs[k]();
      walls[k].push_back(wall_now() - w0);
      cpus[k].push_back(cpu_now() - c0);
    }
  }
  std::vector<Sample> out;
  for (size_t k = 0; k < fs.size(); ++k) out.push_back({median(walls[k]), median(cpus[k])});
  return out;
}

ForwardResult forward_row(const std::string& variant, const std::string& precision, int h, int w,
                          int batch, const Sample& s, double peak) {
  ForwardResult r;
  r.variant = variant;
  r.precision = precision;
  r.h = h;
  r.w = w;
  r.batch = batch;
  r.ms_per_image = 1e3 * s.wall / batch;
  r.images_per_second = s.wall > 0 ? batch / s.wall : 0;
  r.cpu_ms_per_image = 1e3 * s.cpu / batch;
  r.gflop_per_image = model::forward_flops(h, w) / 1e9;
  r.gflops = r.gflop_per_image * r.images_per_second;
  r.peak_fraction = peak > 0 ? r.gflops / peak : 0;
  return r;
}

// ---- Inputs
// ----------------------------------------------------------------------------------------

}  // namespace

// Random biases as well as weights, so that every layer shapes the map.
model::MSINet random_net(uint64_t seed) {
  torch::manual_seed(seed);
  model::MSINet net;
  torch::NoGradGuard no_grad;
  for (auto& item : net->named_parameters()) {
    const std::string& k = item.key();
    if (k.size() > 5 && k.compare(k.size() - 5, 5, ".bias") == 0) item.value().uniform_(-0.1, 0.1);
  }
  net->eval();
  return net;
}

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

}  // namespace

double correlation(const torch::Tensor& a, const torch::Tensor& b) {
  torch::Tensor x = a.flatten().to(torch::kFloat64), y = b.flatten().to(torch::kFloat64);
  x = x - x.mean();
  y = y - y.mean();
  const double den = (x.norm() * y.norm()).item<double>();
  return den > 0 ? (x * y).sum().item<double>() / den : 0.0;
}

namespace {

torch::Tensor to_cpu(const torch::Tensor& t) { return t.to(torch::kCPU); }

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
  t->net = random_net(seed);
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

// Runs `argv` (no shell) and returns what it wrote to stdout; its stderr is ours. Throws when it
// cannot be started or does not exit with 0.
std::string run_capture(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe(fds) != 0) throw Error(ErrorCode::kInternal, "cannot create a pipe for the peer");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw Error(ErrorCode::kInput, "cannot run the peer '" + argv[0] + "': " + std::strerror(rc) +
                                       "; give a Python with PyTorch by --peer-python");
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (const std::string& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    throw Error(ErrorCode::kInternal,
                "the peer failed (" +
                    (WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                                       : std::string("killed by a signal")) +
                    "): " + cmd);
  }
  return out;
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
  const std::string out = run_capture(argv);
  const size_t end = out.find_last_not_of("\n\r ");
  const size_t begin = end == std::string::npos ? std::string::npos : out.rfind('\n', end);
  const std::string line =
      end == std::string::npos ? "" : out.substr(begin == std::string::npos ? 0 : begin + 1);
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
  const fs::path rel = fs::path("tests") / "tools" / "torch_train_peer.py";
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
  model::MSINet net = random_net(seed);
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
    const runtime::Precision p = runtime::parse_precision(name);
    // The sweep times random weights, which no calibration belongs to.
    if (p == runtime::Precision::kInt8) {
      throw Error(ErrorCode::kUsage,
                  "--precision int8: bench times int8 with --calibrate-int8 DIR (a calibration "
                  "measured on those photos, int8 against fp32 at each of --sizes)");
    }
    runtime::check_precision(p, device);
  }
  for (int b : o.train_batches) {
    if (b < 1) throw Error(ErrorCode::kUsage, "training batch sizes must be at least 1");
  }
  if (!o.peer.empty()) {
    if (o.peer != "torch")
      throw Error(ErrorCode::kUsage, "unknown peer '" + o.peer + "': the peer is 'torch'");
    if (!device.is_cpu())
      throw Error(ErrorCode::kUsage, "the torch peer times the CPU only; use --device cpu");
    if (!o.train)
      throw Error(ErrorCode::kUsage, "--peer times the training step: drop --skip train");
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
  read_cpuinfo(&report.cpu_model, &report.cpu_isa);

  std::vector<runtime::Precision> precisions;
  if (o.precisions.empty()) {
    precisions.push_back(runtime::Precision::kFloat32);
    for (auto p : {runtime::Precision::kBFloat16, runtime::Precision::kFloat16}) {
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

  model::MSINet net = random_net(o.seed);
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

  // Forward sweep: every precision, size and batch.
  for (runtime::Precision p : o.forward ? precisions : std::vector<runtime::Precision>{}) {
    runtime::InferenceOptions options;
    options.precision = p;
    runtime::InferenceNet fast(net, device, options);
    if (p == runtime::Precision::kFloat32) report.fast_path = fast.describe();
    for (const util::Size& s : o.sizes) {
      for (int b : o.batches) {
        spdlog::info("bench: forward {} {} batch {}", runtime::precision_name(p),
                     size_text(s.h, s.w), b);
        const torch::Tensor input = torch::rand({b, 3, s.h, s.w}) * 255;
        const Sample sample = time_calls([&] { to_cpu(fast.forward(input)); }, o.iters);
        report.forward.push_back(
            forward_row("msinet", runtime::precision_name(p), s.h, s.w, b, sample, peak_of(p)));
      }
    }
  }

  // msinet against the plain loop (and each optimisation alone at the first size), batch 1,
  // fp32, interleaved.
  if (o.plain || o.ablation) {
    runtime::InferenceNet plain(net, device, runtime::plain_options());
    struct Variant {
      std::string name;
      runtime::InferenceOptions options;
    };
    std::vector<Variant> steps;
    if (o.ablation && device.is_cpu()) {
      runtime::InferenceOptions nchw_packed;
      nchw_packed.channels_last = false;
      runtime::InferenceOptions cl;
      cl.prepack = false;
      cl.nhwc_kernels = false;
      runtime::InferenceOptions cl_packed;
      cl_packed.nhwc_kernels = false;
      steps = {{"NCHW + packed conv+ReLU", nchw_packed},
               {"channels-last", cl},
               {"channels-last + packed conv+ReLU", cl_packed}};
    }
    for (size_t si = 0; si < o.sizes.size(); ++si) {
      const util::Size& s = o.sizes[si];
      if (!o.plain && si > 0) break;
      spdlog::info("bench: msinet vs plain loop at {}", size_text(s.h, s.w));
      const torch::Tensor input = torch::rand({1, 3, s.h, s.w}) * 255;
      runtime::InferenceNet fast(net, device);
      std::vector<std::unique_ptr<runtime::InferenceNet>> ablations;
      std::vector<std::string> names;
      std::vector<std::function<void()>> calls;
      if (o.plain) {
        names.push_back("plain");
        calls.push_back([&] { to_cpu(plain.forward(input)); });
      }
      if (si == 0) {
        for (const Variant& v : steps) {
          ablations.push_back(std::make_unique<runtime::InferenceNet>(net, device, v.options));
          runtime::InferenceNet* a = ablations.back().get();
          names.push_back(v.name);
          calls.push_back([a, &input] { to_cpu(a->forward(input)); });
        }
      }
      names.push_back("msinet");
      calls.push_back([&] { to_cpu(fast.forward(input)); });
      const std::vector<Sample> samples = time_interleaved(calls, o.iters);
      for (size_t k = 0; k < samples.size(); ++k) {
        report.compare.push_back(forward_row(names[k], "fp32", s.h, s.w, 1, samples[k],
                                             peak_of(runtime::Precision::kFloat32)));
      }
    }
  }

  std::string photo_source;
  const auto photos = load_photos(o.photos, &photo_source);

  // Reduced precision (and the plain loop) against msinet fp32 on photos at the first size.
  const bool reduced = std::any_of(precisions.begin(), precisions.end(), [](runtime::Precision p) {
    return p != runtime::Precision::kFloat32;
  });
  if ((reduced || o.plain) && o.accuracy_photos > 0) {
    spdlog::info("bench: maps against fp32 on photos");
    std::vector<cv::Mat> stimuli;
    for (const auto& [name, bytes] : photos) {
      if (static_cast<int>(stimuli.size()) >= o.accuracy_photos) break;
      stimuli.push_back(
          data::preprocess_stimulus(data::decode_image_bytes(bytes, 3, name), first.h, first.w));
    }
    runtime::InferenceNet fp32(net, device);
    std::vector<torch::Tensor> reference;
    for (size_t i = 0; i < stimuli.size(); i += 4) {
      const std::vector<cv::Mat> part(stimuli.begin() + i,
                                      stimuli.begin() + std::min(stimuli.size(), i + 4));
      reference.push_back(to_cpu(fp32.forward(pipeline::images_to_batch(part))));
    }
    const torch::Tensor ref = torch::cat(reference);
    if (o.plain) {
      runtime::InferenceNet plain(net, device, runtime::plain_options());
      const int64_t k = std::min<int64_t>(2, ref.size(0));
      const std::vector<cv::Mat> part(stimuli.begin(), stimuli.begin() + k);
      report.plain_max_abs_diff =
          (to_cpu(plain.forward(pipeline::images_to_batch(part))) - ref.narrow(0, 0, k))
              .abs()
              .max()
              .item<double>();
    }
    for (runtime::Precision p : precisions) {
      if (p == runtime::Precision::kFloat32) continue;
      runtime::InferenceOptions options;
      options.precision = p;
      runtime::InferenceNet low(net, device, options);
      std::vector<torch::Tensor> maps;
      for (size_t i = 0; i < stimuli.size(); i += 4) {
        const std::vector<cv::Mat> part(stimuli.begin() + i,
                                        stimuli.begin() + std::min(stimuli.size(), i + 4));
        maps.push_back(to_cpu(low.forward(pipeline::images_to_batch(part))));
      }
      const torch::Tensor m = torch::cat(maps);
      AccuracyResult a;
      a.precision = runtime::precision_name(p);
      a.images = static_cast<int>(m.size(0));
      a.cc_min = 1;
      double sum = 0;
      for (int64_t i = 0; i < m.size(0); ++i) {
        const double cc = correlation(m[i], ref[i]);
        sum += cc;
        a.cc_min = std::min(a.cc_min, cc);
      }
      a.cc_mean = sum / static_cast<double>(std::max<int64_t>(1, m.size(0)));
      a.max_abs_diff = (m - ref).abs().max().item<double>();
      report.accuracy.push_back(a);
    }
  }

  if (o.train) {
    // As the train job: denormal Adam moments flushed to zero, as TensorFlow does on the CPU.
    const bool flushed = at::globalContext().setFlushDenormal(true);
    fs::path script;
    if (!o.peer.empty()) {
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

// ---- Output
// ----------------------------------------------------------------------------------------

namespace {

std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

std::string rpad(const std::string& s, size_t width) {
  return s.size() >= width ? " " + s : std::string(width - s.size(), ' ') + s;
}

const ForwardResult* find_compare(const BenchReport& r, const std::string& variant, int h, int w) {
  for (const auto& c : r.compare) {
    if (c.variant == variant && c.h == h && c.w == w) return &c;
  }
  return nullptr;
}

}  // namespace

std::string format_table(const BenchReport& r) {
  std::ostringstream out;
  out << "msinet bench: " << r.device << ", " << r.threads
      << " thread(s); fp32 path: " << (r.fast_path.empty() ? "not timed" : r.fast_path) << "\n";
  out << "machine: " << r.cpu_model << " (" << r.cpu_isa << "); " << r.cpu_flags
      << "; load average " << fixed(r.load_before, 2) << " -> " << fixed(r.load_after, 2) << "\n";
  if (r.peak.fp32_gflops > 0) {
    out << "peak: fp32 " << fixed(r.peak.fp32_gflops, 1) << " GFLOP/s";
    if (r.peak.bf16_gflops > 0) out << ", bf16 " << fixed(r.peak.bf16_gflops, 1) << " GFLOP/s";
    out << " (" << r.peak.method << ")\n";
  }
  if (!r.forward.empty()) {
    out << "\nforward pass (median after a warm-up; % of the same precision's peak)\n";
    out << pad("precision", 10) << pad("size", 9) << rpad("batch", 6) << rpad("ms/img", 10)
        << rpad("img/s", 9) << rpad("cpu ms/img", 12) << rpad("GFLOP/img", 11) << rpad("GFLOP/s", 9)
        << rpad("% peak", 8) << "\n";
  }
  for (const auto& f : r.forward) {
    out << pad(f.precision, 10) << pad(size_text(f.h, f.w), 9) << rpad(std::to_string(f.batch), 6)
        << rpad(fixed(f.ms_per_image, 1), 10) << rpad(fixed(f.images_per_second, 3), 9)
        << rpad(fixed(f.cpu_ms_per_image, 1), 12) << rpad(fixed(f.gflop_per_image, 1), 11)
        << rpad(fixed(f.gflops, 1), 9)
        << rpad(f.peak_fraction > 0 ? fixed(100 * f.peak_fraction, 0) + "%" : "-", 8) << "\n";
  }
  if (!r.compare.empty()) {
    out << "\nmsinet vs the plain LibTorch loop (fp32, batch 1, runs interleaved)\n";
    out << pad("variant", 34) << pad("size", 9) << rpad("ms/img", 10) << rpad("cpu ms/img", 12)
        << rpad("speed-up vs plain", 19) << "\n";
    for (const auto& c : r.compare) {
      const ForwardResult* plain = find_compare(r, "plain", c.h, c.w);
      const std::string name =
          c.variant == "plain" ? "plain loop (NCHW conv2d + relu, no packing)" : c.variant;
      out << pad(name, 34) << pad(size_text(c.h, c.w), 9) << rpad(fixed(c.ms_per_image, 1), 10)
          << rpad(fixed(c.cpu_ms_per_image, 1), 12)
          << rpad(plain ? fixed(plain->ms_per_image / c.ms_per_image, 2) + "x" : "-", 19) << "\n";
    }
  }
  if (r.plain_max_abs_diff >= 0) {
    out << "plain loop vs msinet fp32 maps: max |diff| " << fixed(r.plain_max_abs_diff, 7) << "\n";
  }
  out << "\n";
  for (const auto& a : r.accuracy) {
    out << a.precision << " vs fp32 on " << a.images << " photo(s): CC mean " << fixed(a.cc_mean, 5)
        << ", min " << fixed(a.cc_min, 5) << "; max |diff| " << fixed(a.max_abs_diff, 4) << "\n";
  }
  if (!r.train.empty()) {
    const bool peer = !r.peer.name.empty();
    out << "\ntraining step (forward, KLD, backward, Adam; median ms; NCHW and channels-last "
           "interleaved)";
    if (peer) out << "; peer: PyTorch " << r.peer.version << " eager, run after msinet";
    out << "\n";
    out << pad("size", 9) << rpad("batch", 6) << rpad("NCHW", 9) << rpad("ch-last", 9)
        << rpad("NCHW/ch-last", 14);
    if (peer) {
      out << rpad("torch NCHW", 12) << rpad("torch ch-last", 15) << rpad("msinet/torch", 14)
          << rpad("best/best", 11);
    }
    out << "\n";
    for (const auto& t : r.train) {
      out << pad(size_text(t.h, t.w), 9) << rpad(std::to_string(t.batch), 6)
          << rpad(fixed(t.step_ms, 1), 9) << rpad(fixed(t.step_ms_channels_last, 1), 9)
          << rpad(t.step_ms_channels_last > 0 ? fixed(t.step_ms / t.step_ms_channels_last, 3) : "-",
                  14);
      if (peer) {
        const double best = std::min(t.step_ms, t.step_ms_channels_last);
        const double peer_best = std::min(t.peer_step_ms, t.peer_step_ms_channels_last);
        out << rpad(fixed(t.peer_step_ms, 1), 12)
            << rpad(fixed(t.peer_step_ms_channels_last, 1), 15)
            << rpad(t.peer_step_ms > 0 ? fixed(t.step_ms / t.peer_step_ms, 3) : "-", 14)
            << rpad(peer_best > 0 ? fixed(best / peer_best, 3) : "-", 11);
      }
      out << "\n";
    }
    if (peer) {
      out << "msinet/torch: NCHW step over NCHW step (below 1: msinet faster); best/best: each "
             "side's faster format; parameters msinet "
          << r.parameters << ", peer " << r.peer.parameters
          << (r.parameters == r.peer.parameters ? " (equal)" : " (DIFFERENT)") << "\n";
    }
  }
  for (const auto& p : r.pipeline) {
    out << "image pipeline, 1 thread, " << p.images << " photo(s) from " << p.source
        << ": decode+resize+pad " << fixed(p.preprocess_per_second, 1)
        << " img/s; restore+quantise+JPEG " << fixed(p.postprocess_per_second, 1) << " img/s\n";
  }
  for (const auto& t : r.test_job) {
    out << "test job, " << t.images << " photos, batch " << t.batch << ", " << t.precision
        << ": wall " << fixed(t.wall_seconds, 2) << " s, sum of forward passes "
        << fixed(t.forward_seconds, 2) << " s (wall/forward "
        << fixed(t.forward_seconds > 0 ? t.wall_seconds / t.forward_seconds : 0, 3)
        << "); peak RSS after it " << fixed(t.peak_rss_mb, 0) << " MiB\n";
  }
  out << "peak RSS " << fixed(r.peak_rss_mb, 0) << " MiB; bench took " << fixed(r.seconds, 1)
      << " s\n";
  return out.str();
}

std::string to_json(const BenchReport& r) {
  using nlohmann::json;
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  auto forward_list = [&](const std::vector<ForwardResult>& rows) {
    json list = json::array();
    for (const ForwardResult& f : rows) {
      list.push_back({{"variant", f.variant},
                      {"precision", f.precision},
                      {"height", f.h},
                      {"width", f.w},
                      {"batch", f.batch},
                      {"ms_per_image", num(f.ms_per_image)},
                      {"images_per_second", num(f.images_per_second)},
                      {"cpu_ms_per_image", num(f.cpu_ms_per_image)},
                      {"gflop_per_image", num(f.gflop_per_image)},
                      {"gflops", num(f.gflops)},
                      {"peak_fraction", num(f.peak_fraction)}});
    }
    return list;
  };
  json root;
  root["device"] = r.device;
  root["threads"] = r.threads;
  root["fast_path"] = r.fast_path;
  root["machine"] = r.cpu_flags;
  root["cpu_model"] = r.cpu_model;
  root["cpu_isa"] = r.cpu_isa;
  root["parameters"] = r.parameters;
  root["load_average"] = {{"before", num(r.load_before)}, {"after", num(r.load_after)}};
  root["peak"] = {{"threads", r.peak.threads},
                  {"fp32_gflops", num(r.peak.fp32_gflops)},
                  {"bf16_gflops", num(r.peak.bf16_gflops)},
                  {"method", r.peak.method}};
  root["forward"] = forward_list(r.forward);
  root["compare"] = forward_list(r.compare);
  root["plain_max_abs_diff"] = r.plain_max_abs_diff >= 0 ? num(r.plain_max_abs_diff) : json();
  root["accuracy"] = json::array();
  for (const auto& a : r.accuracy) {
    root["accuracy"].push_back({{"precision", a.precision},
                                {"images", a.images},
                                {"cc_mean", num(a.cc_mean)},
                                {"cc_min", num(a.cc_min)},
                                {"max_abs_diff", num(a.max_abs_diff)}});
  }
  root["train"] = json::array();
  for (const auto& t : r.train) {
    json row = {{"height", t.h},
                {"width", t.w},
                {"batch", t.batch},
                {"step_ms", num(t.step_ms)},
                {"step_ms_channels_last", num(t.step_ms_channels_last)},
                {"nchw_over_channels_last",
                 t.step_ms_channels_last > 0 ? num(t.step_ms / t.step_ms_channels_last) : json()}};
    if (!r.peer.name.empty()) {
      row["peer_step_ms"] = num(t.peer_step_ms);
      row["peer_step_ms_channels_last"] = num(t.peer_step_ms_channels_last);
      row["msinet_over_peer"] = t.peer_step_ms > 0 ? num(t.step_ms / t.peer_step_ms) : json();
      row["msinet_over_peer_channels_last"] =
          t.peer_step_ms_channels_last > 0
              ? num(t.step_ms_channels_last / t.peer_step_ms_channels_last)
              : json();
    }
    root["train"].push_back(row);
  }
  if (!r.peer.name.empty()) {
    root["peer"] = {{"name", r.peer.name},
                    {"torch", r.peer.version},
                    {"command", r.peer.command},
                    {"parameters", r.peer.parameters},
                    {"output_shape", r.peer.output}};
  }
  root["pipeline"] = json::array();
  for (const auto& p : r.pipeline) {
    root["pipeline"].push_back({{"images", p.images},
                                {"source", p.source},
                                {"preprocess_per_second", num(p.preprocess_per_second)},
                                {"postprocess_per_second", num(p.postprocess_per_second)}});
  }
  root["test_job"] = json::array();
  for (const auto& t : r.test_job) {
    root["test_job"].push_back({{"images", t.images},
                                {"batch", t.batch},
                                {"precision", t.precision},
                                {"wall_seconds", num(t.wall_seconds)},
                                {"forward_seconds", num(t.forward_seconds)},
                                {"peak_rss_mb", num(t.peak_rss_mb)}});
  }
  root["peak_rss_mb"] = num(r.peak_rss_mb);
  root["seconds"] = num(r.seconds);
  return root.dump(2) + "\n";
}

}  // namespace msinet::bench
