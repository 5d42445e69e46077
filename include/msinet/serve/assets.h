#pragma once
// The browser page of `msinet serve`, embedded in the binary at build time from src/serve/page/
// (cmake/embed_files.cmake).

#include <cstddef>
#include <string_view>

namespace msinet::serve {

/// One embedded file: the URL path it is served at, its content type and its bytes.
struct Asset {
  std::string_view path;          ///< "/", "/app.js", "/app.css"
  std::string_view content_type;  ///< e.g. "text/html; charset=utf-8"
  std::string_view bytes;         ///< the file as it was when the binary was built
};

/// The embedded file served at exactly `path`; nullptr for any other path (no file is read).
const Asset* find_asset(std::string_view path);

/// Every embedded file, defined by the generated source.
extern const Asset kAssets[];
/// How many kAssets there are.
extern const size_t kAssetCount;

}  // namespace msinet::serve
