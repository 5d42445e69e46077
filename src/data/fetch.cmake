# msinet_fetch: sources listed here (see architecture.md).
# Downloads (libcurl, SHA-256 through OpenSSL's libcrypto), the checksum registry and zip
# extraction (libzip).
find_package(OpenSSL QUIET COMPONENTS Crypto)
msinet_require(OpenSSL_FOUND "OpenSSL (libcrypto, for SHA-256)" "libssl-dev")

# configs/checksums.yaml is compiled in; editing it reconfigures.
set(_msinet_checksums "${PROJECT_SOURCE_DIR}/configs/checksums.yaml")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_msinet_checksums}")
file(READ "${_msinet_checksums}" MSINET_CHECKSUMS_YAML)
file(CONFIGURE OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/checksums_registry.cpp"
     CONTENT "// Generated from configs/checksums.yaml; do not edit.
namespace msinet::data::detail {
extern const char* const kChecksumsYaml;
const char* const kChecksumsYaml = R\"msinet_registry(@MSINET_CHECKSUMS_YAML@)msinet_registry\";
}  // namespace msinet::data::detail
" @ONLY)

add_library(msinet_fetch STATIC
  archive.cpp
  checksums.cpp
  download.cpp
  ${CMAKE_CURRENT_BINARY_DIR}/checksums_registry.cpp
)
target_include_directories(msinet_fetch PUBLIC ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(msinet_fetch
  PUBLIC msinet_util
  PRIVATE CURL::libcurl PkgConfig::LIBZIP OpenSSL::Crypto yaml-cpp)
msinet_target_defaults(msinet_fetch)
