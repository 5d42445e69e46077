#include "msinet/fetch/archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

#include "msinet/util/error.h"

namespace msinet::fetch {

namespace fs = std::filesystem;

namespace {

struct ZipDiscard {
  void operator()(zip_t* z) const { zip_discard(z); }
};

struct Planned {
  zip_uint64_t index;
  std::string name;  // inside the archive, '/'-separated
  std::string rel;   // destination relative to dest_dir
  std::optional<zip_uint64_t> size;
};

[[noreturn]] void refuse(const fs::path& archive, const std::string& entry, const std::string& why,
                         bool before_writing = true) {
  throw Error(ErrorCode::kData, "archive '" + archive.string() + "': refusing entry '" + entry +
                                    "' (" + why + ")" +
                                    (before_writing ? "; nothing was extracted" : "") +
                                    ". The archive is unsafe or damaged: delete it and download "
                                    "it again");
}

// Entry names use '/'; backslashes (written by some Windows tools) are read as separators so
// that "..\x" cannot slip through.
std::string normalise(const std::string& name) {
  std::string s = name;
  for (char& c : s) {
    if (c == '\\') c = '/';
  }
  return s;
}

// The safe relative form of `path` ("." and empty components dropped), or empty with the reason
// it is unsafe in `why`.
std::string safe_relative(const std::string& path, std::string& why) {
  why.clear();
  if (path.empty()) {
    why = "empty name";
    return {};
  }
  if (path[0] == '/') {
    why = "absolute path";
    return {};
  }
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) {
      why = "control character in the name";
      return {};
    }
  }
  std::string out;
  size_t pos = 0;
  bool first = true;
  while (pos <= path.size()) {
    const size_t slash = std::min(path.find('/', pos), path.size());
    const std::string part = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      why = "a '..' component leaves the target folder";
      return {};
    }
    if (first && part.size() == 2 && part[1] == ':') {
      why = "a drive letter makes it absolute";
      return {};
    }
    first = false;
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

bool is_directory_entry(const std::string& name) { return !name.empty() && name.back() == '/'; }

std::string zip_message(zip_t* z) { return zip_error_strerror(zip_get_error(z)); }

void write_all(int fd, const char* p, size_t n, const fs::path& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      throw Error(ErrorCode::kIo, "cannot write '" + path.string() + "': " + std::strerror(errno) +
                                      " (is the disk full?)");
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

bool inside(const fs::path& path, const fs::path& root) {
  auto r = root.begin();
  auto p = path.begin();
  for (; r != root.end(); ++r, ++p) {
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

}  // namespace

uint64_t extract_zip(const fs::path& zip_path, const fs::path& dest_dir, const EntryMapper& map,
                     const ExtractLimits& limits) {
  int code = 0;
  std::unique_ptr<zip_t, ZipDiscard> za(
      zip_open(zip_path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
  if (!za) {
    zip_error_t err;
    zip_error_init_with_code(&err, code);
    const std::string why = zip_error_strerror(&err);
    zip_error_fini(&err);
    const ErrorCode ec = code == ZIP_ER_NOENT || code == ZIP_ER_OPEN || code == ZIP_ER_READ
                             ? ErrorCode::kInput
                             : ErrorCode::kData;
    throw Error(ec, "cannot open archive '" + zip_path.string() + "': " + why +
                        (ec == ErrorCode::kData
                             ? "; the archive is corrupt or truncated: delete it and download "
                               "it again"
                             : ""));
  }
  const zip_int64_t count = zip_get_num_entries(za.get(), 0);
  if (count < 0) {
    throw Error(ErrorCode::kData,
                "archive '" + zip_path.string() + "' is corrupt: " + zip_message(za.get()));
  }
  if (static_cast<uint64_t>(count) > limits.max_entries) {
    throw Error(ErrorCode::kData, "archive '" + zip_path.string() + "' has " +
                                      std::to_string(count) + " entries, over the limit of " +
                                      std::to_string(limits.max_entries));
  }

  // Check every entry before writing anything.
  std::vector<Planned> plan;
  uint64_t declared_total = 0;
  for (zip_uint64_t i = 0; i < static_cast<zip_uint64_t>(count); ++i) {
    const char* raw = zip_get_name(za.get(), i, 0);
    if (raw == nullptr) {
      throw Error(ErrorCode::kData, "archive '" + zip_path.string() + "' is corrupt: entry " +
                                        std::to_string(i) + ": " + zip_message(za.get()));
    }
    const std::string name = normalise(raw);
    std::string why;
    const std::string rel_name = safe_relative(name, why);
    if (!why.empty()) refuse(zip_path, raw, why);
    zip_uint8_t opsys = 0;
    zip_uint32_t attributes = 0;
    zip_file_get_external_attributes(za.get(), i, 0, &opsys, &attributes);
    const mode_t mode = opsys == ZIP_OPSYS_UNIX ? static_cast<mode_t>(attributes >> 16) : 0;
    // Every link is refused, even one the mapper would skip: it says the archive is not what
    // it should be, and files named through it could be meant to land where it points.
    if (S_ISLNK(mode)) refuse(zip_path, raw, "a symbolic link");
    if (is_directory_entry(name) || S_ISDIR(mode)) continue;
    const std::string mapped = map ? map(rel_name) : rel_name;
    if (mapped.empty()) continue;
    const std::string rel = safe_relative(normalise(mapped), why);
    if (!why.empty() || rel.empty()) {
      refuse(zip_path, raw,
             "its destination '" + mapped + "' is unsafe: " + (why.empty() ? "empty path" : why));
    }
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za.get(), i, 0, &st) != 0) {
      throw Error(ErrorCode::kData, "archive '" + zip_path.string() + "' is corrupt: entry '" +
                                        raw + "': " + zip_message(za.get()));
    }
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
      refuse(zip_path, raw, "encrypted");
    }
    Planned p{i, raw, rel, std::nullopt};
    if (st.valid & ZIP_STAT_SIZE) {
      p.size = st.size;
      declared_total += st.size;
      if (declared_total > limits.max_total_bytes) {
        throw Error(ErrorCode::kData, "archive '" + zip_path.string() + "' unpacks to more than " +
                                          std::to_string(limits.max_total_bytes) +
                                          " bytes, over the limit (raise the unpacked size cap)");
      }
    }
    plan.push_back(std::move(p));
  }

  std::error_code ec;
  fs::create_directories(dest_dir, ec);
  if (ec) {
    throw Error(ErrorCode::kIo,
                "cannot create folder '" + dest_dir.string() + "': " + ec.message());
  }
  const fs::path root = fs::canonical(dest_dir, ec);
  if (ec) {
    throw Error(ErrorCode::kIo,
                "cannot resolve folder '" + dest_dir.string() + "': " + ec.message());
  }

  std::vector<char> buf(1 << 18);
  uint64_t total = 0;
  uint64_t files = 0;
  for (const auto& p : plan) {
    const fs::path target = root / fs::path(p.rel);
    fs::create_directories(target.parent_path(), ec);
    if (ec) {
      throw Error(ErrorCode::kIo,
                  "cannot create folder '" + target.parent_path().string() + "': " + ec.message());
    }
    // A link already inside dest_dir must not carry the file elsewhere.
    const fs::path parent = fs::canonical(target.parent_path(), ec);
    if (ec || !inside(parent, root)) {
      refuse(zip_path, p.name, "its folder resolves outside '" + root.string() + "'",
             /*before_writing=*/false);
    }
    int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw Error(ErrorCode::kIo,
                  "cannot write '" + target.string() + "': " + std::strerror(errno));
    }
    zip_file_t* zf = nullptr;
    try {
      zf = zip_fopen_index(za.get(), p.index, 0);
      if (zf == nullptr) {
        throw Error(ErrorCode::kData, "archive '" + zip_path.string() + "': cannot read entry '" +
                                          p.name + "': " + zip_message(za.get()) +
                                          "; delete the archive and download it again");
      }
      uint64_t written = 0;
      for (;;) {
        const zip_int64_t n = zip_fread(zf, buf.data(), buf.size());
        if (n < 0) {
          throw Error(ErrorCode::kData, "archive '" + zip_path.string() + "': entry '" + p.name +
                                            "' is corrupt (" +
                                            zip_error_strerror(zip_file_get_error(zf)) +
                                            "); delete the archive and download it again");
        }
        if (n == 0) break;
        written += static_cast<uint64_t>(n);
        total += static_cast<uint64_t>(n);
        if (p.size && written > *p.size) {
          throw Error(ErrorCode::kData, "archive '" + zip_path.string() + "': entry '" + p.name +
                                            "' unpacks to more than the " +
                                            std::to_string(*p.size) +
                                            " bytes it declares; the archive is corrupt or "
                                            "malicious");
        }
        if (total > limits.max_total_bytes) {
          throw Error(ErrorCode::kData, "archive '" + zip_path.string() +
                                            "' unpacks to more than " +
                                            std::to_string(limits.max_total_bytes) +
                                            " bytes, over the limit (raise the unpacked size cap)");
        }
        write_all(fd, buf.data(), static_cast<size_t>(n), target);
      }
      const int close_err = zip_fclose(zf);
      zf = nullptr;
      if (close_err != 0) {
        zip_error_t err;
        zip_error_init_with_code(&err, close_err);
        const std::string why = zip_error_strerror(&err);
        zip_error_fini(&err);
        throw Error(ErrorCode::kData, "archive '" + zip_path.string() + "': entry '" + p.name +
                                          "' is corrupt (" + why +
                                          "); delete the archive and download it again");
      }
      if (p.size && written != *p.size) {
        throw Error(ErrorCode::kData, "archive '" + zip_path.string() + "': entry '" + p.name +
                                          "' is truncated (" + std::to_string(written) + " of " +
                                          std::to_string(*p.size) + " bytes)");
      }
      const int closed = ::close(fd);
      fd = -1;
      if (closed != 0) {
        throw Error(ErrorCode::kIo,
                    "cannot write '" + target.string() + "': " + std::strerror(errno));
      }
    } catch (...) {
      if (zf != nullptr) zip_fclose(zf);
      if (fd >= 0) ::close(fd);
      fs::remove(target, ec);
      throw;
    }
    ++files;
  }
  return files;
}

}  // namespace msinet::fetch
