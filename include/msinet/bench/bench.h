#pragma once
// `msinet bench`: how fast this machine runs MSI-Net. Forward speed per input size, batch and
// precision next to a peak measured in the same run; every runtime plan timed interleaved (the
// plain loop among them) with the per-layer times of the chosen one; every path's maps against
// the reference forward on real photos; ONNX Runtime on the same network; training step; image
// pipeline; memory. Weights are random (seeded): speed does not depend on their values.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "msinet/util/size.h"

namespace msinet::bench {

/// What to measure.
struct BenchOptions {
  /// Input sizes (the three distinct dataset sizes by default).
  std::vector<util::Size> sizes = {{240, 320}, {360, 360}, {216, 384}};
  /// Batch sizes.
  std::vector<int> batches = {1, 4, 8};
  /// fp32 | bf16 | fp16; empty = fp32 plus every reduced precision the device supports.
  std::vector<std::string> precisions;
  /// Timed runs per configuration (the median is reported), each after one warm-up run.
  int iters = 3;
  /// auto | cpu | cuda.
  std::string device = "auto";
  /// Folder of real photos (*.jpg, *.jpeg); generated images when it has none.
  std::filesystem::path photos = "/usr/share/doc/opencv-doc/examples/data";
  /// Photos on which every path's maps are compared with the reference forward (0: none).
  int accuracy_photos = 16;
  /// Time the forward pass at every precision, size and batch.
  bool forward = true;
  /// Also time every runtime plan (runtime::cpu_plan_names(), fp32, every size and batch,
  /// interleaved) and each layer of the plan chosen at the first size, batch 1.
  bool plans = true;
  /// Also time the training step (every size, each of train_batches, NCHW and channels-last).
  bool train = true;
  /// Batch sizes of the training step; empty = `batches`.
  std::vector<int> train_batches = {1};
  /// Peer timed in the same run: "" (none), "torch" (the training step in PyTorch eager, run as
  /// `peer_python peer_script`) or "onnxruntime" (the forward pass of the same network exported
  /// by `msinet export`, in ONNX Runtime through `node peer_script`).
  std::string peer;
  /// Interpreter of the peer script.
  std::filesystem::path peer_python = "/usr/bin/python3";
  /// tests/tools/torch_train_peer.py (torch) or tests/node/run_model.js (onnxruntime); empty =
  /// looked up beside the executable and in the current folder.
  std::filesystem::path peer_script;
  /// Also time decoding/preprocessing and postprocessing.
  bool pipeline = true;
  /// Seed of the random weights and inputs.
  uint64_t seed = 42;
};

/// One timed forward configuration.
struct ForwardResult {
  std::string variant;    ///< "msinet" (the plan auto chooses) or a plan's name
  std::string plan;       ///< "msinet" rows: the plan that ran
  std::string precision;  ///< fp32 | bf16 | fp16
  int h = 0, w = 0, batch = 0;
  double ms_per_image = 0;  ///< median wall time of a batch / batch
  double images_per_second = 0;
  double cpu_ms_per_image = 0;  ///< process CPU time (all threads) per image, median
  double gflop_per_image = 0;   ///< from the layer table
  double gflops = 0;            ///< achieved
  double peak_fraction = 0;     ///< of the measured peak of the same precision (0: no peak)
};

/// Peak arithmetic rate of this machine on the benchmark's threads, measured in the run.
struct PeakResult {
  int threads = 0;
  double fp32_gflops = 0;  ///< FMA loop (AVX-512 or AVX2, whichever is faster)
  double bf16_gflops = 0;  ///< AVX512_BF16 dot-product loop; 0 when the CPU lacks it
  std::string method;      ///< what was run
};

/// Training step: forward, KLD loss, backward, Adam; NCHW and channels-last timed interleaved.
struct TrainResult {
  int h = 0, w = 0, batch = 0;
  double step_ms = 0;                     ///< median, NCHW (model and input)
  double step_ms_channels_last = 0;       ///< median, channels-last model and input
  double peer_step_ms = 0;                ///< the peer's median, NCHW; 0: not run
  double peer_step_ms_channels_last = 0;  ///< the peer's median, channels-last; 0: not run
};

/// The peer of the training step (PyTorch eager from tests/tools/torch_train_peer.py).
struct PeerInfo {
  std::string name;             ///< "torch"; empty: no peer
  std::string version;          ///< the peer's torch.__version__
  std::string command;          ///< the interpreter and script run
  int64_t parameters = 0;       ///< the peer model's parameter count
  std::vector<int64_t> output;  ///< the peer model's output shape at the first size and batch
};

/// Image pipeline rates, single thread.
struct PipelineResult {
  int images = 0;
  std::string source;                 ///< the photo folder, or "generated"
  double preprocess_per_second = 0;   ///< decode (from memory) + aspect resize + pad
  double postprocess_per_second = 0;  ///< restore + quantise + JPEG encode (to memory)
};

/// One path (a precision and plan) against the reference forward on real photos.
struct AccuracyResult {
  std::string precision;
  std::string plan;  ///< the plan that ran (auto's choice for a reduced precision)
  int images = 0;
  double cc_mean = 0, cc_min = 0;  ///< Pearson correlation of the maps, per image
  double max_abs_diff = 0;         ///< over all pixels of the [0, 1] maps
};

/// The `test` job over a folder of photos.
struct TestJobResult {
  int images = 0;
  int batch = 0;
  std::string precision;
  double wall_seconds = 0;     ///< the whole job, weights loading included
  double forward_seconds = 0;  ///< sum of the forward passes
  double peak_rss_mb = 0;      ///< process peak after the job
};

/// One layer of a plan, timed by runtime::LayerClock.
struct LayerResult {
  std::string name;  ///< model::module_path of the kLayers row
  double ms = 0;     ///< median over the timed passes
  double gflop = 0;  ///< its share of forward_flops
  double gflops = 0;
};

/// ONNX Runtime on the network `msinet export` writes, timed after msinet at the same size,
/// batch and threads.
struct PeerForwardResult {
  int h = 0, w = 0, batch = 0;
  double ms_per_image = 0;  ///< median of a batch / batch
};

/// Everything measured.
struct BenchReport {
  std::string device;     ///< "cpu" or "cuda:0"
  std::string fast_path;  ///< InferenceNet::describe() of fp32
  std::string cpu_flags;  ///< AVX-512 / bf16 / oneDNN availability
  std::string cpu_model;  ///< "model name" of /proc/cpuinfo
  std::string cpu_isa;    ///< which of avx2, avx512f, avx512_bf16, amx_tile the CPU reports
  int threads = 0;
  int64_t parameters = 0;                    ///< msinet's parameter count
  double load_before = -1, load_after = -1;  ///< 1-minute load average
  PeakResult peak;
  std::vector<ForwardResult> forward;  ///< msinet: every precision, size and batch
  /// fp32: every plan, every size and batch, timed round-robin per size and batch.
  std::vector<ForwardResult> plans;
  /// The layers of `layers_plan` at the first size, batch 1.
  std::vector<LayerResult> layers;
  std::string layers_plan;
  /// What the accuracy rows are compared with (model::MSINet's own forward, float32).
  std::string reference;
  std::vector<AccuracyResult> accuracy;
  /// The photos int8's calibration was measured on (empty: int8 not run).
  std::string int8_calibration;
  /// ONNX Runtime (peer "onnxruntime"): version and rows.
  std::string onnxruntime;
  std::vector<PeerForwardResult> peer_forward;
  std::vector<TrainResult> train;
  PeerInfo peer;
  std::vector<PipelineResult> pipeline;
  std::vector<TestJobResult> test_job;
  double peak_rss_mb = 0;
  double seconds = 0;  ///< the whole benchmark
};

/// Parses "240x320,360x360" (multiples of 8); throws Error(kUsage) naming the bad item.
std::vector<util::Size> parse_sizes(const std::string& text);

/// Parses "1,4,8" (positive); throws Error(kUsage) naming the bad item.
std::vector<int> parse_batches(const std::string& text);

/// Throws Error(kUsage) for options run_bench would refuse (iterations, a precision the device
/// cannot run), before anything is measured.
void check_options(const BenchOptions& options);

/// The peer script run_bench would run: `options.peer_script`, or tests/tools/torch_train_peer.py
/// beside the executable's folder or in the current folder; throws Error(kUsage) when none is.
std::filesystem::path resolve_peer_script(const BenchOptions& options);

/// Runs every measurement `options` asks for (everything but the test job).
BenchReport run_bench(const BenchOptions& options);

/// The photos run_bench uses: sorted images directly in `folder` (none when absent).
std::vector<std::filesystem::path> list_photos(const std::filesystem::path& folder);

/// Writes a checkpoint of MSI-Net with random weights and biases from `seed` (for timing the
/// test job, and for tests that need a network whose maps vary).
void write_random_weights(const std::filesystem::path& path, uint64_t seed);

/// `msinet bench --calibrate-int8 DIR`: an int8 calibration measured on photos, and int8
/// against float32 (the onednn plan) on them.
struct Int8CalibrationOptions {
  std::filesystem::path photos;   ///< folder of photos (resized as the test job does)
  std::filesystem::path weights;  ///< empty: the random weights of `seed`
  uint64_t seed = 42;
  std::filesystem::path output;  ///< where the calibration is written
  /// The first: the size the photos are resized to; each: int8 and float32 timed at batch 1.
  std::vector<util::Size> sizes;
  int iters = 3;        ///< timed runs per network and size (the median is reported)
  int max_photos = 32;  ///< the first this many photos of the folder
  double quantile = 0.9999;
};

/// What calibrate_int8 measured.
struct Int8CalibrationReport {
  std::filesystem::path output;
  int images = 0;
  double quantile = 0;
  double cc_mean = 0, cc_min = 0;  ///< int8 maps against float32, per photo
  double max_abs_diff = 0;         ///< the largest over the photos' maps (values in [0, 1])
  struct Timing {
    util::Size size;
    double fp32_ms = 0, int8_ms = 0;  ///< whole network, batch 1, median
  };
  std::vector<Timing> timings;
  std::string int8_plan;  ///< InferenceNet::explain() of the int8 network
};

/// Measures a calibration on the photos of `options.photos` (Error(kInput) when it has none),
/// writes it to `options.output`, and compares int8 with float32 on the same photos.
Int8CalibrationReport calibrate_int8(const Int8CalibrationOptions& options);

/// The report as lines of text.
std::string format_int8_report(const Int8CalibrationReport& report);

/// Peak resident set size of this process so far, in MiB.
double peak_rss_mb();

/// The report as an aligned text table.
std::string format_table(const BenchReport& report);

/// The report as JSON.
std::string to_json(const BenchReport& report);

}  // namespace msinet::bench
