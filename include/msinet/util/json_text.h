#pragma once
// Writing JSON text.

#include <string>
#include <string_view>

namespace msinet::util {

/// `s` as a JSON string literal, quotes included (control characters as \uXXXX).
std::string json_quote(std::string_view s);

}  // namespace msinet::util
