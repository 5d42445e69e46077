#include "msinet/data/image.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "image_header.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"

namespace msinet::data {

namespace fs = std::filesystem;

namespace {

std::string size_text(int h, int w) { return std::to_string(h) + "x" + std::to_string(w); }

void require_image(const cv::Mat& m, const char* op) {
  if (m.empty() || m.dims != 2) {
    throw Error(ErrorCode::kInternal, std::string(op) + ": the image is empty");
  }
}

void require_channels(const cv::Mat& m, int channels, const char* op) {
  require_image(m, op);
  if (m.channels() != channels) {
    throw Error(ErrorCode::kInternal, std::string(op) + ": expected " + std::to_string(channels) +
                                          " channel(s), got " + std::to_string(m.channels()));
  }
}

cv::Mat to_float(const cv::Mat& m) {
  if (m.depth() == CV_32F) return m;
  cv::Mat f;
  m.convertTo(f, CV_32F);
  return f;
}

void clip_0_255(cv::Mat& m) {
  for (int y = 0; y < m.rows; ++y) {
    float* p = m.ptr<float>(y);
    const size_t n = static_cast<size_t>(m.cols) * m.channels();
    for (size_t j = 0; j < n; ++j) p[j] = std::min(std::max(p[j], 0.0f), 255.0f);
  }
}

std::string encode(const cv::Mat& img, const char* ext, const std::vector<int>& params,
                   const char* what) {
  cv::Mat native = img;
  if (img.channels() == 3) cv::cvtColor(img, native, cv::COLOR_RGB2BGR);
  std::vector<uchar> buf;
  std::string why;
  bool ok = false;
  try {
    ok = cv::imencode(ext, native, buf, params);
  } catch (const cv::Exception& e) {
    why = std::string(": ") + e.what();
  }
  if (!ok) throw Error(ErrorCode::kInternal, std::string("cannot encode ") + what + why);
  return std::string(buf.begin(), buf.end());
}

void require_encodable(const cv::Mat& img, bool allow16, const char* op) {
  require_image(img, op);
  const bool depth_ok = img.depth() == CV_8U || (allow16 && img.depth() == CV_16U);
  if (!depth_ok || (img.channels() != 1 && img.channels() != 3)) {
    throw Error(ErrorCode::kInternal, std::string(op) + ": unsupported matrix type " +
                                          std::to_string(img.type()) +
                                          " (need 8-bit, 1 or 3 channels)");
  }
}

// A JPEG whose image data has no end-of-image marker was cut short: libjpeg decodes what there is
// (grey below the cut) with only a warning. The first start-of-scan is found by walking the
// segments (an EXIF thumbnail before it holds its own end marker); after it, byte stuffing
// makes any FF D9 the real end. ref: ITU T.81 (JPEG) B.1.1.2-B.1.1.5
bool jpeg_is_complete(std::string_view bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t pos = 2;  // after SOI
  while (pos + 1 < bytes.size()) {
    if (b[pos] != 0xFF) return true;  // not a segment: let the decoder judge
    const unsigned char marker = b[pos + 1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0xDA) return bytes.find("\xFF\xD9", pos + 2) != std::string_view::npos;
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      pos += 2;
      continue;
    }
    if (pos + 3 >= bytes.size()) return false;
    pos += 2 + ((static_cast<size_t>(b[pos + 2]) << 8) | b[pos + 3]);
  }
  return false;  // the file ends before any image data
}

}  // namespace

