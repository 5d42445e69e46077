#include "msinet/submit/map_check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <system_error>

#include "msinet/eval/map_io.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"

namespace msinet::submit {

namespace {

std::string size_text(int h, int w) { return std::to_string(h) + "x" + std::to_string(w); }

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

/// The largest map file worth reading: a float64 array of the largest image decoding accepts.
uint64_t max_map_file_bytes() {
  return static_cast<uint64_t>(data::max_image_pixels()) * sizeof(double) + (1u << 20);
}

bool is_grayscale(const cv::Mat& rgb) {
  cv::Mat channels[3];
  cv::split(rgb, channels);
  return cv::countNonZero(channels[0] != channels[1]) == 0 &&
         cv::countNonZero(channels[0] != channels[2]) == 0;
}

/// A map decoded from .npy with its problems as a MIT map (a JPEG of values 0..255).
void check_npy_for_jpeg(const cv::Mat& m, const std::function<void(const std::string&)>& bad,
                        MapCheck& out) {
  if (m.depth() == CV_8U) {
    out.conversion = Conversion::kToJpeg;
    return;
  }
  double lo = 0;
  double hi = 0;
  cv::minMaxLoc(m, &lo, &hi);
  if (lo >= 0 && hi <= 1) {
    const double sum = cv::sum(m)[0];
    if (std::abs(sum - 1) <= kLogSumExpTolerance && hi < 1) {
      bad("sums to 1 like a density; as 8-bit JPEG levels (value x 255) its values, at most " +
          number(hi) +
          ", would round to almost nothing: give minmax maps (msinet test --output minmax), or "
          "submit its log to the MIT/Tuebingen benchmark (msinet submit tuebingen)");
      return;
    }
    out.conversion = Conversion::kToJpeg;
    return;
  }
  if (hi <= 0 && std::abs(log_sum_exp(m)) <= kLogSumExpTolerance) {
    bad("is a log-density (its log-sum-exp is 0); the MIT benchmark scores saliency maps as 8-bit "
        "JPEGs, and a log-density squeezed into 256 levels would no longer say what it says: "
        "give minmax maps (msinet test --output minmax), or submit the log-densities to "
        "the MIT/Tuebingen benchmark (msinet submit tuebingen)");
    return;
  }
  bad("holds values in [" + number(lo) + ", " + number(hi) +
      "]; a .npy map to be written as a JPEG must lie in [0, 1], as msinet test --format npy "
      "writes it (value x 255 is its JPEG level)");
}

}  // namespace

double log_sum_exp(const cv::Mat& m) {
  cv::Mat d;
  m.convertTo(d, CV_64F);
  double hi = -std::numeric_limits<double>::infinity();
  for (int y = 0; y < d.rows; ++y) {
    const double* row = d.ptr<double>(y);
    for (int x = 0; x < d.cols; ++x) hi = std::max(hi, row[x]);
  }
  if (!std::isfinite(hi)) return hi;
  double sum = 0;
  for (int y = 0; y < d.rows; ++y) {
    const double* row = d.ptr<double>(y);
    for (int x = 0; x < d.cols; ++x) sum += std::exp(row[x] - hi);
  }
  return hi + std::log(sum);
}

std::string package_extension(MapTarget target) {
  return target == MapTarget::kGrayJpeg ? ".jpg" : ".npy";
}

MapCheck check_map(const fs::path& map, data::Size2 stimulus, MapTarget target) {
  MapCheck out;
  const std::string name = "'" + map.string() + "'";
  auto bad = [&out, &name](const std::string& why) { out.problems.push_back(name + " " + why); };
  auto wrong_size = [&](int h, int w) {
    if (h != stimulus.h || w != stimulus.w) {
      bad("is " + size_text(h, w) + " (height x width) but its stimulus is " +
          size_text(stimulus.h, stimulus.w) + "; the benchmark takes maps of the image's size");
    }
  };
  const std::string ext = util::to_lower(map.extension().string());
  std::error_code ec;
  const uintmax_t file_bytes = fs::file_size(map, ec);
  if (ec) {
    bad("cannot be read: " + ec.message());
    return out;
  }
  if (file_bytes > max_map_file_bytes()) {
    bad("is " + std::to_string(file_bytes) +
        " bytes, more than a map of the largest image accepted (key max_image_megapixels) can "
        "be");
    return out;
  }
  std::string bytes;
  try {
    bytes = util::read_file(map);
  } catch (const Error& e) {
    out.problems.push_back(e.what());
    return out;
  }

  if (ext == ".npy") {
    cv::Mat m;
    try {
      m = eval::decode_npy(bytes, map.string());
    } catch (const Error& e) {
      out.problems.push_back(e.what());
      return out;
    }
    wrong_size(m.rows, m.cols);
    if (target == MapTarget::kLogDensityNpy && m.depth() == CV_8U) {
      bad("holds 8-bit integers; a log-density is float32 or float64");
      return out;
    }
    if (!cv::checkRange(m)) {
      bad("holds NaN or infinite values" +
          std::string(target == MapTarget::kLogDensityNpy
                          ? " (a density of 0 gives log -inf: mix in a little uniform density)"
                          : ""));
      return out;
    }
    if (target == MapTarget::kGrayJpeg) {
      check_npy_for_jpeg(m, bad, out);
      return out;
    }
    const double lse = log_sum_exp(m);
    if (std::abs(lse) > kLogSumExpTolerance) {
      bad("has log-sum-exp " + number(lse) +
          ", not within 1e-3 of 0: not a normalised log-density (its exp must sum to 1; msinet "
          "test --output logdensity writes one)");
      return out;
    }
    if (eval::encode_npy(m) != bytes) out.conversion = Conversion::kRewriteNpy;
    return out;
  }

  if (target == MapTarget::kLogDensityNpy) {
    bad("is a " + ext +
        " image; the MIT/Tuebingen benchmark takes log-densities as .npy files (msinet test "
        "--output logdensity)");
    return out;
  }
  const data::ImageFormat format = data::sniff_image_format(bytes);
  const bool named_jpeg = ext == ".jpg" || ext == ".jpeg";
  if (format != (named_jpeg ? data::ImageFormat::kJpeg : data::ImageFormat::kPng)) {
    bad("is named " + ext + " but does not hold " + (named_jpeg ? "JPEG" : "PNG") + " data");
    return out;
  }
  const data::Size2 declared = data::image_dimensions(bytes);
  if (declared.h > 0) wrong_size(declared.h, declared.w);
  cv::Mat rgb;
  try {
    rgb = data::decode_image_bytes(bytes, /*channels=*/3, map.string());
  } catch (const Error& e) {
    out.problems.push_back(e.what());
    return out;
  }
  if (!is_grayscale(rgb)) {
    bad("is a colour image; a saliency map is grayscale (is it an overlay?)");
    return out;
  }
  out.conversion = named_jpeg ? Conversion::kCopy : Conversion::kToJpeg;
  return out;
}

std::string converted_bytes(const fs::path& map, Conversion conversion) {
  const std::string bytes = util::read_file(map);
  const bool npy = util::to_lower(map.extension().string()) == ".npy";
  if (conversion == Conversion::kRewriteNpy) {
    return eval::encode_npy(eval::decode_npy(bytes, map.string()));
  }
  if (conversion != Conversion::kToJpeg) {
    throw Error(ErrorCode::kInternal, "converted_bytes: nothing to convert for " + map.string());
  }
  cv::Mat levels;  // CV_32FC1, 0..255
  if (npy) {
    const cv::Mat m = eval::decode_npy(bytes, map.string());
    m.convertTo(levels, CV_32F, m.depth() == CV_8U ? 1.0 : 255.0);
  } else {
    levels = data::decode_image_bytes(bytes, /*channels=*/1, map.string());
  }
  return data::encode_jpeg(data::quantize_u8(levels), /*quality=*/100);
}

}  // namespace msinet::submit
