#include "msinet/data/download.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "msinet/data/checksums.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/util/progress.h"
#include "msinet/util/signals.h"

namespace msinet::data {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxHtmlBytes = 2u << 20;
constexpr size_t kMaxErrorBody = 2048;
constexpr int kMaxConfirmHops = 2;
constexpr int kMaxRestarts = 3;

struct UrlParts {
  std::string scheme;
  std::string host;
  std::string path;    // from the first '/' after the authority, without query or fragment
  std::string query;   // without '?'
  std::string origin;  // scheme://authority
};

std::optional<UrlParts> split_url(const std::string& url) {
  const auto colon = url.find("://");
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  UrlParts p;
  p.scheme = util::to_lower(url.substr(0, colon));
  const size_t auth_begin = colon + 3;
  const size_t auth_end = url.find_first_of("/?#", auth_begin);
  const std::string authority = url.substr(
      auth_begin, auth_end == std::string::npos ? std::string::npos : auth_end - auth_begin);
  p.origin = url.substr(0, auth_begin) + authority;
  std::string host =
      authority.substr(authority.rfind('@') == std::string::npos ? 0 : authority.rfind('@') + 1);
  if (!host.empty() && host[0] == '[') {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  p.host = util::to_lower(host);
  if (auth_end != std::string::npos) {
    const std::string rest = url.substr(auth_end);
    const size_t q = rest.find_first_of("?#");
    p.path = rest.substr(0, q);
    if (q != std::string::npos && rest[q] == '?') {
      const size_t h = rest.find('#', q);
      p.query = rest.substr(q + 1, h == std::string::npos ? std::string::npos : h - q - 1);
    }
  }
  return p;
}

std::string query_param(const std::string& query, const std::string& name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    const size_t amp = std::min(query.find('&', pos), query.size());
    const std::string item = query.substr(pos, amp - pos);
    const size_t eq = item.find('=');
    if (eq != std::string::npos && item.substr(0, eq) == name) return item.substr(eq + 1);
    pos = amp + 1;
  }
  return {};
}

bool is_http(const std::string& scheme) { return scheme == "http" || scheme == "https"; }

std::string strip_trailing_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

void ensure_curl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Google Drive confirmation pages

std::string html_unescape(const std::string& s) {
  static const std::map<std::string, std::string> named = {
      {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}};
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const size_t semi = s.find(';', i);
    if (semi == std::string::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    const std::string ent = s.substr(i + 1, semi - i - 1);
    std::string rep;
    if (!ent.empty() && ent[0] == '#') {
      const bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
      const long code = std::strtol(ent.c_str() + (hex ? 2 : 1), nullptr, hex ? 16 : 10);
      if (code > 0 && code < 128) rep = std::string(1, static_cast<char>(code));
    } else if (named.count(ent)) {
      rep = named.at(ent);
    }
    if (rep.empty()) {
      out += s[i];
      continue;
    }
    out += rep;
    i = semi;
  }
  return out;
}

struct Tag {
  std::string name;  // lower case, "/form" for a closing tag
  std::map<std::string, std::string> attrs;
};

// All tags of `html` in order, with lower-cased names and unescaped attribute values.
std::vector<Tag> scan_tags(const std::string& html) {
  std::vector<Tag> tags;
  size_t i = 0;
  const auto is_name = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':';
  };
  while ((i = html.find('<', i)) != std::string::npos) {
    ++i;
    if (html.compare(i, 3, "!--") == 0) {
      const size_t end = html.find("-->", i);
      if (end == std::string::npos) break;
      i = end + 3;
      continue;
    }
    Tag tag;
    if (i < html.size() && html[i] == '/') {
      tag.name = "/";
      ++i;
    }
    while (i < html.size() && is_name(html[i])) {
      tag.name += static_cast<char>(std::tolower(static_cast<unsigned char>(html[i++])));
    }
    while (i < html.size() && html[i] != '>') {
      if (!is_name(html[i])) {
        ++i;
        continue;
      }
      std::string key;
      while (i < html.size() && is_name(html[i])) {
        key += static_cast<char>(std::tolower(static_cast<unsigned char>(html[i++])));
      }
      while (i < html.size() && std::isspace(static_cast<unsigned char>(html[i]))) ++i;
      std::string value;
      if (i < html.size() && html[i] == '=') {
        ++i;
        while (i < html.size() && std::isspace(static_cast<unsigned char>(html[i]))) ++i;
        if (i < html.size() && (html[i] == '"' || html[i] == '\'')) {
          const char quote = html[i++];
          const size_t end = html.find(quote, i);
          if (end == std::string::npos) return tags;
          value = html.substr(i, end - i);
          i = end + 1;
        } else {
          while (i < html.size() && !std::isspace(static_cast<unsigned char>(html[i])) &&
                 html[i] != '>') {
            value += html[i++];
          }
        }
      }
      tag.attrs.emplace(key, html_unescape(value));
    }
    tags.push_back(std::move(tag));
  }
  return tags;
}

