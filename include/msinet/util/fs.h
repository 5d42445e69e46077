#pragma once
// File-system helpers: atomic writes and recursive image listing.

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace msinet::util {

namespace fs = std::filesystem;

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, fsync, rename.
/// Creates missing parent folders. Throws Error(kIo) naming the path on failure.
void write_file_atomic(const fs::path& path, std::string_view bytes);

/// Reads a whole file. Throws Error(kInput) naming the path when it cannot be read.
std::string read_file(const fs::path& path);

/// A temporary path beside `path` (same folder, unique name, ".tmp" suffix) for atomic writes.
fs::path temp_path_beside(const fs::path& path);

/// Removes the temporaries that processes no longer running left under `dir` (recursively, not
/// following links): files named as temp_path_beside names them, ".NAME.PID.N.tmp", whose PID is
/// not a live process (a kill -9 in the middle of a write). Returns what it removed; a missing
/// `dir` is no error.
std::vector<fs::path> remove_stale_temporaries(const fs::path& dir);

/// Renames `from` over `to` (same file system); throws Error(kIo) naming both on failure.
void rename_replace(const fs::path& from, const fs::path& to);

/// True for .png/.jpg/.jpeg, case-insensitive.
bool has_image_extension(const fs::path& path);

/// What list_images left out.
struct ListingSkips {
  std::vector<fs::path> repeated;  ///< folders reached again through a link (cycles, aliases)
  std::vector<fs::path> excluded;  ///< the excluded folder, where it lay under the root
};

/// Image files under `root` (recursive, following folder links), sorted by full path in byte
/// order; `root` may also be one image file. Each real folder (device and inode) is visited once,
/// so a link cycle ends; the folder `exclude` (e.g. the output folder of a job), when given, is
/// not entered. What was left out goes to `skips` when given. Throws Error(kInput) when `root`
/// does not exist.
std::vector<fs::path> list_images(const fs::path& root, const fs::path& exclude = {},
                                  ListingSkips* skips = nullptr);

/// True for the video files `test` reads: .mp4, .avi, .mov, .mkv, .webm, .m4v, case-insensitive.
bool has_video_extension(const fs::path& path);

/// list_images() for the files `take` accepts (e.g. images and videos), leaving out every folder
/// of `excludes`.
std::vector<fs::path> list_files(const fs::path& root,
                                 const std::function<bool(const fs::path&)>& take,
                                 const std::vector<fs::path>& excludes,
                                 ListingSkips* skips = nullptr);

/// A scratch folder at temp_path_beside(`beside`), created at once (Error(kIo) naming it when it
/// cannot be) and removed with its contents at destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const fs::path& beside);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  /// The folder.
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// Lower-cases ASCII.
std::string to_lower(std::string s);

}  // namespace msinet::util
