#pragma once
// A network prepared for inference behind a LibTorch-free interface: preprocessed images in,
// maps out.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace msinet::runtime {
class InferenceNet;
}  // namespace msinet::runtime

namespace msinet::pipeline {

/// Where and how the network runs (configuration keys device, precision, runtime_plan,
/// int8_calibration).
struct NetworkOptions {
  std::string device = "auto";     ///< auto | cpu | cuda (runtime::resolve_device)
  std::string precision = "fp32";  ///< fp32 | bf16 | fp16 | int8 (runtime::parse_precision)
  /// Precision int8: a file of runtime::write_int8_calibration for these weights.
  std::string int8_calibration;
  /// auto (measured per input shape, kept in default_plan_cache()) or a runtime plan's name
  /// (runtime::cpu_plan_names()).
  std::string plan = "auto";
};

/// Holds MSI-Net prepared for inference (runtime::InferenceNet) on a device.
class Predictor {
 public:
  /// Loads `weights` (any form checkpoint::load_weights_file accepts) to run as `network` says.
  /// Throws Error(kUsage) when the precision or plan cannot run there.
  Predictor(const std::filesystem::path& weights, const NetworkOptions& network);
  /// Runs an already prepared network.
  explicit Predictor(std::unique_ptr<runtime::InferenceNet> net);
  ~Predictor();
  Predictor(const Predictor&) = delete;
  Predictor& operator=(const Predictor&) = delete;

  /// Maps (CV_32FC1, values [0, 1], same size as the inputs) for a batch of preprocessed
  /// stimuli (CV_32FC3, RGB 0..255, all of one size that is a multiple of 8). Calls from
  /// several threads (pipelines sharing one network) run one at a time.
  std::vector<cv::Mat> predict(const std::vector<cv::Mat>& stimuli);

  /// "cpu" or "cuda:0".
  std::string device_name() const;

  /// Device, precision and the optimisations in use, in one line.
  std::string describe() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace msinet::pipeline
