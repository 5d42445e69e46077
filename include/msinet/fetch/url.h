#pragma once
// Download sources and their URLs: parsing and rewriting through libcurl's URL API (CURLU),
// Google Drive ids, and the mirror layout BASE/<host>/<path>.

#include <optional>
#include <string>

namespace msinet::fetch {

/// Where a file comes from: a plain URL, or a Google Drive file id.
struct Source {
  std::string url;        ///< http(s) URL; used when gdrive_id is empty
  std::string gdrive_id;  ///< Google Drive id: https://drive.google.com/uc?id=<id>&export=download
};

/// The parts of an absolute URL, as libcurl's URL parser splits it.
struct UrlParts {
  std::string scheme;  ///< lower case: "https", "file", ...
  std::string host;    ///< lower case, without user or port (IPv6 in brackets); empty for file://
  std::string path;    ///< "/" at least, dot segments removed, percent-encoding kept
  std::string query;   ///< without '?' and not decoded; empty when there is none
};

/// Splits an absolute URL of any scheme; nullopt when it is not one (no scheme, a space, ...).
std::optional<UrlParts> parse_url(const std::string& url);

/// True for the schemes "http" and "https".
bool is_http_scheme(const std::string& scheme);

/// The raw value of parameter `name` in a query string (without '?'); empty when absent.
std::string query_param(const std::string& query, const std::string& name);

/// `ref` (absolute, "//host/...", "/path", "path", "?query") resolved against `base_url` as a
/// browser does (RFC 3986); `ref` unchanged when either is not a URL.
std::string resolve_reference(const std::string& ref, const std::string& base_url);

/// `url` with "name=value" appended to its query (after '?' or '&'), both percent-encoded except
/// for the RFC 3986 unreserved characters; `url` unchanged when it is not a URL.
std::string append_query(const std::string& url, const std::string& name, const std::string& value);

/// The Google Drive id of `source`: gdrive_id, or the id in a drive.google.com URL
/// (uc?id=, open?id=, file/d/<id>/); empty for other sources. Throws Error(kConfig) for an id
/// with characters other than [A-Za-z0-9_-].
std::string gdrive_id_of(const Source& source);

/// The URL actually fetched for `source` given a mirror base (empty = no mirror):
/// BASE/<host>/<path> (query dropped) or BASE/drive.google.com/<id>. Throws Error(kConfig) for a
/// mirror that is not http(s):// or file://, or a source URL that cannot be mirrored.
std::string resolve_url(const Source& source, const std::string& mirror);

}  // namespace msinet::fetch
