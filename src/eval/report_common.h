#pragma once
// Formatting shared by the single-run and the comparison reports (private to msinet_eval).

#include <nlohmann/json.hpp>

#include <string>

#include "msinet/eval/stats.h"

namespace msinet::eval::detail {

/// Members in report order.
using Json = nlohmann::ordered_json;

/// `v` printed with `format`, or "" when it is not finite.
std::string number(double v, const char* format = "%.17g");

/// `s` quoted for CSV when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& s);

/// `v`, or null when it is not finite.
Json json_number(double v);

/// [lo, hi], or null when the interval is NaN.
Json interval_json(const Interval& ci);

/// {"resamples", "level", "method"} of the bootstrap intervals.
Json bootstrap_json(int resamples);

}  // namespace msinet::eval::detail
