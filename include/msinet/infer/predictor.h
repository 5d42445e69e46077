#pragma once
// A loaded network behind a LibTorch-free interface: preprocessed images in, maps out.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace msinet::infer {

/// Holds MSI-Net on a device with its weights loaded, in inference mode.
class Predictor {
 public:
  /// Loads `weights` (any form load_weights_file accepts); `device` is auto|cpu|cuda.
  Predictor(const std::filesystem::path& weights, const std::string& device);
  ~Predictor();
  Predictor(const Predictor&) = delete;
  Predictor& operator=(const Predictor&) = delete;

  /// Maps (CV_32FC1, values [0, 1], same size as the inputs) for a batch of preprocessed
  /// stimuli (CV_32FC3, RGB 0..255, all of one size that is a multiple of 8).
  std::vector<cv::Mat> predict(const std::vector<cv::Mat>& stimuli);

  /// "cpu" or "cuda:0".
  std::string device_name() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace msinet::infer
