#pragma once
// Baseline predictors: the centre bias and chance.

#include <opencv2/core.hpp>

namespace msinet::eval {

/// Sigma of the centre baseline as a fraction of the shorter image side. An isotropic Gaussian
/// fitted (maximum likelihood) to all 98,321 OSIE fixations around the image centre has
/// sigma = 147 px on the 600 x 800 images, i.e. 0.246 of the shorter side; a quarter also keeps
/// +-2 sigma inside the shorter side.
inline constexpr double kCenterSigmaFraction = 0.25;

/// The centre baseline of `size`: exp(-((x - cx)^2 + (y - cy)^2) / (2 sigma^2)) with
/// cx = (w - 1) / 2, cy = (h - 1) / 2, sigma = kCenterSigmaFraction * min(w, h); peak 1.
cv::Mat center_map(cv::Size size);

/// The chance baseline of `size`: a uniform map of ones (metrics that need distinct values
/// add jitter to it; see evaluate.h).
cv::Mat chance_map(cv::Size size);

}  // namespace msinet::eval
