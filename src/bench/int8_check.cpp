// `msinet bench --calibrate-int8`: an int8 calibration measured on photos, and what int8 costs
// in accuracy and gains in time against float32 (both on the onednn plan).
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "measure.h"
#include "msinet/bench/bench.h"
#include "msinet/checkpoint/load.h"
#include "msinet/data/image.h"
#include "msinet/pipeline/tensors.h"
#include "msinet/runtime/inference.h"
#include "msinet/runtime/int8_calibration.h"
#include "msinet/util/error.h"

namespace msinet::bench {
namespace {

// Median wall time of `iters` passes after one warm-up, in milliseconds.
double median_ms(runtime::InferenceNet& net, const torch::Tensor& x, int iters) {
  net.forward(x);
  std::vector<double> ms;
  for (int i = 0; i < iters; ++i) {
    const auto start = std::chrono::steady_clock::now();
    net.forward(x);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

Int8CalibrationReport calibrate_int8(const Int8CalibrationOptions& o) {
  if (o.sizes.empty()) throw Error(ErrorCode::kUsage, "--calibrate-int8: no --sizes");
  if (o.iters < 1) throw Error(ErrorCode::kUsage, "--iters must be at least 1");
  std::vector<std::filesystem::path> files = list_photos(o.photos);
  if (files.empty()) {
    throw Error(ErrorCode::kInput, "--calibrate-int8 " + o.photos.string() +
                                       ": no photos there (.jpg or .jpeg files directly in the "
                                       "folder); give a folder of a few typical photos");
  }
  if (static_cast<int>(files.size()) > o.max_photos) files.resize(o.max_photos);
  model::MSINet net = o.weights.empty() ? model::random_msinet(o.seed) : model::MSINet();
  if (!o.weights.empty()) checkpoint::load_weights_file(net, o.weights);
  net->eval();

  const util::Size first = o.sizes.front();
  std::vector<torch::Tensor> images;
  for (const auto& f : files) {
    const cv::Mat stimulus = data::preprocess_stimulus(data::decode_image(f, 3), first.h, first.w);
    images.push_back(pipeline::images_to_batch({stimulus}));
  }
  spdlog::info("bench: int8 calibration on {} photo(s) of {} at {}x{}", images.size(),
               o.photos.string(), first.h, first.w);
  auto calibration = std::make_shared<runtime::Int8Calibration>(
      runtime::measure_int8_calibration(net, images, o.quantile));
  runtime::write_int8_calibration(*calibration, o.output);
  calibration->source = o.output.string();

  runtime::InferenceOptions fp32_options;
  fp32_options.plan = "onednn";
  runtime::InferenceOptions int8_options = fp32_options;
  int8_options.precision = runtime::Precision::kInt8;
  int8_options.int8_calibration = calibration;
  runtime::InferenceNet fp32(net, torch::kCPU, fp32_options);
  runtime::InferenceNet int8(net, torch::kCPU, int8_options);

  Int8CalibrationReport r;
  r.output = o.output;
  r.images = static_cast<int>(images.size());
  r.quantile = o.quantile;
  r.cc_min = 1;
  double sum = 0;
  for (const torch::Tensor& x : images) {
    const torch::Tensor want = fp32.forward(x), got = int8.forward(x);
    const double cc = correlation(got, want);
    sum += cc;
    r.cc_min = std::min(r.cc_min, cc);
    r.max_abs_diff = std::max(r.max_abs_diff, (got - want).abs().max().item<double>());
  }
  r.cc_mean = sum / static_cast<double>(images.size());
  for (const util::Size& s : o.sizes) {
    spdlog::info("bench: int8 and fp32 (onednn) at {}x{}, batch 1", s.h, s.w);
    const cv::Mat stimulus = data::preprocess_stimulus(data::decode_image(files[0], 3), s.h, s.w);
    const torch::Tensor x = pipeline::images_to_batch({stimulus});
    Int8CalibrationReport::Timing t;
    t.size = s;
    t.fp32_ms = median_ms(fp32, x, o.iters);
    t.int8_ms = median_ms(int8, x, o.iters);
    r.timings.push_back(t);
  }
  r.int8_plan = int8.explain();
  return r;
}

std::string format_int8_report(const Int8CalibrationReport& r) {
  char line[256];
  std::string s = "int8 calibration written to " + r.output.string() + "\n";
  std::snprintf(line, sizeof line,
                "int8 vs fp32 (onednn) maps on %d photo(s): CC mean %.5f, min %.5f; max abs "
                "difference %.4f (quantile %.4g)\n",
                r.images, r.cc_mean, r.cc_min, r.max_abs_diff, r.quantile);
  s += line;
  s += "size        fp32 ms   int8 ms   speed-up\n";
  for (const auto& t : r.timings) {
    std::snprintf(line, sizeof line, "%-10s %8.1f  %8.1f   %6.2fx\n",
                  (std::to_string(t.size.h) + "x" + std::to_string(t.size.w)).c_str(), t.fp32_ms,
                  t.int8_ms, t.int8_ms > 0 ? t.fp32_ms / t.int8_ms : 0.0);
    s += line;
  }
  s += "int8 network: " + r.int8_plan + "\n";
  return s;
}

}  // namespace msinet::bench
