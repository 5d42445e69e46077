#pragma once
// Applying a calibration: a saliency map in, its log-density or density out (cv::Mat; the
// computation is the one fitting differentiates, in calibration/model.h).

#include <opencv2/core.hpp>

#include "msinet/calibration/calibration.h"

namespace msinet::calibration {

/// log p (see calibration.h) of a 1-channel map of any depth and size, as CV_64FC1 of its size;
/// log-sum-exp over the pixels is 0 to rounding. Throws Error(kInput) for an empty or
/// non-finite map.
cv::Mat log_density(const cv::Mat& map, const Calibration& calibration);

/// exp(log_density(map, calibration)): CV_64FC1, sums to 1.
cv::Mat density(const cv::Mat& map, const Calibration& calibration);

}  // namespace msinet::calibration
