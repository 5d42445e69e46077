#pragma once
// One request of a download (libcurl): the body is appended to an open .part file (asking for
// the rest with Range when it already holds bytes), a Google Drive web page is kept aside, and
// the answer is classified for the caller, which decides on retries, restarts and resumes.
// Internal to msinet_fetch.

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "msinet/fetch/download.h"
#include "msinet/util/error.h"
#include "msinet/util/progress.h"

namespace msinet::fetch::detail {

// What the caller does after a request.
enum class Outcome {
  kDone,     // the .part file holds the whole file
  kHtml,     // Google Drive answered a web page (AttemptResult::html)
  kRestart,  // the partial file cannot be resumed: truncate it and ask again
  kRetry,    // a transient failure: ask again after a wait
  kFinal,    // give up with AttemptResult::code and message
};

// The progress of one download, shared by its requests: a bar, or lines in the log.
struct Progress {
  bool enabled = false;    // the bar
  bool log_lines = false;  // lines (util::Progress), made once the size is known
  std::unique_ptr<util::Progress> lines;
  std::string label;
  std::chrono::steady_clock::time_point start, last_draw;
  bool drawn = false;  // something was drawn since `start` (the line needs ending)
};

// One request: where the body goes and what is fetched.
struct Attempt {
  FILE* out = nullptr;  // the .part file, positioned at its end
  uint64_t offset = 0;  // bytes already in it; asked for with Range when > 0
  bool drive = false;   // a Google Drive source: a text/html answer is a confirmation page
  std::string url;      // http(s):// or file://
  Progress* progress = nullptr;
};

// How a request ended.
struct AttemptResult {
  Outcome outcome = Outcome::kDone;
  ErrorCode code = ErrorCode::kNetwork;  // for kFinal
  std::string message;                   // why, for everything but kDone and kHtml
  std::string html;                      // the page, for kHtml
  std::string effective_url;             // after redirects
  std::optional<uint64_t> total_size;    // the file's size from a 416 answer
  bool discard = false;                  // for kFinal: the partial file is of no use (size cap)
};

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

// A new easy handle (libcurl initialised once per process); Error(kInternal) when none.
CurlHandle new_curl();

// Runs one request on `curl` (reset first) with the timeouts and size cap of `options`.
AttemptResult perform(CURL* curl, const Attempt& attempt, const DownloadOptions& options);

}  // namespace msinet::fetch::detail
