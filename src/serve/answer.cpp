#include "msinet/serve/answer.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "msinet/data/image.h"
#include "msinet/data/overlay.h"
#include "msinet/serve/refused.h"

namespace msinet::serve {

namespace {

Refused bad_query(const std::string& message) { return Refused(400, "bad_query", message); }

bool parse_flag(const std::string& key, const std::string& value) {
  if (value == "1" || value == "true") return true;
  if (value == "0" || value == "false") return false;
  throw bad_query(key + " must be 0 or 1, not '" + value + "'");
}

double parse_alpha(const std::string& value) {
  char* end = nullptr;
  errno = 0;
  const double a = std::strtod(value.c_str(), &end);
  if (value.empty() || errno != 0 || *end != '\0' || !(a > 0 && a <= 1)) {
    throw bad_query("alpha must be a number in (0, 1], not '" + value + "'");
  }
  return a;
}

}  // namespace

SaliencyQuery parse_saliency_query(const std::multimap<std::string, std::string>& params,
                                   util::Size default_size) {
  SaliencyQuery q;
  q.size = default_size;
  bool format_given = false;
  std::string styled;  // an overlay parameter given
  for (const auto& [key, value] : params) {
    if (params.count(key) > 1) throw bad_query("query parameter '" + key + "' is given twice");
    if (key == "size") {
      try {
        q.size = util::parse_size(value, "size");
      } catch (const Error& e) {
        throw bad_query(e.what());
      }
    } else if (key == "format") {
      format_given = true;
      if (value == "png") {
        q.format = AnswerFormat::kPng;
      } else if (value == "jpeg" || value == "jpg") {
        q.format = AnswerFormat::kJpeg;
      } else if (value == "npy") {
        q.format = AnswerFormat::kNpy;
      } else if (value == "json") {
        q.format = AnswerFormat::kJson;
      } else {
        throw bad_query("unknown format '" + value + "': use png, jpeg, npy or json");
      }
    } else if (key == "overlay") {
      q.overlay = parse_flag(key, value);
    } else if (key == "colormap") {
      styled = key;
      try {
        q.overlay_style.colormap = data::parse_colormap(value);
      } catch (const Error& e) {
        throw bad_query(e.what());
      }
    } else if (key == "alpha") {
      styled = key;
      q.overlay_style.alpha = parse_alpha(value);
    } else if (key == "colorbar") {
      styled = key;
      q.overlay_style.colorbar = parse_flag(key, value);
    } else {
      throw bad_query("unknown query parameter '" + key +
                      "': use size, format, overlay, colormap, alpha, colorbar");
    }
  }
  if (!styled.empty() && !q.overlay) {
    throw bad_query(styled + " styles the overlay: add overlay=1");
  }
  if (q.overlay) {
    if (!format_given) q.format = AnswerFormat::kJpeg;  // as test --overlay writes it
    if (q.format == AnswerFormat::kNpy || q.format == AnswerFormat::kJson) {
      throw bad_query("overlay=1 is an image: use format=jpeg or format=png");
    }
  }
  return q;
}

Answer encode_answer(const pipeline::Result& r, const SaliencyQuery& q) {
  if (q.overlay) {
    const cv::Mat overlay = data::make_overlay(r.image, r.map, q.overlay_style);
    if (q.format == AnswerFormat::kPng) return {data::encode_png(overlay), "image/png"};
    return {data::encode_jpeg(overlay, /*quality=*/95), "image/jpeg"};
  }
  switch (q.format) {
    case AnswerFormat::kPng:
      return {data::encode_png(data::quantize_u8(r.map)), "image/png"};
    case AnswerFormat::kJpeg:
      return {data::encode_jpeg(data::quantize_u8(r.map), /*quality=*/100), "image/jpeg"};
    case AnswerFormat::kNpy:
      return {data::encode_npy(data::unit_map(r.map)), "application/octet-stream"};
    case AnswerFormat::kJson:
      break;
  }
  const cv::Mat u8 = data::quantize_u8(r.map);
  std::string body = "{\"height\":" + std::to_string(u8.rows) +
                     ",\"width\":" + std::to_string(u8.cols) + ",\"map\":[";
  body.reserve(body.size() + u8.total() * 4 + 2);
  for (int y = 0; y < u8.rows; ++y) {
    const uchar* p = u8.ptr<uchar>(y);
    for (int x = 0; x < u8.cols; ++x) {
      if (y > 0 || x > 0) body.push_back(',');
      body += std::to_string(p[x]);
    }
  }
  body += "]}";
  return {body, "application/json"};
}

}  // namespace msinet::serve
