#pragma once
// The shared downloader (libcurl): TLS-verified HTTPS, redirects (bounded; never from https to
// http), timeouts, retries with backoff, resume into <file>.part, SHA-256 check, a mirror,
// Google Drive confirmation.

#include <cstdint>
#include <filesystem>
#include <string>

#include "msinet/fetch/url.h"

namespace msinet::fetch {

/// Knobs for one download; defaults suit the public sources.
struct DownloadOptions {
  long connect_timeout_s = 30;      ///< give up connecting after this long
  long stall_timeout_s = 60;        ///< abort when under 1 byte/s for this long
  int retries = 4;                  ///< extra attempts after the first that bring nothing new
  int max_attempts = 100;           ///< requests in all, those that brought bytes included
  double backoff_s = 1.0;           ///< first wait between attempts; doubles each time
  long max_redirects = 10;          ///< redirects followed per request
  uint64_t max_bytes = 8ull << 30;  ///< refuse anything larger (Error kNetwork)
  std::string ca_file;              ///< PEM file of CA certificates; empty = the system's
  std::string expected_sha256;      ///< lower-case hex; empty = configs/checksums.yaml's value,
                                    ///< or unknown there (logged, recorded beside the file)
  std::string mirror;               ///< base of a mirror (BASE/<host>/<path>); empty = none
  bool progress = true;             ///< progress bar when stderr is a terminal
};

/// Downloads `source` to `dest` (atomically: `dest`.part, resumed with HTTP Range, renamed when
/// complete and verified). Returns the SHA-256 (hex) of the file. When `dest` already exists and
/// matches expected_sha256 (or no checksum is known), nothing is downloaded.
/// Timeouts, dropped connections, HTTP 408/425/429 and 5xx are retried with backoff; a host name
/// that does not resolve and a refused connection are final at once (one request).
/// Throws Error(kNetwork) for HTTP/connection/TLS failures after the retries, a file over
/// max_bytes or a download that another process holds; Error(kData) for a checksum mismatch.
/// The message names the URL and the file.
std::string download(const Source& source, const std::filesystem::path& dest,
                     const DownloadOptions& options = {});

/// SHA-256 of a file, lower-case hex, streamed.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace msinet::fetch
