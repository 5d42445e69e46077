#include "msinet/util/fs.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "msinet/util/error.h"

namespace msinet::util {

namespace {
std::string errno_text() { return std::strerror(errno); }
}  // namespace

fs::path temp_path_beside(const fs::path& path) {
  static std::atomic<unsigned> counter{0};
  const auto name = "." + path.filename().string() + "." + std::to_string(::getpid()) + "." +
                    std::to_string(counter++) + ".tmp";
  return path.parent_path() / name;
}

std::vector<fs::path> remove_stale_temporaries(const fs::path& dir) {
  static const std::regex kTemporary(R"(\..+\.([0-9]+)\.[0-9]+\.tmp)");
  std::vector<fs::path> removed;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return removed;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::smatch m;
    const std::string name = it->path().filename().string();
    if (!std::regex_match(name, m, kTemporary)) continue;
    const long pid = std::stol(m[1].str());
    const bool alive = pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
    if (alive) continue;
    std::error_code rm;
    if (it->is_directory(rm)) it.disable_recursion_pending();
    if (fs::remove_all(it->path(), rm) > 0 && !rm) removed.push_back(it->path());
  }
  return removed;
}

ScratchDir::ScratchDir(const fs::path& beside) : path_(temp_path_beside(beside)) {
  std::error_code ec;
  fs::create_directories(path_, ec);
  if (ec) {
    throw Error(ErrorCode::kIo, "cannot create folder '" + path_.string() + "': " + ec.message());
  }
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void rename_replace(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) {
    throw Error(ErrorCode::kIo,
                "cannot move '" + from.string() + "' to '" + to.string() + "': " + ec.message());
  }
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  std::error_code ec;
  if (!path.parent_path().empty()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      throw Error(ErrorCode::kIo,
                  "cannot create folder '" + path.parent_path().string() + "': " + ec.message());
    }
  }
  const fs::path tmp = temp_path_beside(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error(ErrorCode::kIo, "cannot write '" + path.string() + "': " + errno_text());
  }
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = errno_text();
      ::close(fd);
      fs::remove(tmp, ec);
      throw Error(ErrorCode::kIo,
                  "cannot write '" + path.string() + "': " + why + " (is the disk full?)");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = errno_text();
    fs::remove(tmp, ec);
    throw Error(ErrorCode::kIo, "cannot write '" + path.string() + "': " + why);
  }
  try {
    rename_replace(tmp, path);
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(ErrorCode::kInput,
                "cannot read '" + path.string() + "': no such file or no permission");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(ErrorCode::kInput, "cannot read '" + path.string() + "'");
  return ss.str();
}

std::string to_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool has_image_extension(const fs::path& path) {
  const std::string ext = to_lower(path.extension().string());
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

bool has_video_extension(const fs::path& path) {
  const std::string ext = to_lower(path.extension().string());
  return ext == ".mp4" || ext == ".avi" || ext == ".mov" || ext == ".mkv" || ext == ".webm" ||
         ext == ".m4v";
}

std::vector<fs::path> list_images(const fs::path& root, const fs::path& exclude,
                                  ListingSkips* skips) {
  std::vector<fs::path> excludes;
  if (!exclude.empty()) excludes.push_back(exclude);
  return list_files(root, has_image_extension, excludes, skips);
}

std::vector<fs::path> list_files(const fs::path& root,
                                 const std::function<bool(const fs::path&)>& take,
                                 const std::vector<fs::path>& excludes, ListingSkips* skips) {
  std::error_code ec;
  if (!fs::exists(root, ec)) {
    throw Error(ErrorCode::kInput,
                "'" + root.string() + "' does not exist: give an image file or a folder of images");
  }
  std::vector<fs::path> out;
  if (fs::is_regular_file(root, ec)) {
    out.push_back(root);
    return out;
  }
  if (!fs::is_directory(root, ec)) {
    throw Error(ErrorCode::kInput, "'" + root.string() +
                                       "' is not an image or a folder (a device, FIFO or "
                                       "socket): give an image file or a folder of images");
  }
  // A folder is known by its device and inode, whatever path reached it.
  auto identity = [](const fs::path& dir) -> std::optional<std::pair<dev_t, ino_t>> {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return std::nullopt;
    return std::make_pair(st.st_dev, st.st_ino);
  };
  std::set<std::pair<dev_t, ino_t>> excluded;
  for (const fs::path& e : excludes) {
    if (const auto id = identity(e)) excluded.insert(*id);
  }
  std::set<std::pair<dev_t, ino_t>> visited;
  if (const auto id = identity(root)) visited.insert(*id);
  ListingSkips local;
  ListingSkips& skipped = skips ? *skips : local;
  for (fs::recursive_directory_iterator
           it(root, fs::directory_options::follow_directory_symlink, ec),
       end;
       it != end; it.increment(ec)) {
    if (ec) break;
    if (it->is_directory(ec)) {
      const auto id = identity(it->path());
      if (id && excluded.count(*id) > 0) {
        skipped.excluded.push_back(it->path());
        it.disable_recursion_pending();
      } else if (id && !visited.insert(*id).second) {
        skipped.repeated.push_back(it->path());
        it.disable_recursion_pending();
      }
      continue;
    }
    if (it->is_regular_file(ec) && take(it->path())) out.push_back(it->path());
  }
  if (ec) throw Error(ErrorCode::kInput, "cannot list '" + root.string() + "': " + ec.message());
  std::sort(out.begin(), out.end(),
            [](const fs::path& a, const fs::path& b) { return a.native() < b.native(); });
  return out;
}

}  // namespace msinet::util
