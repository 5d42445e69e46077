#include "msinet/fetch/url.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "msinet/util/error.h"
#include "msinet/util/fs.h"

namespace msinet::fetch {

namespace {

// Any scheme parses (the callers decide which they accept); nothing is guessed or encoded.
constexpr unsigned int kParseFlags = CURLU_NON_SUPPORT_SCHEME;

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;

// A handle holding `url`, or null when libcurl does not accept it as an absolute URL.
UrlHandle parsed(const std::string& url) {
  UrlHandle h(curl_url());
  if (!h || curl_url_set(h.get(), CURLUPART_URL, url.c_str(), kParseFlags) != CURLUE_OK) {
    return nullptr;
  }
  return h;
}

// One part of a parsed URL; nullopt when the URL has no such part.
std::optional<std::string> part(CURLU* h, CURLUPart which) {
  char* s = nullptr;
  if (curl_url_get(h, which, &s, 0) != CURLUE_OK || s == nullptr) return std::nullopt;
  std::string out(s);
  curl_free(s);
  return out;
}

// Percent-encodes everything but A-Z a-z 0-9 - . _ ~ (upper-case hex digits).
std::string escaped(const std::string& s) {
  char* e = curl_easy_escape(nullptr, s.c_str(), static_cast<int>(s.size()));
  if (e == nullptr) throw Error(ErrorCode::kInternal, "libcurl cannot percent-encode '" + s + "'");
  std::string out(e);
  curl_free(e);
  return out;
}

std::string strip_trailing_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

bool is_drive_host(const std::string& host) {
  return host == "drive.google.com" || host == "docs.google.com" ||
         host == "drive.usercontent.google.com";
}

}  // namespace

std::optional<UrlParts> parse_url(const std::string& url) {
  const UrlHandle h = parsed(url);
  if (!h) return std::nullopt;
  UrlParts p;
  p.scheme = util::to_lower(part(h.get(), CURLUPART_SCHEME).value_or(""));
  p.host = util::to_lower(part(h.get(), CURLUPART_HOST).value_or(""));
  p.path = part(h.get(), CURLUPART_PATH).value_or("/");
  p.query = part(h.get(), CURLUPART_QUERY).value_or("");
  return p;
}

bool is_http_scheme(const std::string& scheme) { return scheme == "http" || scheme == "https"; }

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

std::string resolve_reference(const std::string& ref, const std::string& base_url) {
  const UrlHandle h = parsed(base_url);
  // Setting a relative URL on a handle that holds one resolves it against that one.
  if (!h || curl_url_set(h.get(), CURLUPART_URL, ref.c_str(), kParseFlags) != CURLUE_OK) {
    return ref;
  }
  return part(h.get(), CURLUPART_URL).value_or(ref);
}

std::string append_query(const std::string& url, const std::string& name,
                         const std::string& value) {
  const UrlHandle h = parsed(url);
  if (!h) return url;
  // Setting the query part would lower-case the percent-encoding; the URL is put together from
  // its parts instead, the query and fragment taken off and added back.
  std::string query = part(h.get(), CURLUPART_QUERY).value_or("");
  const auto fragment = part(h.get(), CURLUPART_FRAGMENT);
  if (curl_url_set(h.get(), CURLUPART_QUERY, nullptr, 0) != CURLUE_OK ||
      curl_url_set(h.get(), CURLUPART_FRAGMENT, nullptr, 0) != CURLUE_OK) {
    return url;
  }
  const auto base = part(h.get(), CURLUPART_URL);
  if (!base) return url;
  if (!query.empty() && query.back() != '&') query += '&';
  query += escaped(name) + "=" + escaped(value);
  return *base + "?" + query + (fragment ? "#" + *fragment : "");
}

std::string gdrive_id_of(const Source& source) {
  std::string id = source.gdrive_id;
  if (id.empty()) {
    const auto url = parse_url(source.url);
    if (url && is_drive_host(url->host)) {
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
  const auto base = parse_url(mirror);
  if (!base || !(is_http_scheme(base->scheme) || base->scheme == "file")) {
    throw Error(ErrorCode::kConfig, "mirror '" + mirror +
                                        "' is not an http://, https:// or file:// URL; fix "
                                        "MSINET_MIRROR or the mirror setting");
  }
  // The mirror is taken as written (it may carry a path); only the source is normalised.
  const std::string root = strip_trailing_slashes(mirror);
  if (!id.empty()) return root + "/drive.google.com/" + id;
  const auto url = parse_url(source.url);
  if (!url || !is_http_scheme(url->scheme) || url->host.empty()) {
    throw Error(ErrorCode::kConfig, "cannot mirror '" + source.url + "': not an http(s) URL");
  }
  return root + "/" + url->host + url->path;
}

}  // namespace msinet::fetch
