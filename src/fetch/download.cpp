#include "msinet/fetch/download.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

#include "msinet/fetch/checksums.h"
#include "msinet/fetch/drive_page.h"
#include "msinet/fetch/url.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/util/progress.h"
#include "msinet/util/signals.h"
#include "transfer.h"

namespace msinet::fetch {

namespace fs = std::filesystem;

namespace {

using detail::Attempt;
using detail::AttemptResult;
using detail::Outcome;
using detail::Progress;

constexpr int kMaxConfirmHops = 2;
constexpr int kMaxRestarts = 3;

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
  int attempts = 0;
  uint64_t best_size = file_size_or_zero(part);
  for (;;) {
    Attempt attempt;
    attempt.out = out.get();
    attempt.offset = static_cast<uint64_t>(std::ftell(out.get()));
    attempt.drive = !drive_id.empty();
    attempt.url = current;
    attempt.progress = &progress;
    progress.start = std::chrono::steady_clock::now();
    progress.drawn = false;
    if (attempt.offset > 0) {
      spdlog::info("resuming {} at byte {}", part.string(), attempt.offset);
    }
    spdlog::debug("request {} for {}: {}", attempts + 1, part.string(), current);
    AttemptResult res = detail::perform(curl, attempt, options);
    if (progress.drawn) std::fputs("\n", stderr);
    ++attempts;

    if (res.outcome == Outcome::kDone) return;
    if (res.outcome == Outcome::kHtml) {
      const std::string next = drive_confirmation_url(res.html, res.effective_url);
      const auto next_parts = parse_url(next);
      if (next.empty() || confirm_hops >= kMaxConfirmHops || !next_parts ||
          !is_http_scheme(next_parts->scheme)) {
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
      if (res.discard) {
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
    // Bytes that trickle in between failures keep it going, but not for ever.
    if (attempts >= options.max_attempts) {
      throw Error(ErrorCode::kNetwork,
                  "download of " + what + " gave up after " + std::to_string(attempts) +
                      " requests, the connection failing again and again (last: " + res.message +
                      "); " + std::to_string(have) + " bytes are kept in '" + part.string() +
                      "': run again later to resume");
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

std::string download(const Source& source, const fs::path& dest, const DownloadOptions& options) {
  std::string expected = util::to_lower(options.expected_sha256);
  if (expected.empty()) expected = known_sha256(source);
  if (!expected.empty() && (expected.size() != 64 ||
                            expected.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    throw Error(ErrorCode::kConfig, "expected SHA-256 '" + expected + "' for '" + dest.string() +
                                        "' is not 64 hex digits");
  }
  if (!options.ca_file.empty() && !fs::is_regular_file(options.ca_file)) {
    throw Error(ErrorCode::kConfig, "CA file '" + options.ca_file +
                                        "' (CURL_CA_BUNDLE) does not exist: give a PEM file of "
                                        "CA certificates, or unset it to use the system's");
  }
  const std::string& mirror = options.mirror;
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
    throw Error(ErrorCode::kNetwork,
                "'" + part.string() + "' is being downloaded by another process; wait for it");
  }
  std::fseek(out.get(), 0, SEEK_END);

  Progress progress;
  progress.enabled = options.progress && util::progress_draws_bar();
  progress.log_lines = options.progress && !progress.enabled;
  progress.label = dest.filename().string();
  const auto started = std::chrono::steady_clock::now();
  spdlog::info("downloading {} to {}", url, dest.string());

  try {
    const detail::CurlHandle curl = detail::new_curl();
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
               util::format_bytes(static_cast<double>(file_size_or_zero(dest))), secs);
  if (expected.empty()) {
    spdlog::info("no known SHA-256 for '{}'; recorded {} in {}", checksum_key(source), have,
                 (dest.parent_path() / kLocalChecksumsFile).string());
    record_local_checksum(source, dest, have);
  }
  return have;
}

}  // namespace msinet::fetch