ImageFormat sniff_image_format(std::string_view bytes) {
  static const unsigned char kPngMagic[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() >= 8 && std::memcmp(b, kPngMagic, 8) == 0) return ImageFormat::kPng;
  if (bytes.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return ImageFormat::kJpeg;
  return ImageFormat::kUnknown;
}

// ref: saliency/data.py _parse_function (tf.image.is_jpeg, decode_jpeg / decode_png)
cv::Mat decode_image_bytes(std::string_view bytes, int channels, const std::string& name) {
  if (channels != 1 && channels != 3) {
    throw Error(ErrorCode::kInternal,
                "decode_image: channels must be 1 or 3, got " + std::to_string(channels));
  }
  const std::string prefix = "cannot read image '" + name + "': ";
  if (bytes.empty()) throw Error(ErrorCode::kInput, prefix + "the file is empty");
  const ImageFormat format = sniff_image_format(bytes);
  if (format == ImageFormat::kUnknown) {
    throw Error(ErrorCode::kInput, prefix + "not a JPEG or PNG file");
  }
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    throw Error(ErrorCode::kInput, prefix + "the file is too large (over 2 GiB)");
  }
  if (format == ImageFormat::kJpeg && !jpeg_is_complete(bytes)) {
    throw Error(ErrorCode::kInput, prefix +
                                       "truncated JPEG data (the file ends before the image "
                                       "does); replace or re-download the file");
  }
  const Size2 declared = image_dimensions(bytes);
  const int64_t pixels = static_cast<int64_t>(declared.h) * declared.w;
  if (pixels > max_image_pixels()) {
    char megapixels[32];
    std::snprintf(megapixels, sizeof megapixels, "%.1f", static_cast<double>(pixels) / 1e6);
    throw Error(ErrorCode::kInput,
                prefix + "it declares " + size_text(declared.h, declared.w) + " pixels (" +
                    megapixels + " megapixels), over the limit of " +
                    std::to_string(max_image_pixels() / 1'000'000) +
                    " megapixels; raise the key max_image_megapixels (--config FILE or "
                    "MSINET_MAX_IMAGE_MEGAPIXELS) to read it, or shrink the image");
  }
  if (format == ImageFormat::kPng) {
    const std::string problem = png_problem(bytes);
    if (!problem.empty()) {
      throw Error(ErrorCode::kInput, prefix + "corrupt or truncated PNG data (" + problem +
                                         "); replace or re-download the file");
    }
  }
  const cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  const int flags =
      (channels == 3 ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE) | cv::IMREAD_IGNORE_ORIENTATION;
  cv::Mat img;
  std::string why;
  try {
    img = cv::imdecode(buf, flags);
  } catch (const cv::Exception& e) {
    img.release();
    why = std::string(" (") + e.err + ")";
  }
  if (img.empty()) {
    const char* kind = format == ImageFormat::kPng ? "PNG" : "JPEG";
    throw Error(ErrorCode::kInput, prefix + "corrupt or truncated " + kind + " data" + why +
                                       "; replace or re-download the file");
  }
  cv::Mat out;
  try {
    if (channels == 3) cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
    img.convertTo(out, CV_32F);
  } catch (const cv::Exception& e) {  // out of memory for a huge image
    throw Error(ErrorCode::kInput,
                prefix + "its " + std::to_string(img.cols) + "x" + std::to_string(img.rows) +
                    " pixels are more than memory allows (" + e.err + "); use a smaller image");
  }
  return out;
}

cv::Mat decode_image(const fs::path& path, int channels) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw Error(ErrorCode::kInput,
                "cannot read image '" + path.string() + "': it is a folder, not a file");
  }
  std::string bytes;
  try {
    bytes = util::read_file(path);
  } catch (const Error&) {
    throw Error(ErrorCode::kInput, "cannot read image '" + path.string() +
                                       "': no such file, or no permission to read it");
  }
  return decode_image_bytes(bytes, channels, path.string());
}

// ref: saliency/data.py _resize_image (the new size)
Size2 aspect_size(int h, int w, int th, int tw, bool overfull) {
  if (h < 1 || w < 1 || th < 1 || tw < 1) {
    throw Error(ErrorCode::kInternal, "aspect_size: sizes must be positive, got " +
                                          size_text(h, w) + " -> " + size_text(th, tw));
  }
  const double rh = static_cast<double>(th) / h;
  const double rw = static_cast<double>(tw) / w;
  const double ratio = overfull ? std::max(rh, rw) : std::min(rh, rw);
  const double nh = std::nearbyint(h * ratio);
  const double nw = std::nearbyint(w * ratio);
  if (nh < 1 || nw < 1 || nh > INT_MAX || nw > INT_MAX) {
    throw Error(ErrorCode::kInput, "cannot fit a " + size_text(h, w) + " image to " +
                                       size_text(th, tw) +
                                       ": its aspect ratio is too extreme (a side would become " +
                                       "0 pixels); crop or drop the image");
  }
  return {static_cast<int>(nh), static_cast<int>(nw)};
}

