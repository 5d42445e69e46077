#pragma once
// The log on stderr (spdlog's "msinet" logger): plain text lines for people, or one JSON object
// per line for machines, with structured fields for events such as progress.

#include <spdlog/spdlog.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace msinet::util {

/// How log lines are written.
enum class LogFormat { kText, kJson };

/// "text" -> kText, "json" -> kJson; Error(kUsage) otherwise.
LogFormat parse_log_format(const std::string& name);

/// (Re)creates the "msinet" logger on stderr in `format` at `level` and makes it the default.
void setup_logging(LogFormat format, spdlog::level::level_enum level);

/// The format set by setup_logging (kText before).
LogFormat log_format();

/// A value of a structured log field; a NaN double is written as JSON null.
using LogValue = std::variant<int64_t, double, std::string>;

/// One structured field of a log line.
struct LogField {
  std::string key;
  LogValue value;
};

/// Logs `message`; in JSON the fields are added to the line's object (text shows the message).
void log_with_fields(spdlog::level::level_enum level, const std::string& message,
                     const std::vector<LogField>& fields);

/// Logs an error through the logger, or plainly on stderr before setup_logging.
void log_error(const std::string& message);

}  // namespace msinet::util
