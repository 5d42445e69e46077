#include "transfer.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>

#include "msinet/fetch/url.h"
#include "msinet/util/fs.h"
#include "msinet/util/progress.h"
#include "msinet/util/signals.h"

namespace msinet::fetch::detail {

namespace {

constexpr size_t kMaxHtmlBytes = 2u << 20;
constexpr size_t kMaxErrorBody = 2048;

enum class Mode { kUndecided, kFile, kHtml, kDiscard };

struct Request {
  // inputs
  FILE* out = nullptr;
  uint64_t offset = 0;  // bytes already in the .part file when the request started
  uint64_t max_bytes = 0;
  long stall_timeout_s = 60;
  bool drive = false;
  bool file_scheme = false;
  bool https = false;  // the last URL asked for (the source or a redirect) was https
  std::string url;
  Progress* progress = nullptr;
  // response headers (of the last response, after redirects)
  long status = 0;
  std::string content_type;
  std::optional<uint64_t> content_length;
  std::optional<uint64_t> range_first;
  std::optional<uint64_t> range_total;
  // state
  Mode mode = Mode::kUndecided;
  uint64_t written = 0;
  std::string html;
  std::string error_body;
  curl_off_t last_now = -1;
  std::chrono::steady_clock::time_point last_change;
  // a decision taken inside a callback that ends the transfer
  std::optional<Outcome> abort_outcome;
  ErrorCode abort_code = ErrorCode::kNetwork;
  std::string abort_message;
  bool abort_discard = false;
};

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

void abort_request(Request& r, Outcome outcome, ErrorCode code, std::string message) {
  r.abort_outcome = outcome;
  r.abort_code = code;
  r.abort_message = std::move(message);
}

// Chooses what to do with the body once the final response's headers are known; false aborts.
bool decide(Request& r) {
  r.mode = Mode::kFile;
  if (r.file_scheme) return true;
  if (r.status >= 300) {
    r.mode = Mode::kDiscard;
    return true;
  }
  if (r.status < 200) return true;
  if (r.drive && util::to_lower(r.content_type).rfind("text/html", 0) == 0) {
    r.mode = Mode::kHtml;
    return true;
  }
  if (r.status == 206) {
    if (!r.range_first || *r.range_first != r.offset) {
      abort_request(r, Outcome::kRestart, ErrorCode::kNetwork,
                    "the server resumed at another offset than asked; starting again");
      return false;
    }
  } else if (r.offset > 0) {
    spdlog::info("{} ignored the resume request; downloading from the start", r.url);
    if (std::fflush(r.out) != 0 || ::ftruncate(::fileno(r.out), 0) != 0 ||
        std::fseek(r.out, 0, SEEK_SET) != 0) {
      abort_request(r, Outcome::kFinal, ErrorCode::kIo,
                    std::string("cannot truncate the partial download: ") + std::strerror(errno));
      return false;
    }
    r.offset = 0;
  }
  if (r.content_length) {
    const uint64_t total = (r.status == 206 ? r.offset : 0) + *r.content_length;
    if (total > r.max_bytes) {
      abort_request(r, Outcome::kFinal, ErrorCode::kNetwork,
                    "the server announces " + std::to_string(total) + " bytes, over the limit of " +
                        std::to_string(r.max_bytes) +
                        " bytes (raise the download size cap, max_download_mb)");
      r.abort_discard = true;
      return false;
    }
  }
  return true;
}

// A redirect from https to http would let anyone on the way change the file: refused. (libcurl
// is also told to follow https sources to https only; this check covers http -> https -> http.)
size_t on_location(Request& r, const std::string& location, size_t n) {
  const auto target = parse_url(location);  // none for a relative one: the scheme stays
  const bool to_https = target ? util::to_lower(target->scheme) == "https" : r.https;
  if (r.https && !to_https) {
    abort_request(r, Outcome::kFinal, ErrorCode::kNetwork,
                  "the server redirected an https request to '" + location +
                      "', which is not https; refused, as the file could be altered on the way "
                      "(download it from an https address, or set a mirror)");
    return 0;
  }
  r.https = to_https;
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& r = *static_cast<Request*>(user);
  const size_t n = size * count;
  const std::string line = trim(std::string(data, n));
  if (line.rfind("HTTP/", 0) == 0) {
    r.status = 0;
    r.content_type.clear();
    r.content_length.reset();
    r.range_first.reset();
    r.range_total.reset();
    const auto sp = line.find(' ');
    if (sp != std::string::npos) r.status = std::strtol(line.c_str() + sp + 1, nullptr, 10);
    return n;
  }
  if (line.empty()) {
    // End of one response's headers; redirects and 1xx are followed by another response.
    const bool final_response = r.status >= 200 && !(r.status >= 300 && r.status < 400);
    if (final_response && r.mode == Mode::kUndecided && !decide(r)) return 0;
    return n;
  }
  const auto colon = line.find(':');
  if (colon == std::string::npos) return n;
  const std::string name = util::to_lower(line.substr(0, colon));
  const std::string value = trim(line.substr(colon + 1));
  if (name == "location" && r.status >= 300 && r.status < 400) return on_location(r, value, n);
  if (name == "content-type") {
    r.content_type = value;
  } else if (name == "content-length") {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
    if (end != value.c_str()) r.content_length = v;
  } else if (name == "content-range") {
    // "bytes FIRST-LAST/TOTAL" or "bytes */TOTAL"
    const auto sp = value.find(' ');
    const std::string spec = sp == std::string::npos ? value : value.substr(sp + 1);
    const auto slash = spec.find('/');
    if (!spec.empty() && spec[0] != '*') r.range_first = std::strtoull(spec.c_str(), nullptr, 10);
    if (slash != std::string::npos && spec.compare(slash + 1, 1, "*") != 0) {
      r.range_total = std::strtoull(spec.c_str() + slash + 1, nullptr, 10);
    }
  }
  return n;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& r = *static_cast<Request*>(user);
  const size_t n = size * count;
  if (r.abort_outcome) return 0;
  if (r.mode == Mode::kUndecided && !decide(r)) return 0;
  switch (r.mode) {
    case Mode::kHtml:
      if (r.html.size() + n > kMaxHtmlBytes) {
        abort_request(r, Outcome::kFinal, ErrorCode::kNetwork,
                      "Google Drive answered a web page larger than " +
                          util::format_bytes(kMaxHtmlBytes) + " instead of the file");
        return 0;
      }
      r.html.append(data, n);
      return n;
    case Mode::kDiscard:
      r.error_body.append(
          data, std::min(n, kMaxErrorBody - std::min(kMaxErrorBody, r.error_body.size())));
      return n;
    default:
      break;
  }
  if (r.offset + r.written + n > r.max_bytes) {
    abort_request(r, Outcome::kFinal, ErrorCode::kNetwork,
                  "the file grew past the limit of " + std::to_string(r.max_bytes) +
                      " bytes (raise the download size cap, max_download_mb)");
    r.abort_discard = true;
    return 0;
  }
  if (std::fwrite(data, 1, n, r.out) != n) {
    abort_request(r, Outcome::kFinal, ErrorCode::kIo,
                  std::string("cannot write the partial download: ") + std::strerror(errno) +
                      " (is the disk full?)");
    return 0;
  }
  r.written += n;
  return n;
}

void draw_progress(Request& r, uint64_t now_bytes, uint64_t total_bytes, bool force) {
  Progress* p = r.progress;
  if (p == nullptr || r.mode != Mode::kFile) return;
  if (p->log_lines && total_bytes > 0) {
    if (!p->lines) {
      p->lines = std::make_unique<util::Progress>(p->label, r.offset + total_bytes);
      p->lines->count_bytes();
      p->lines->resume_from(static_cast<int64_t>(r.offset));
    }
    p->lines->update(static_cast<int64_t>(r.offset + now_bytes));
  }
  if (!p->enabled) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && p->drawn && now - p->last_draw < std::chrono::milliseconds(250)) return;
  p->last_draw = now;
  p->drawn = true;
  const double elapsed = std::chrono::duration<double>(now - p->start).count();
  const double speed = elapsed > 0 ? static_cast<double>(now_bytes) / elapsed : 0.0;
  const double done = static_cast<double>(r.offset + now_bytes);
  std::string line = "\r" + p->label + "  " + util::format_bytes(done);
  if (total_bytes > 0) {
    const double total = static_cast<double>(r.offset + total_bytes);
    char pct[16];
    std::snprintf(pct, sizeof pct, " %3.0f%%", 100.0 * done / total);
    line += " / " + util::format_bytes(total) + pct;
    line += "  " + util::format_bytes(speed) + "/s  ETA " +
            util::format_duration(speed > 0 ? (total - done) / speed : NAN);
  } else {
    line += "  " + util::format_bytes(speed) + "/s";
  }
  line += "\x1b[K";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto& r = *static_cast<Request*>(user);
  if (util::interrupt_requested()) {
    abort_request(r, Outcome::kFinal, ErrorCode::kInterrupted,
                  "interrupted; run again to resume from the partial file");
    return 1;
  }
  // libcurl's own low-speed check averages over several seconds; this one reacts to silence.
  const auto t = std::chrono::steady_clock::now();
  if (dlnow != r.last_now) {
    r.last_now = dlnow;
    r.last_change = t;
  } else if (t - r.last_change > std::chrono::seconds(r.stall_timeout_s)) {
    abort_request(r, Outcome::kRetry, ErrorCode::kNetwork,
                  "the transfer stalled (no data for " + std::to_string(r.stall_timeout_s) + " s)");
    return 1;
  }
  draw_progress(r, static_cast<uint64_t>(dlnow), static_cast<uint64_t>(dltotal), false);
  return 0;
}

bool retryable_status(long status) {
  return status == 408 || status == 425 || status == 429 || status >= 500;
}

std::string status_text(long status) {
  switch (status) {
    case 400:
      return "bad request";
    case 401:
      return "authentication required";
    case 403:
      return "forbidden";
    case 404:
      return "not found";
    case 410:
      return "gone";
    case 416:
      return "range not satisfiable";
    case 429:
      return "too many requests";
    case 500:
      return "internal server error";
    case 502:
      return "bad gateway";
    case 503:
      return "service unavailable";
    case 504:
      return "gateway timeout";
    default:
      return "error";
  }
}

}  // namespace

