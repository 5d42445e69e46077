#include "msinet/eval/baselines.h"

#include <algorithm>
#include <cmath>

namespace msinet::eval {

cv::Mat center_map(cv::Size size) {
  cv::Mat m(size, CV_64FC1);
  const double cx = (size.width - 1) / 2.0;
  const double cy = (size.height - 1) / 2.0;
  const double sigma = kCenterSigmaFraction * std::min(size.width, size.height);
  const double denom = 2.0 * sigma * sigma;
  for (int y = 0; y < size.height; ++y) {
    double* row = m.ptr<double>(y);
    const double dy2 = (y - cy) * (y - cy);
    for (int x = 0; x < size.width; ++x) {
      row[x] = std::exp(-((x - cx) * (x - cx) + dy2) / denom);
    }
  }
  return m;
}

cv::Mat chance_map(cv::Size size) { return cv::Mat::ones(size, CV_64FC1); }

}  // namespace msinet::eval
