#include "msinet/calibration/density.h"

#include <torch/torch.h>

#include <cmath>
#include <cstring>

#include "model.h"
#include "msinet/util/error.h"

namespace msinet::calibration {

namespace {

// The map as a [1, H, W] float64 tensor (a copy), checked.
torch::Tensor map_tensor(const cv::Mat& map) {
  if (map.empty() || map.channels() != 1) {
    throw Error(ErrorCode::kInput,
                "calibration: the saliency map must be a non-empty 1-channel "
                "image");
  }
  cv::Mat m;
  map.convertTo(m, CV_64F);
  if (!cv::checkRange(m)) {
    throw Error(ErrorCode::kInput, "calibration: the saliency map holds NaN or infinite values");
  }
  if (!m.isContinuous()) m = m.clone();
  return torch::from_blob(m.ptr<double>(), {1, m.rows, m.cols}, torch::kFloat64).clone();
}

}  // namespace

cv::Mat log_density(const cv::Mat& map, const Calibration& calibration) {
  torch::NoGradGuard no_grad;
  const torch::Tensor maps = minmax_normalise(map_tensor(map));
  const torch::Tensor out =
      log_density_tensor(maps, model_tensors(calibration, torch::kFloat64)).contiguous();
  cv::Mat result(map.rows, map.cols, CV_64FC1);
  std::memcpy(result.ptr<double>(), out.data_ptr<double>(), result.total() * sizeof(double));
  return result;
}

cv::Mat density(const cv::Mat& map, const Calibration& calibration) {
  cv::Mat out;
  cv::exp(log_density(map, calibration), out);
  return out;
}

}  // namespace msinet::calibration
