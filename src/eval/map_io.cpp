#include "msinet/eval/map_io.h"

#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "msinet/util/error.h"
#include "msinet/util/fs.h"

namespace msinet::eval {

namespace {

constexpr char kNpyMagic[] = "\x93NUMPY";
constexpr size_t kNpyMagicSize = 6;

[[noreturn]] void bad_npy(const std::string& name, const std::string& why) {
  throw Error(ErrorCode::kInput, "cannot read '" + name + "': " + why);
}

/// The text after `'key':` in a .npy header dictionary, up to the next top-level comma or '}'.
std::string header_value(const std::string& header, const std::string& key,
                         const std::string& name) {
  const std::string quoted = "'" + key + "'";
  const size_t at = header.find(quoted);
  if (at == std::string::npos) bad_npy(name, ".npy header has no '" + key + "' entry");
  size_t i = header.find(':', at + quoted.size());
  if (i == std::string::npos) bad_npy(name, "malformed .npy header");
  ++i;
  while (i < header.size() && header[i] == ' ') ++i;
  int depth = 0;
  size_t end = i;
  for (; end < header.size(); ++end) {
    const char c = header[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
  }
  if (depth != 0 || end >= header.size()) bad_npy(name, "malformed .npy header");
  std::string v = header.substr(i, end - i);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

std::vector<long long> parse_shape(const std::string& text, const std::string& name) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') {
    bad_npy(name, "malformed shape in .npy header");
  }
  std::vector<long long> dims;
  size_t i = 1;
  while (i < text.size() - 1) {
    while (i < text.size() - 1 && (text[i] == ' ' || text[i] == ',')) ++i;
    if (i >= text.size() - 1) break;
    size_t j = i;
    while (j < text.size() - 1 && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i || j - i > 12) bad_npy(name, "malformed shape in .npy header");
    dims.push_back(std::stoll(text.substr(i, j - i)));
    i = j;
  }
  return dims;
}

uint32_t read_le(const unsigned char* p, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

bool has_map_extension(const fs::path& path) {
  const std::string ext = util::to_lower(path.extension().string());
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".npy";
}

cv::Mat decode_npy(std::string_view bytes, const std::string& name) {
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kNpyMagic, kNpyMagicSize) != 0) {
    bad_npy(name, "not a .npy file (bad magic)");
  }
  const int major = u[6];
  size_t header_len = 0;
  size_t offset = 0;
  if (major == 1) {
    header_len = read_le(u + 8, 2);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) bad_npy(name, "truncated .npy header");
    header_len = read_le(u + 8, 4);
    offset = 12;
  } else {
    bad_npy(name, ".npy format version " + std::to_string(major) + " is not supported");
  }
  if (header_len > bytes.size() - offset) bad_npy(name, "truncated .npy header");
  const std::string header(bytes.substr(offset, header_len));
  offset += header_len;

  const std::string descr = header_value(header, "descr", name);
  int type = -1;
  size_t item = 0;
  if (descr == "'<f4'") {
    type = CV_32F;
    item = 4;
  } else if (descr == "'<f8'") {
    type = CV_64F;
    item = 8;
  } else if (descr == "'|u1'" || descr == "'<u1'" || descr == "'|b1'") {
    type = CV_8U;
    item = 1;
  } else if (descr == "'>f4'" || descr == "'>f8'") {
    bad_npy(name, "big-endian .npy data is not supported; save it as little-endian ('<f4')");
  } else {
    bad_npy(name, "unsupported .npy dtype " + descr + "; use float32, float64 or uint8");
  }
  const std::string order = header_value(header, "fortran_order", name);
  if (order != "False" && order != "True") bad_npy(name, "malformed fortran_order in .npy header");
  const bool fortran = order == "True";
  std::vector<long long> dims = parse_shape(header_value(header, "shape", name), name);
  if (dims.size() == 3 && dims[2] == 1) dims.pop_back();
  if (dims.size() == 3 && dims[0] == 1) dims.erase(dims.begin());
  if (dims.size() != 2) {
    bad_npy(name, "expected a 2-D array (height, width), got " + std::to_string(dims.size()) +
                      " dimensions");
  }
  const long long h = dims[0];
  const long long w = dims[1];
  constexpr long long kMaxSide = 1 << 16;
  if (h <= 0 || w <= 0 || h > kMaxSide || w > kMaxSide) {
    bad_npy(name, "array shape " + std::to_string(h) + "x" + std::to_string(w) +
                      " is empty or too large");
  }
  const size_t need = static_cast<size_t>(h * w) * item;
  if (bytes.size() - offset != need) {
    bad_npy(name, "data size " + std::to_string(bytes.size() - offset) + " bytes does not match" +
                      " shape " + std::to_string(h) + "x" + std::to_string(w) + " (expected " +
                      std::to_string(need) + "); the file may be truncated");
  }
  const int rows = static_cast<int>(fortran ? w : h);
  const int cols = static_cast<int>(fortran ? h : w);
  cv::Mat m(rows, cols, CV_MAKETYPE(type, 1));
  std::memcpy(m.data, bytes.data() + offset, need);
  if (fortran) m = m.t();
  return m;
}

std::string encode_npy(const cv::Mat& map) {
  if (map.empty() || (map.type() != CV_32FC1 && map.type() != CV_64FC1)) {
    throw Error(ErrorCode::kInternal, "encode_npy needs a non-empty CV_32FC1 or CV_64FC1 map");
  }
  const std::string descr = map.type() == CV_32FC1 ? "<f4" : "<f8";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" +
                       std::to_string(map.rows) + ", " + std::to_string(map.cols) + "), }";
  const size_t unpadded = kNpyMagicSize + 4 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out(kNpyMagic, kNpyMagicSize);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>((header.size() >> 8) & 0xff));
  out += header;
  const cv::Mat c = map.isContinuous() ? map : map.clone();
  out.append(reinterpret_cast<const char*>(c.data), c.total() * c.elemSize());
  return out;
}

void write_npy(const fs::path& path, const cv::Mat& map) {
  util::write_file_atomic(path, encode_npy(map));
}

cv::Mat read_map(const fs::path& path) {
  const std::string ext = util::to_lower(path.extension().string());
  const std::string bytes = util::read_file(path);
  cv::Mat m;
  if (ext == ".npy") {
    m = decode_npy(bytes, path.string());
  } else if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") {
    const cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    if (!bytes.empty()) {
      try {
        m = cv::imdecode(buf, cv::IMREAD_GRAYSCALE | cv::IMREAD_ANYDEPTH);
      } catch (const cv::Exception&) {
        m.release();
      }
    }
    if (m.empty()) {
      throw Error(ErrorCode::kInput, "cannot read '" + path.string() +
                                         "': not a valid JPEG or PNG image (corrupt or empty?)");
    }
  } else {
    throw Error(ErrorCode::kInput, "cannot read '" + path.string() +
                                       "': unsupported map format; use .png, .jpg, .jpeg or .npy");
  }
  cv::Mat d;
  m.convertTo(d, CV_64F);
  if (!cv::checkRange(d)) {
    throw Error(ErrorCode::kInput,
                "cannot use '" + path.string() + "': it contains NaN or infinite values");
  }
  return d;
}

}  // namespace msinet::eval
