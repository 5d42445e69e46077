#pragma once
// OpenCV images <-> LibTorch batches: the one conversion between the image pipeline and the
// network.

#include <vector>

#include <torch/types.h>
#include <opencv2/core.hpp>

namespace msinet::pipeline {

/// Equally sized, continuous float images (CV_32FC3 stimuli or CV_32FC1 maps) as a float32
/// [N, C, H, W] CPU tensor whose memory is NHWC (channels-last strides). The pixels are copied
/// into `storage`, which is reused while its shape holds (pinned memory when `pinned`).
/// Throws Error(kInternal) for images of other types or sizes.
torch::Tensor images_to_batch(const std::vector<cv::Mat>& images, torch::Tensor& storage,
                              bool pinned = false);

/// As above, into fresh memory.
torch::Tensor images_to_batch(const std::vector<cv::Mat>& images);

/// Maps [N, 1, H, W] (any device, any float type) as N CV_32FC1 images.
std::vector<cv::Mat> batch_to_maps(const torch::Tensor& maps);

}  // namespace msinet::pipeline
