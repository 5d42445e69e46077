#pragma once
// Reports of an evaluation: a table for stdout, a per-image CSV and a summary JSON.

#include <cstdint>
#include <filesystem>
#include <string>

#include "msinet/eval/evaluate.h"

namespace msinet::eval {

/// The line that says what the intervals are ("95% interval: percentile bootstrap ...").
std::string interval_note(int resamples, uint64_t seed);

/// "[lo, hi]" with four decimals, or "-" when the interval is NaN.
std::string interval_text(const Interval& ci);

/// A plain-text table: mean, standard deviation, count and 95% interval per metric, the number of
/// images, the seed, the predictor, and what was skipped and why.
std::string format_table(const EvalResult& result);

/// CSV text: header "image,<metric>...", one row per scored image; undefined values are empty.
std::string to_csv(const EvalResult& result);

/// JSON text: seed, predictor, IG baseline, metric summaries, image count, skipped counts by
/// reason and the skipped list; undefined numbers are null, bytes that are not UTF-8 U+FFFD.
std::string to_json(const EvalResult& result);

/// Writes to_csv(result) to `path` atomically.
void write_csv(const std::filesystem::path& path, const EvalResult& result);

/// Writes to_json(result) to `path` atomically.
void write_json(const std::filesystem::path& path, const EvalResult& result);

}  // namespace msinet::eval
