#pragma once
// Internal to msinet_image: checking PNG data with libpng before OpenCV decodes it.

#include <string>
#include <string_view>

namespace msinet::data {

/// Why libpng cannot read these PNG bytes to the end (its own words), or "" when it can.
/// Nothing is printed; every row is read and dropped, one at a time.
std::string png_problem(std::string_view bytes);

}  // namespace msinet::data
