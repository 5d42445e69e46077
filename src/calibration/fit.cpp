#include "msinet/calibration/fit.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>

#include "model.h"
#include "msinet/util/error.h"

namespace msinet::calibration {

namespace {

// Sum of log p over the fixations of samples[indices] (all of one size or not), and their count.
struct LogLikelihood {
  torch::Tensor sum;
  int64_t fixations = 0;
};

LogLikelihood log_likelihood(const std::vector<FitSample>& samples,
                             const std::vector<size_t>& indices, const ModelTensors& p,
                             torch::Dtype dtype) {
  std::map<std::pair<int, int>, std::vector<size_t>> by_size;
  for (const size_t i : indices) {
    if (!samples[i].fixations.empty())
      by_size[{samples[i].map.rows, samples[i].map.cols}].push_back(i);
  }
  LogLikelihood out;
  out.sum = torch::zeros({}, torch::TensorOptions().dtype(dtype));
  for (const auto& [size, group] : by_size) {
    const int64_t h = size.first, w = size.second, n = h * w;
    std::vector<torch::Tensor> maps;
    std::vector<int64_t> flat;
    for (size_t b = 0; b < group.size(); ++b) {
      const FitSample& s = samples[group[b]];
      maps.push_back(
          torch::from_blob(const_cast<float*>(s.map.ptr<float>()), {h, w}, torch::kFloat32));
      for (const int32_t f : s.fixations) flat.push_back(static_cast<int64_t>(b) * n + f);
    }
    const torch::Tensor batch = torch::stack(maps).to(dtype);
    const torch::Tensor logp = log_density_tensor(batch, p).reshape({-1});
    out.sum = out.sum + logp.index_select(0, torch::tensor(flat, torch::kLong)).sum();
    out.fixations += static_cast<int64_t>(flat.size());
  }
  return out;
}

std::vector<size_t> all_indices(size_t n) {
  std::vector<size_t> v(n);
  std::iota(v.begin(), v.end(), size_t{0});
  return v;
}

int64_t count_fixations(const std::vector<FitSample>& samples) {
  int64_t n = 0;
  for (const FitSample& s : samples) n += static_cast<int64_t>(s.fixations.size());
  return n;
}

// Mean of log2(N p(x)) over the fixations: the mean log-likelihood plus each image's log N.
double information_gain_bits(const std::vector<FitSample>& samples, const Calibration& c) {
  const double ll = mean_log_likelihood(samples, c);
  if (std::isnan(ll)) return ll;
  double log_n = 0;
  int64_t count = 0;
  for (const FitSample& s : samples) {
    log_n += static_cast<double>(s.fixations.size()) * std::log(double(s.map.rows) * s.map.cols);
    count += static_cast<int64_t>(s.fixations.size());
  }
  return (ll + log_n / static_cast<double>(count)) / std::log(2.0);
}

double inverse_softplus(double y) { return std::log(std::expm1(y)); }

}  // namespace

FitSample make_sample(const std::string& name, const cv::Mat& map, const cv::Mat& fixation_map,
                      int fit_size) {
  if (map.empty() || map.channels() != 1) {
    throw Error(ErrorCode::kInput,
                "'" + name + "': the prediction must be a non-empty 1-channel map");
  }
  if (fixation_map.empty() || fixation_map.channels() != 1) {
    throw Error(ErrorCode::kInput,
                "'" + name + "': the fixation map must be a non-empty 1-channel map");
  }
  cv::Mat m;
  map.convertTo(m, CV_64F);
  if (!cv::checkRange(m)) {
    throw Error(ErrorCode::kInput, "'" + name + "': the prediction holds NaN or infinite values");
  }
  double lo = 0, hi = 0;
  cv::minMaxLoc(m, &lo, &hi);
  m = hi > lo ? (m - lo) / (hi - lo) : cv::Mat::zeros(m.size(), CV_64F);
  const double scale = std::min(1.0, static_cast<double>(fit_size) / std::max(m.rows, m.cols));
  const int h = std::max(1, static_cast<int>(std::lround(m.rows * scale)));
  const int w = std::max(1, static_cast<int>(std::lround(m.cols * scale)));
  FitSample s;
  s.name = name;
  if (h == m.rows && w == m.cols) {
    m.convertTo(s.map, CV_32F);
  } else {
    cv::Mat small;
    cv::resize(m, small, cv::Size(w, h), 0, 0, cv::INTER_AREA);
    small.convertTo(s.map, CV_32F);
  }
  cv::Mat fix;
  fixation_map.convertTo(fix, CV_64F);
  for (int y = 0; y < fix.rows; ++y) {
    const double* row = fix.ptr<double>(y);
    for (int x = 0; x < fix.cols; ++x) {
      if (row[x] == 0) continue;
      const int yy = std::min(h - 1, static_cast<int>((y + 0.5) * h / fix.rows));
      const int xx = std::min(w - 1, static_cast<int>((x + 0.5) * w / fix.cols));
      s.fixations.push_back(yy * w + xx);
    }
  }
  return s;
}

double mean_log_likelihood(const std::vector<FitSample>& samples, const Calibration& c) {
  torch::NoGradGuard no_grad;
  const LogLikelihood ll = log_likelihood(samples, all_indices(samples.size()),
                                          model_tensors(c, torch::kFloat64), torch::kFloat64);
  if (ll.fixations == 0) return std::numeric_limits<double>::quiet_NaN();
  return ll.sum.item<double>() / static_cast<double>(ll.fixations);
}

double information_gain(const std::vector<FitSample>& samples, const Calibration& c) {
  return information_gain_bits(samples, c);
}

Calibration fit_calibration(const std::vector<FitSample>& train, const std::vector<FitSample>& val,
                            const FitOptions& o) {
  const int64_t train_fixations = count_fixations(train);
  if (train_fixations == 0) {
    throw Error(ErrorCode::kInput, "calibrate: the training maps hold no fixations to fit to");
  }
  if (o.steps < 1 || o.batch_images < 1 || !(o.learning_rate > 0)) {
    throw Error(ErrorCode::kUsage, "calibrate: steps, batch images and learning rate must be > 0");
  }
  const Calibration identity = identity_calibration();
  // Unconstrained parameters: blur = exp(b), f = cumsum(softplus(g)), c = exp(h),
  // w = sigmoid(a); they start at the identity calibration, with a blur of 1% of the image.
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  torch::Tensor log_blur = torch::full({}, std::log(0.01), f32).requires_grad_(true);
  std::vector<float> steps_init(
      kNonlinearityKnots, static_cast<float>(inverse_softplus(1.0 / (kNonlinearityKnots - 1))));
  steps_init[0] = static_cast<float>(inverse_softplus(1e-4));
  torch::Tensor raw_f = torch::tensor(steps_init, f32).requires_grad_(true);
  torch::Tensor log_c = torch::zeros({kCentreBiasKnots}, f32).requires_grad_(true);
  const double w0 = identity.uniform_weight;
  torch::Tensor logit_w = torch::full({}, std::log(w0 / (1 - w0)), f32).requires_grad_(true);
  auto tensors = [&] {
    ModelTensors t;
    t.blur = log_blur.exp();
    t.nonlinearity = torch::nn::functional::softplus(raw_f).cumsum(0);
    t.centre_bias = log_c.exp();
    t.uniform_weight = torch::sigmoid(logit_w);
    return t;
  };
  torch::optim::Adam adam({log_blur, raw_f, log_c, logit_w},
                          torch::optim::AdamOptions(o.learning_rate));
  std::mt19937_64 rng(o.seed);
  std::vector<size_t> order = all_indices(train.size());
  size_t next = order.size();
  const size_t batch = std::min(static_cast<size_t>(o.batch_images), order.size());
  for (int step = 0; step < o.steps; ++step) {
    std::vector<size_t> picked;
    while (picked.size() < batch) {
      if (next == order.size()) {
        std::shuffle(order.begin(), order.end(), rng);
        next = 0;
      }
      picked.push_back(order[next++]);
    }
    const double lr = o.learning_rate * 0.5 * (1 + std::cos(std::acos(-1.0) * step / o.steps));
    static_cast<torch::optim::AdamOptions&>(adam.param_groups()[0].options()).lr(lr);
    adam.zero_grad();
    const LogLikelihood ll = log_likelihood(train, picked, tensors(), torch::kFloat32);
    if (ll.fixations == 0) continue;
    const torch::Tensor loss = -ll.sum / static_cast<double>(ll.fixations);
    loss.backward();
    adam.step();
    if (step % 50 == 0 || step + 1 == o.steps) {
      spdlog::debug("calibrate: step {}/{}: {:.5f} nats per fixation (batch)", step + 1, o.steps,
                    -loss.item<double>());
    }
  }
  Calibration c = identity;
  {
    torch::NoGradGuard no_grad;
    const ModelTensors t = tensors();
    c.blur = std::min(1.0, t.blur.item<double>());
    const torch::Tensor f = t.nonlinearity.to(torch::kFloat64);
    const torch::Tensor bias = t.centre_bias.to(torch::kFloat64);
    const torch::Tensor fn = (f / f.max()).contiguous(), bn = (bias / bias.max()).contiguous();
    c.nonlinearity.assign(fn.data_ptr<double>(), fn.data_ptr<double>() + fn.numel());
    c.centre_bias.assign(bn.data_ptr<double>(), bn.data_ptr<double>() + bn.numel());
    c.uniform_weight = t.uniform_weight.item<double>();
  }
  // Knots equal to rounding must stay nondecreasing for validate().
  for (size_t i = 1; i < c.nonlinearity.size(); ++i) {
    c.nonlinearity[i] = std::max(c.nonlinearity[i], c.nonlinearity[i - 1]);
  }
  Provenance& p = c.provenance;
  p.train_images = static_cast<long long>(train.size());
  p.train_fixations = train_fixations;
  p.val_images = static_cast<long long>(val.size());
  p.val_fixations = count_fixations(val);
  p.seed = o.seed;
  p.fit_size = o.fit_size;
  p.steps = o.steps;
  p.train_ig_before = information_gain_bits(train, identity);
  p.train_ig_after = information_gain_bits(train, c);
  p.val_ig_before = information_gain_bits(val, identity);
  p.val_ig_after = information_gain_bits(val, c);
  validate(c, "the fitted calibration");
  return c;
}

}  // namespace msinet::calibration
