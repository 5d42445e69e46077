#pragma once
// Network input sizes: HEIGHTxWIDTH text, and the rule that both are multiples of 8.

#include <string>

#include "msinet/util/error.h"

namespace msinet::util {

/// A height x width pair; 0 x 0 means "the dataset's own size" where a size is optional.
struct Size {
  int h = 0;  ///< rows
  int w = 0;  ///< columns
};

/// The largest side accepted, so that a typo cannot ask for terabytes.
inline constexpr int kMaxSide = 8192;

/// Parses "HxW" (e.g. "240x320"), both positive multiples of 8 up to kMaxSide; otherwise throws
/// Error(`code`) naming `what` and the text.
Size parse_size(const std::string& text, const std::string& what,
                ErrorCode code = ErrorCode::kUsage);

/// Throws Error(kUsage) naming `what` unless both sides are positive multiples of 8 up to
/// kMaxSide.
void check_input_size(const Size& size, const std::string& what);

}  // namespace msinet::util
