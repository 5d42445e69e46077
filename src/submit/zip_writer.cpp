#include "msinet/submit/zip_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zip.h>

#include <memory>
#include <system_error>

#include "msinet/util/error.h"
#include "msinet/util/fs.h"

namespace msinet::submit {

namespace {

struct ZipDiscard {
  void operator()(zip_t* z) const { zip_discard(z); }
};

/// Removes a file at destruction unless released.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(fs::path path) : path_(std::move(path)) {}
  ~RemoveOnExit() {
    std::error_code ec;
    if (!path_.empty()) fs::remove(path_, ec);
  }
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;
  /// Keeps the file.
  void release() { path_.clear(); }

 private:
  fs::path path_;
};

}  // namespace

uint64_t write_zip_atomic(const fs::path& out, const std::vector<ZipEntry>& entries) {
  std::error_code ec;
  if (!out.parent_path().empty()) fs::create_directories(out.parent_path(), ec);
  const fs::path tmp = util::temp_path_beside(out);
  RemoveOnExit cleanup(tmp);
  auto fail = [&out](const std::string& why) -> Error {
    return Error(ErrorCode::kIo, "cannot write '" + out.string() + "': " + why);
  };
  int code = 0;
  std::unique_ptr<zip_t, ZipDiscard> za(zip_open(tmp.c_str(), ZIP_CREATE | ZIP_EXCL, &code));
  if (!za) {
    zip_error_t err;
    zip_error_init_with_code(&err, code);
    const std::string why = zip_error_strerror(&err);
    zip_error_fini(&err);
    throw fail(why);
  }
  for (const ZipEntry& e : entries) {
    // Length -1: to the end of the file.
    zip_source_t* src = zip_source_file(za.get(), e.source.c_str(), 0, -1);
    if (src == nullptr) {
      throw fail("cannot read '" + e.source.string() +
                 "': " + zip_error_strerror(zip_get_error(za.get())));
    }
    const zip_int64_t index = zip_file_add(za.get(), e.name.c_str(), src, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(src);
      throw fail("cannot add '" + e.name + "': " + zip_error_strerror(zip_get_error(za.get())));
    }
    const zip_uint64_t i = static_cast<zip_uint64_t>(index);
    // Deflate level 1: float arrays shrink about as much as at the default level, in far less
    // time.
    if (zip_set_file_compression(za.get(), i, e.compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE,
                                 /*comp_flags=*/e.compress ? 1 : 0) != 0) {
      throw fail("cannot set the compression of '" + e.name +
                 "': " + zip_error_strerror(zip_get_error(za.get())));
    }
  }
  // zip_close reads every source and writes the archive; on failure the handle stays open.
  if (zip_close(za.get()) != 0) throw fail(zip_error_strerror(zip_get_error(za.get())));
  za.release();
  const uint64_t bytes = fs::file_size(tmp, ec);
  if (ec) throw fail(ec.message());
  // On disk before the rename, as util::write_file_atomic does.
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    throw fail("cannot flush the archive to disk");
  }
  ::close(fd);
  util::rename_replace(tmp, out);
  cleanup.release();
  return bytes;
}

}  // namespace msinet::submit
