#include "msinet/util/size.h"

namespace msinet::util {

namespace {

bool acceptable(int h, int w) {
  return h > 0 && w > 0 && h % 8 == 0 && w % 8 == 0 && h <= kMaxSide && w <= kMaxSide;
}

std::string rule() {
  return "both positive multiples of 8 up to " + std::to_string(kMaxSide) + " (e.g. 240x320)";
}

// A side of at most 5 digits.
bool parse_side(const std::string& s, int& out) {
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  out = std::stoi(s);
  return true;
}

}  // namespace

Size parse_size(const std::string& text, const std::string& what, ErrorCode code) {
  const auto x = text.find_first_of("xX");
  Size s;
  if (x == std::string::npos || !parse_side(text.substr(0, x), s.h) ||
      !parse_side(text.substr(x + 1), s.w) || !acceptable(s.h, s.w)) {
    throw Error(code,
                "invalid " + what + " '" + text + "': expected HxW (height x width), " + rule());
  }
  return s;
}

void check_input_size(const Size& size, const std::string& what) {
  if (!acceptable(size.h, size.w)) {
    throw Error(ErrorCode::kUsage, what + " " + std::to_string(size.h) + "x" +
                                       std::to_string(size.w) + " is not supported: " + rule());
  }
}

}  // namespace msinet::util