// ref: saliency/data.py _resize_image
cv::Mat aspect_resize(const cv::Mat& src, int th, int tw, bool overfull) {
  require_image(src, "aspect_resize");
  const Size2 n = aspect_size(src.rows, src.cols, th, tw, overfull);
  const bool shrinking = src.rows > n.h || src.cols > n.w;
  cv::Mat out = shrinking ? resize_area_tf(src, n.h, n.w) : resize_bicubic_tf(src, n.h, n.w);
  clip_0_255(out);
  return out;
}

// ref: saliency/data.py _pad_image
cv::Mat pad_to(const cv::Mat& src, int th, int tw, float value) {
  require_image(src, "pad_to");
  if (src.rows > th || src.cols > tw) {
    throw Error(ErrorCode::kInternal, "pad_to: the image (" + size_text(src.rows, src.cols) +
                                          ") is larger than the target " + size_text(th, tw));
  }
  const cv::Mat in = to_float(src);
  const int cn = in.channels();
  cv::Mat out(th, tw, CV_MAKETYPE(CV_32F, cn));
  for (int y = 0; y < th; ++y) {
    float* p = out.ptr<float>(y);
    std::fill(p, p + static_cast<size_t>(tw) * cn, value);
  }
  const int top = (th - in.rows) / 2;
  const int left = (tw - in.cols) / 2;
  in.copyTo(out(cv::Rect(left, top, in.cols, in.rows)));
  return out;
}

// ref: saliency/data.py _parse_function, _pad_image (stimuli)
cv::Mat preprocess_stimulus(const cv::Mat& rgb, int th, int tw) {
  require_channels(rgb, 3, "preprocess_stimulus");
  return pad_to(aspect_resize(rgb, th, tw, /*overfull=*/false), th, tw, /*value=*/126.0f);
}

// ref: saliency/data.py _parse_function, _pad_image (ground-truth maps)
cv::Mat preprocess_map(const cv::Mat& map, int th, int tw) {
  require_channels(map, 1, "preprocess_map");
  return pad_to(aspect_resize(map, th, tw, /*overfull=*/false), th, tw, /*value=*/0.0f);
}

// ref: saliency/data.py postprocess_saliency_map (before rounding)
cv::Mat restore_map(const cv::Mat& pred01, int orig_h, int orig_w) {
  require_channels(pred01, 1, "restore_map");
  if (orig_h < 1 || orig_w < 1) {
    throw Error(ErrorCode::kInternal, "restore_map: invalid size " + size_text(orig_h, orig_w));
  }
  cv::Mat m255 = to_float(pred01).clone();
  for (int y = 0; y < m255.rows; ++y) {
    float* p = m255.ptr<float>(y);
    for (int x = 0; x < m255.cols; ++x) p[x] *= 255.0f;
  }
  const cv::Mat big = aspect_resize(m255, orig_h, orig_w, /*overfull=*/true);
  if (big.rows < orig_h || big.cols < orig_w) {
    throw Error(ErrorCode::kInternal, "restore_map: resized map " + size_text(big.rows, big.cols) +
                                          " does not cover " + size_text(orig_h, orig_w));
  }
  const int top = (big.rows - orig_h) / 2;
  const int left = (big.cols - orig_w) / 2;
  return big(cv::Rect(left, top, orig_w, orig_h)).clone();
}