CurlHandle new_curl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CurlHandle curl(curl_easy_init());
  if (!curl) throw Error(ErrorCode::kInternal, "cannot initialise libcurl");
  return curl;
}

AttemptResult perform(CURL* curl, const Attempt& attempt, const DownloadOptions& options) {
  Request r;
  r.out = attempt.out;
  r.offset = attempt.offset;
  r.max_bytes = options.max_bytes;
  r.stall_timeout_s = options.stall_timeout_s;
  r.drive = attempt.drive;
  const auto parts = parse_url(attempt.url);
  r.file_scheme = parts && parts->scheme == "file";
  r.https = parts && util::to_lower(parts->scheme) == "https";
  r.url = attempt.url;
  r.progress = attempt.progress;

  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, options.max_redirects);
  // The _STR options replace the bit masks (deprecated since 7.85.0).
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, r.file_scheme ? "file" : "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, r.https ? "https" : "http,https");
#else
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS,
                   r.file_scheme ? CURLPROTO_FILE : (CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS,
                   r.https ? CURLPROTO_HTTPS : (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options.stall_timeout_s);
  curl_easy_setopt(curl, CURLOPT_COOKIEFILE, "");  // in-memory cookies (Google Drive)
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "msinet");
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &r);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  const std::string range = std::to_string(r.offset) + "-";
  if (r.offset > 0) curl_easy_setopt(curl, CURLOPT_RANGE, range.c_str());

  const CURLcode rc = curl_easy_perform(curl);
  std::fflush(r.out);
  draw_progress(r, r.written, r.content_length.value_or(0), /*force=*/true);

  AttemptResult res;
  char* effective = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective) {
    res.effective_url = effective;
  } else {
    res.effective_url = r.url;
  }
  if (r.abort_outcome) {
    res.outcome = *r.abort_outcome;
    res.code = r.abort_code;
    res.message = r.abort_message;
    res.discard = r.abort_discard;
    return res;
  }
  if (rc != CURLE_OK) {
    std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    res.outcome = Outcome::kRetry;
    switch (rc) {
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_ISSUER_ERROR:
      case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        res.outcome = Outcome::kFinal;
        why = "TLS certificate verification failed (" + why + "); " +
              (options.ca_file.empty()
                   ? "check the system clock and the CA certificates (package "
                     "ca-certificates), or give the file of the CA that signed the server's "
                     "certificate with CURL_CA_BUNDLE=FILE.pem"
                   : "check that the CA file '" + options.ca_file +
                         "' (CURL_CA_BUNDLE) holds the CA that signed the server's certificate");
        break;
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
      case CURLE_COULDNT_CONNECT:
        // Waiting does not bring a name server or a listening server: no retries.
        res.outcome = Outcome::kFinal;
        why += " (not retried: the server cannot be reached from this machine)";
        break;
      case CURLE_TOO_MANY_REDIRECTS:
        res.outcome = Outcome::kFinal;
        why = "more than " + std::to_string(options.max_redirects) +
              " redirects (a redirect loop?); last address '" + res.effective_url + "'";
        break;
      case CURLE_UNSUPPORTED_PROTOCOL:
      case CURLE_URL_MALFORMAT:
      case CURLE_FILE_COULDNT_READ_FILE:
        res.outcome = Outcome::kFinal;
        break;
      case CURLE_OPERATION_TIMEDOUT:
        why += " (no data for " + std::to_string(options.stall_timeout_s) + " s)";
        break;
      default:
        break;
    }
    res.message = why;
    return res;
  }
  if (r.mode == Mode::kUndecided && !decide(r)) {
    res.outcome = *r.abort_outcome;
    res.code = r.abort_code;
    res.message = r.abort_message;
    res.discard = r.abort_discard;
    return res;
  }
  if (r.file_scheme) return res;
  if (r.status == 416 && r.offset > 0) {
    res.outcome = Outcome::kRestart;
    res.total_size = r.range_total;
    res.message = "the server refused the resume range";
    return res;
  }
  if (r.status >= 300 || r.status < 200) {
    res.outcome = retryable_status(r.status) ? Outcome::kRetry : Outcome::kFinal;
    res.message = "HTTP " + std::to_string(r.status) + " (" + status_text(r.status) + ")";
    return res;
  }
  if (r.mode == Mode::kHtml) {
    res.outcome = Outcome::kHtml;
    res.html = std::move(r.html);
    return res;
  }
  return res;
}

}  // namespace msinet::fetch::detail
