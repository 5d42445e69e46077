#pragma once
// A small photo-like test image: horizontal and vertical gradients with noise, and a bright disc.

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>

namespace msinet::testing {

/// An h x w BGR image drawn from `rng` (pixels first, then the disc's centre, which is returned
/// in `centre`), so that callers can go on drawing from the same sequence.
inline cv::Mat synthetic_photo(int h, int w, cv::RNG& rng, cv::Point* centre) {
  cv::Mat img(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      img.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uchar>((x * 255) / w), static_cast<uchar>((y * 255) / h),
                    static_cast<uchar>(rng.uniform(0, 256)));
    }
  }
  *centre = cv::Point(rng.uniform(w / 4, 3 * w / 4), rng.uniform(h / 4, 3 * h / 4));
  cv::circle(img, *centre, std::min(h, w) / 6, cv::Scalar(20, 200, 240), cv::FILLED);
  return img;
}

}  // namespace msinet::testing
