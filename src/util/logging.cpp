#include "msinet/util/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "msinet/util/error.h"

namespace msinet::util {

namespace {

LogFormat g_format = LogFormat::kText;

// The fields of the line being logged by this thread (a synchronous logger formats in the
// caller's thread).
thread_local const std::vector<LogField>* t_fields = nullptr;

// 2026-12-02T05:31:18.123Z
std::string iso8601_utc(spdlog::log_clock::time_point t) {
  const auto since_epoch = t.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  const std::time_t tt = static_cast<std::time_t>(seconds.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(millis));
  return buf;
}

// One JSON object per line: time, level, message and the fields of log_with_fields.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::ordered_json line;
    line["time"] = iso8601_utc(msg.time);
    const auto level = spdlog::level::to_string_view(msg.level);
    line["level"] = std::string(level.data(), level.size());
    line["message"] = std::string(msg.payload.data(), msg.payload.size());
    if (t_fields != nullptr) {
      for (const LogField& f : *t_fields) {
        std::visit(
            [&](const auto& v) {
              using T = std::decay_t<decltype(v)>;
              if constexpr (std::is_same_v<T, double>) {
                if (std::isfinite(v)) {
                  line[f.key] = v;
                } else {
                  line[f.key] = nullptr;
                }
              } else {
                line[f.key] = v;
              }
            },
            f.value);
      }
    }
    // Invalid UTF-8 (a file name in another encoding) becomes U+FFFD instead of an exception.
    const std::string text = line.dump(/*indent=*/-1, /*indent_char=*/' ', /*ensure_ascii=*/false,
                                       nlohmann::ordered_json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

LogFormat parse_log_format(const std::string& name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  throw Error(ErrorCode::kUsage, "unknown log format '" + name + "': use text or json");
}

void setup_logging(LogFormat format, spdlog::level::level_enum level) {
  spdlog::drop("msinet");
  std::shared_ptr<spdlog::logger> logger;
  if (format == LogFormat::kJson) {
    logger = spdlog::stderr_logger_mt("msinet");
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger = spdlog::stderr_color_mt("msinet");
    logger->set_pattern("%^%l%$: %v");
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(level);
  g_format = format;
}

LogFormat log_format() { return g_format; }

void log_with_fields(spdlog::level::level_enum level, const std::string& message,
                     const std::vector<LogField>& fields) {
  t_fields = &fields;
  spdlog::log(level, "{}", message);
  t_fields = nullptr;
}

void log_error(const std::string& message) {
  if (spdlog::get("msinet")) {
    spdlog::error("{}", message);
  } else {
    std::fprintf(stderr, "error: %s\n", message.c_str());
  }
}

}  // namespace msinet::util
