#pragma once
// The shared downloader (libcurl): TLS-verified HTTPS, redirects, timeouts, retries with
// backoff, resume into <file>.part, SHA-256 check, MSINET_MIRROR, Google Drive confirmation.

#include <cstdint>
#include <filesystem>
#include <string>

namespace msinet::data {

/// Knobs for one download; defaults suit the public sources.
struct DownloadOptions {
  long connect_timeout_s = 30;      ///< give up connecting after this long
  long stall_timeout_s = 60;        ///< abort when under 1 byte/s for this long
  int retries = 4;                  ///< extra attempts after the first
  double backoff_s = 1.0;           ///< first wait between attempts; doubles each time
  uint64_t max_bytes = 8ull << 30;  ///< refuse anything larger (Error kData)
  std::string expected_sha256;      ///< lower-case hex; empty = configs/checksums.yaml's value,
                                    ///< or unknown there (logged, recorded beside the file)
  std::string mirror;               ///< MSINET_MIRROR base; empty = read the environment
  bool progress = true;             ///< progress bar when stderr is a terminal
};

/// Where a file comes from: a plain URL, or a Google Drive file id.
struct Source {
  std::string url;        ///< http(s) URL; used when gdrive_id is empty
  std::string gdrive_id;  ///< Google Drive id: https://drive.google.com/uc?id=<id>&export=download
};

/// The Google Drive id of `source`: gdrive_id, or the id in a drive.google.com URL
/// (uc?id=, open?id=, file/d/<id>/); empty for other sources. Throws Error(kConfig) for an id
/// with characters other than [A-Za-z0-9_-].
std::string gdrive_id_of(const Source& source);

/// The URL actually fetched for `source` given a mirror base (empty = no mirror):
/// BASE/<host>/<path> (query dropped) or BASE/drive.google.com/<id>.
std::string resolve_url(const Source& source, const std::string& mirror);

/// Downloads `source` to `dest` (atomically: `dest`.part, resumed with HTTP Range, renamed when
/// complete and verified). Returns the SHA-256 (hex) of the file. When `dest` already exists and
/// matches expected_sha256 (or no checksum is known), nothing is downloaded.
/// Throws Error(kNetwork) for HTTP/connection failures after the retries, Error(kData) for a
/// checksum mismatch or a file over max_bytes; the message names the URL and the file.
std::string download(const Source& source, const std::filesystem::path& dest,
                     const DownloadOptions& options = {});

/// SHA-256 of a file, lower-case hex, streamed.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace msinet::data