std::string resolve_reference(const std::string& ref, const std::string& base_url) {
  if (ref.find("://") != std::string::npos) return ref;
  const auto base = split_url(base_url);
  if (!base) return ref;
  if (ref.rfind("//", 0) == 0) return base->scheme + ":" + ref;
  if (!ref.empty() && ref[0] == '/') return base->origin + ref;
  const std::string dir = base->path.substr(0, base->path.rfind('/') + 1);
  return base->origin + (dir.empty() ? "/" : dir) + ref;
}

std::string url_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// The URL of the real file behind a Google Drive confirmation page, or empty when there is none.
std::string drive_confirmation_url(const std::string& html, const std::string& page_url) {
  const auto tags = scan_tags(html);
  bool in_form = false;
  std::string action;
  std::vector<std::pair<std::string, std::string>> inputs;
  std::string confirm_href;
  for (const auto& tag : tags) {
    if (tag.name == "form") {
      const auto id = tag.attrs.find("id");
      in_form = id != tag.attrs.end() && id->second == "download-form";
      if (in_form) {
        const auto a = tag.attrs.find("action");
        action = a == tag.attrs.end() ? std::string() : a->second;
        inputs.clear();
      }
    } else if (tag.name == "/form") {
      if (in_form && !action.empty()) break;
      in_form = false;
    } else if (tag.name == "input" && in_form) {
      const auto name = tag.attrs.find("name");
      if (name == tag.attrs.end() || name->second.empty()) continue;
      const auto value = tag.attrs.find("value");
      inputs.emplace_back(name->second, value == tag.attrs.end() ? "" : value->second);
    } else if (tag.name == "a" && confirm_href.empty()) {
      const auto href = tag.attrs.find("href");
      if (href != tag.attrs.end() && href->second.find("confirm=") != std::string::npos) {
        confirm_href = href->second;
      }
    }
  }
  if (!action.empty() && !inputs.empty()) {
    std::string url = resolve_reference(action, page_url);
    char sep = url.find('?') == std::string::npos ? '?' : '&';
    for (const auto& [name, value] : inputs) {
      url += sep + url_escape(name) + "=" + url_escape(value);
      sep = '&';
    }
    return url;
  }
  if (!confirm_href.empty()) return resolve_reference(confirm_href, page_url);
  // Oldest style: only a token somewhere in the page (a script or a link we did not recognise).
  const size_t at = html.find("confirm=");
  if (at != std::string::npos) {
    size_t end = at + 8;
    while (end < html.size() && (std::isalnum(static_cast<unsigned char>(html[end])) ||
                                 html[end] == '_' || html[end] == '-')) {
      ++end;
    }
    const std::string token = html.substr(at + 8, end - at - 8);
    if (!token.empty()) {
      return page_url + (page_url.find('?') == std::string::npos ? "?" : "&") + "confirm=" + token;
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// One HTTP request into the .part file

enum class Mode { kUndecided, kFile, kHtml, kDiscard };
enum class Outcome { kDone, kHtml, kRestart, kRetry, kFinal };

struct Progress {
  bool enabled = false;
  std::string label;
  std::chrono::steady_clock::time_point start, last_draw;
  bool drawn = false;
};

struct Request {
  // inputs
  FILE* out = nullptr;
  uint64_t offset = 0;  // bytes already in the .part file when the request started
  uint64_t max_bytes = 0;
  long stall_timeout_s = 60;
  bool drive = false;
  bool file_scheme = false;
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
};

std::string trim(std::string s) {
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
      abort_request(r, Outcome::kFinal, ErrorCode::kData,
                    "the server announces " + std::to_string(total) + " bytes, over the limit of " +
                        std::to_string(r.max_bytes) + " bytes (raise the download size cap)");
      return false;
    }
  }
  return true;
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
                      "Google Drive answered a web page larger than " + human_bytes(kMaxHtmlBytes) +
                          " instead of the file");
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
    abort_request(r, Outcome::kFinal, ErrorCode::kData,
                  "the file grew past the limit of " + std::to_string(r.max_bytes) +
                      " bytes (raise the download size cap)");
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
  if (p == nullptr || !p->enabled || r.mode != Mode::kFile) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && p->drawn && now - p->last_draw < std::chrono::milliseconds(250)) return;
  p->last_draw = now;
  p->drawn = true;
  const double elapsed = std::chrono::duration<double>(now - p->start).count();
  const double speed = elapsed > 0 ? static_cast<double>(now_bytes) / elapsed : 0.0;
  const double done = static_cast<double>(r.offset + now_bytes);
  std::string line = "\r" + p->label + "  " + human_bytes(done);
  if (total_bytes > 0) {
    const double total = static_cast<double>(r.offset + total_bytes);
    char pct[16];
    std::snprintf(pct, sizeof pct, " %3.0f%%", 100.0 * done / total);
    line += " / " + human_bytes(total) + pct;
    line += "  " + human_bytes(speed) + "/s  ETA " +
            util::format_duration(speed > 0 ? (total - done) / speed : NAN);
  } else {
    line += "  " + human_bytes(speed) + "/s";
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

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

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

struct Result {
  Outcome outcome = Outcome::kDone;
  ErrorCode code = ErrorCode::kNetwork;
  std::string message;
  std::string html;
  std::string effective_url;
  std::optional<uint64_t> total_size;  // from a 416 answer
};

Result perform(CURL* curl, Request& r, const DownloadOptions& options) {
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, r.file_scheme ? "file" : "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS,
                   r.file_scheme ? CURLPROTO_FILE : (CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
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

  Result res;
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
        why = "TLS certificate verification failed (" + why +
              "); check the system clock and the CA certificates (package ca-certificates)";
        break;
      case CURLE_UNSUPPORTED_PROTOCOL:
      case CURLE_URL_MALFORMAT:
      case CURLE_TOO_MANY_REDIRECTS:
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

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

uint64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<uint64_t>(n);
}

// Runs requests until `part` holds the whole file: follows Google Drive confirmation pages,
// resumes, restarts and retries. Throws Error on a final failure.
void fetch_into_part(CURL* curl, const std::string& url, const std::string& drive_id,
                     const fs::path& dest, const fs::path& part, const std::string& what,
                     const std::string& mirror, int fd, std::unique_ptr<FILE, FileCloser>& out,
                     Progress& progress, const DownloadOptions& options) {
  std::string current = url;
  int confirm_hops = 0;
  int failures = 0;
  int restarts = 0;
  uint64_t best_size = file_size_or_zero(part);
  for (;;) {
    Request r;
    r.out = out.get();
    r.offset = static_cast<uint64_t>(std::ftell(out.get()));
    r.max_bytes = options.max_bytes;
    r.stall_timeout_s = options.stall_timeout_s;
    r.drive = !drive_id.empty();
    r.file_scheme = util::to_lower(current.substr(0, 7)) == "file://";
    r.url = current;
    r.progress = &progress;
    progress.start = std::chrono::steady_clock::now();
    progress.drawn = false;
    if (r.offset > 0) spdlog::info("resuming {} at byte {}", part.string(), r.offset);
    Result res = perform(curl, r, options);
    if (progress.drawn) std::fputs("\n", stderr);

    if (res.outcome == Outcome::kDone) return;
    if (res.outcome == Outcome::kHtml) {
      const std::string next = drive_confirmation_url(res.html, res.effective_url);
      const auto next_parts = split_url(next);
      if (next.empty() || confirm_hops >= kMaxConfirmHops || !next_parts ||
          !is_http(next_parts->scheme)) {
        throw Error(ErrorCode::kNetwork,
                    "Google Drive refused the download of file id '" + drive_id + "' from " + url +
                        " (quota exceeded or access denied?): it answered a web page without a "
                        "download link. Download the file in a browser and put it at '" +
                        dest.string() + "', or try again later");
      }
      spdlog::info("Google Drive asks to confirm the download; following {}", next);
      current = next;
      ++confirm_hops;
      continue;
    }
    if (res.outcome == Outcome::kRestart) {
      const uint64_t have = file_size_or_zero(part);
      if (res.total_size && *res.total_size == have) return;  // already complete
      if (++restarts > kMaxRestarts) {
        throw Error(ErrorCode::kNetwork, "download of " + what + " failed: " + res.message +
                                             ", again and again; delete '" + part.string() +
                                             "' and try again later");
      }
      spdlog::info("{}: {}", url, res.message);
      if (::ftruncate(fd, 0) != 0 || std::fseek(out.get(), 0, SEEK_SET) != 0) {
        throw Error(ErrorCode::kIo,
                    "cannot truncate '" + part.string() + "': " + std::strerror(errno));
      }
      best_size = 0;
      continue;
    }
    if (res.outcome == Outcome::kFinal) {
      if (res.code == ErrorCode::kData) {
        out.reset();
        std::error_code ec;
        fs::remove(part, ec);
      }
      std::string hint;
      if (res.message.rfind("HTTP 4", 0) == 0) {
        hint = mirror.empty() ? "; check the address in the configuration"
                              : "; check that the mirror '" + mirror + "' holds the file";
      }
      throw Error(res.code, "download of " + what + " failed: " + res.message + hint);
    }
    // kRetry: an attempt that brought the file further than ever does not count as a failure.
    const uint64_t have = file_size_or_zero(part);
    const bool progressed = have > best_size;
    best_size = std::max(best_size, have);
    if (!progressed) ++failures;
    if (failures > options.retries) {
      throw Error(ErrorCode::kNetwork, "download of " + what + " failed after " +
                                           std::to_string(failures) + " attempts: " + res.message);
    }
    const double wait = progressed ? 0.0 : options.backoff_s * std::pow(2.0, failures - 1);
    spdlog::warn("{}: {}; retrying in {:.1f} s", url, res.message, wait);
    const auto wake = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait);
    while (std::chrono::steady_clock::now() < wake) {
      if (util::interrupt_requested()) {
        throw Error(ErrorCode::kInterrupted,
                    "download of " + what + " interrupted; run again to resume");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(
          std::min<long>(50, std::max<long>(1, static_cast<long>(wait * 1000)))));
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string gdrive_id_of(const Source& source) {
  std::string id = source.gdrive_id;
  if (id.empty()) {
    const auto url = split_url(source.url);
    if (url && (url->host == "drive.google.com" || url->host == "docs.google.com" ||
                url->host == "drive.usercontent.google.com")) {
      id = query_param(url->query, "id");
      const auto d = url->path.find("/file/d/");
      if (id.empty() && d != std::string::npos) {
        const std::string rest = url->path.substr(d + 8);
        id = rest.substr(0, rest.find('/'));
      }
    }
    if (id.empty()) return {};
  }
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
      throw Error(ErrorCode::kConfig,
                  "'" + id +
                      "' is not a Google Drive file id (letters, digits, "
                      "'-' and '_' only); check the source in the configuration");
    }
  }
  return id;
}

std::string resolve_url(const Source& source, const std::string& mirror) {
  const std::string id = gdrive_id_of(source);
  if (id.empty() && source.url.empty()) {
    throw Error(ErrorCode::kConfig, "a download source has neither a URL nor a Google Drive id");
  }
  if (mirror.empty()) {
    return id.empty() ? source.url : "https://drive.google.com/uc?id=" + id + "&export=download";
  }
  const auto base = split_url(mirror);
  if (!base || !(is_http(base->scheme) || base->scheme == "file")) {
    throw Error(ErrorCode::kConfig, "mirror '" + mirror +
                                        "' is not an http://, https:// or file:// URL; fix "
                                        "MSINET_MIRROR or the mirror setting");
  }
  const std::string root = strip_trailing_slashes(mirror);
  if (!id.empty()) return root + "/drive.google.com/" + id;
  const auto url = split_url(source.url);
  if (!url || !is_http(url->scheme) || url->host.empty()) {
    throw Error(ErrorCode::kConfig, "cannot mirror '" + source.url + "': not an http(s) URL");
  }
  return root + "/" + url->host + url->path;
}

std::string sha256_file(const fs::path& path) {
  std::unique_ptr<FILE, FileCloser> in(std::fopen(path.c_str(), "rb"));
  if (!in) {
    throw Error(ErrorCode::kInput,
                "cannot read '" + path.string() + "' to checksum it: " + std::strerror(errno));
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    throw Error(ErrorCode::kInternal, "cannot initialise SHA-256 (OpenSSL)");
  }
  std::vector<unsigned char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), in.get())) > 0) {
    EVP_DigestUpdate(ctx.get(), buf.data(), n);
  }
  if (std::ferror(in.get())) {
    throw Error(ErrorCode::kInput, "cannot read '" + path.string() + "' to checksum it");
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

std::string download(const Source& source, const fs::path& dest, const DownloadOptions& options) {
  std::string expected = util::to_lower(options.expected_sha256);
  if (expected.empty()) expected = known_sha256(source);
  if (!expected.empty() && (expected.size() != 64 ||
                            expected.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    throw Error(ErrorCode::kConfig, "expected SHA-256 '" + expected + "' for '" + dest.string() +
                                        "' is not 64 hex digits");
  }
  std::string mirror = options.mirror;
  if (mirror.empty()) {
    const char* env = std::getenv("MSINET_MIRROR");
    if (env != nullptr) mirror = env;
  }
  const std::string url = resolve_url(source, mirror);
  const std::string drive_id = gdrive_id_of(source);
  const std::string what = "'" + url + "' (to '" + dest.string() + "')";

  std::error_code ec;
  if (fs::exists(dest, ec)) {
    const std::string have = sha256_file(dest);
    if (expected.empty()) {
      record_local_checksum(source, dest, have);
      return have;
    }
    if (have == expected) return have;
    throw Error(ErrorCode::kData, "'" + dest.string() + "' exists but its SHA-256 is " + have +
                                      ", not the expected " + expected +
                                      "; delete it to download it again from " + url);
  }

  if (!dest.parent_path().empty()) {
    fs::create_directories(dest.parent_path(), ec);
    if (ec) {
      throw Error(ErrorCode::kIo,
                  "cannot create folder '" + dest.parent_path().string() + "': " + ec.message());
    }
  }
  const fs::path part = dest.string() + ".part";
  const int fd = ::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error(ErrorCode::kIo, "cannot write '" + part.string() + "': " + std::strerror(errno));
  }
  std::unique_ptr<FILE, FileCloser> out(::fdopen(fd, "r+b"));
  if (!out) {
    ::close(fd);
    throw Error(ErrorCode::kIo, "cannot write '" + part.string() + "': " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    throw Error(ErrorCode::kIo,
                "'" + part.string() + "' is being downloaded by another process; wait for it");
  }
  std::fseek(out.get(), 0, SEEK_END);

  ensure_curl_initialised();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) throw Error(ErrorCode::kInternal, "cannot initialise libcurl");

  Progress progress;
  progress.enabled = options.progress && util::stderr_is_terminal();
  progress.label = dest.filename().string();
  const auto started = std::chrono::steady_clock::now();
  spdlog::info("downloading {} to {}", url, dest.string());

  try {
    fetch_into_part(curl.get(), url, drive_id, dest, part, what, mirror, fd, out, progress,
                    options);
  } catch (...) {
    // An attempt that got no byte leaves no empty .part behind.
    if (out && file_size_or_zero(part) == 0) {
      out.reset();
      fs::remove(part, ec);
    }
    throw;
  }

  if (std::fflush(out.get()) != 0 || ::fsync(fd) != 0) {
    throw Error(ErrorCode::kIo, "cannot write '" + part.string() + "': " + std::strerror(errno));
  }
  const std::string have = sha256_file(part);
  if (!expected.empty() && have != expected) {
    out.reset();
    fs::remove(part, ec);
    throw Error(ErrorCode::kData, "download of " + what + " has SHA-256 " + have +
                                      ", not the expected " + expected +
                                      "; the file was deleted. The source may have changed or "
                                      "the mirror holds another file");
  }
  util::rename_replace(part, dest);
  out.reset();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("downloaded {} ({} in {:.1f} s)", dest.string(),
               human_bytes(static_cast<double>(file_size_or_zero(dest))), secs);
  if (expected.empty()) {
    spdlog::info("no known SHA-256 for '{}'; recorded {} in {}", checksum_key(source), have,
                 (dest.parent_path() / kLocalChecksumsFile).string());
    record_local_checksum(source, dest, have);
  }
  return have;
}

}  // namespace msinet::data