cv::Mat quantize_u8(const cv::Mat& map255) {
  require_channels(map255, 1, "quantize_u8");
  const cv::Mat f = to_float(map255);
  cv::Mat out(f.rows, f.cols, CV_8UC1);
  for (int y = 0; y < f.rows; ++y) {
    const float* p = f.ptr<float>(y);
    uchar* o = out.ptr<uchar>(y);
    for (int x = 0; x < f.cols; ++x) {
      const float v = std::nearbyint(p[x]);
      o[x] = !(v >= 0.0f) ? 0 : (v >= 255.0f ? 255 : static_cast<uchar>(v));
    }
  }
  return out;
}

MapFormat parse_map_format(const std::string& s) {
  const std::string v = util::to_lower(s);
  if (v == "jpg" || v == "jpeg") return MapFormat::kJpeg;
  if (v == "png") return MapFormat::kPng;
  if (v == "npy") return MapFormat::kNpy;
  throw Error(ErrorCode::kUsage,
              "unknown map format '" + s + "': use one of jpeg (or jpg), png, npy");
}

std::string map_file_extension(MapFormat format) {
  switch (format) {
    case MapFormat::kJpeg:
      return ".jpeg";
    case MapFormat::kPng:
      return ".png";
    case MapFormat::kNpy:
      return ".npy";
  }
  throw Error(ErrorCode::kInternal, "map_file_extension: unknown format");
}

std::string encode_npy(const cv::Mat& map) {
  require_channels(map, 1, "encode_npy");
  const cv::Mat f = to_float(map);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(f.rows) + ", " + std::to_string(f.cols) + "), }";
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xFF));
  out.push_back(static_cast<char>((header.size() >> 8) & 0xFF));
  out += header;
  out.reserve(out.size() + f.total() * sizeof(float));
  for (int y = 0; y < f.rows; ++y) {
    const float* p = f.ptr<float>(y);
    for (int x = 0; x < f.cols; ++x) {
      uint32_t bits = 0;
      std::memcpy(&bits, &p[x], sizeof bits);
      for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>((bits >> (8 * k)) & 0xFF));
    }
  }
  return out;
}

std::string encode_png(const cv::Mat& img) {
  require_encodable(img, /*allow16=*/true, "encode_png");
  return encode(img, ".png", {}, "a PNG image");
}

std::string encode_jpeg(const cv::Mat& img, int quality) {
  require_encodable(img, /*allow16=*/false, "encode_jpeg");
  if (quality < 1 || quality > 100) {
    throw Error(ErrorCode::kInternal,
                "encode_jpeg: quality must be 1..100, got " + std::to_string(quality));
  }
  return encode(img, ".jpg", {cv::IMWRITE_JPEG_QUALITY, quality}, "a JPEG image");
}

void write_png_u8(const fs::path& path, const cv::Mat& img) {
  util::write_file_atomic(path, encode_png(img));
}

void write_jpeg_u8(const fs::path& path, const cv::Mat& img, int quality) {
  util::write_file_atomic(path, encode_jpeg(img, quality));
}

cv::Mat unit_map(const cv::Mat& map255) {
  require_channels(map255, 1, "unit_map");
  cv::Mat unit = to_float(map255).clone();
  for (int y = 0; y < unit.rows; ++y) {
    float* p = unit.ptr<float>(y);
    for (int x = 0; x < unit.cols; ++x) p[x] /= 255.0f;
  }
  return unit;
}

// ref: saliency/data.py postprocess_saliency_map (encode_jpeg grayscale, quality 100)
void write_map(const fs::path& path, const cv::Mat& map255, MapFormat format) {
  require_channels(map255, 1, "write_map");
  std::string bytes;
  switch (format) {
    case MapFormat::kJpeg:
      bytes = encode_jpeg(quantize_u8(map255), /*quality=*/100);
      break;
    case MapFormat::kPng:
      bytes = encode_png(quantize_u8(map255));
      break;
    case MapFormat::kNpy:
      bytes = encode_npy(unit_map(map255));
      break;
  }
  util::write_file_atomic(path, bytes);
}

}  // namespace msinet::data
