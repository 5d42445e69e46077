#pragma once
// The SHA-256 registry of known downloads (configs/checksums.yaml, compiled in) and the local
// record of downloads whose checksum is not known yet (checksums.local.yaml beside the file).

#include <filesystem>
#include <map>
#include <string>

#include "msinet/fetch/download.h"

namespace msinet::fetch {

/// Key -> lower-case hex SHA-256.
using ChecksumMap = std::map<std::string, std::string>;

/// File name of the local record written beside downloads whose checksum is unknown.
inline constexpr const char* kLocalChecksumsFile = "checksums.local.yaml";

/// The registry key of a source: its Google Drive id, or else its URL.
std::string checksum_key(const Source& source);

/// Parses registry text (a YAML map, key -> 64 hex digits). Throws Error(kConfig) naming
/// `origin` and the offending key on malformed text or a value that is not a SHA-256.
ChecksumMap parse_checksums(const std::string& yaml_text, const std::string& origin);

/// The registry shipped in configs/checksums.yaml (compiled into the library).
const ChecksumMap& builtin_checksums();

/// The known SHA-256 of `source` in the built-in registry; empty when unknown.
std::string known_sha256(const Source& source);

/// Records `sha256` of `file`, downloaded from `source`, in `<folder of file>/checksums.local.yaml`
/// (rewritten atomically, registry format). Warns when the key was recorded with another value.
void record_local_checksum(const Source& source, const std::filesystem::path& file,
                           const std::string& sha256);

/// Records `sha256` of `file` under registry key `key` (as above, for keys of any kind).
void record_local_checksum(const std::string& key, const std::filesystem::path& file,
                           const std::string& sha256);

/// The key of a file taken out of a downloaded archive: "<key of the archive>/<member>".
std::string member_checksum_key(const Source& archive, const std::string& member);

/// The SHA-256 known for `key`: the built-in registry's, else the one recorded in the
/// checksums.local.yaml beside `file`; empty when neither knows it.
std::string recorded_sha256(const std::string& key, const std::filesystem::path& file);

/// Reads a local record file; empty when it does not exist. Throws Error(kConfig) when malformed.
ChecksumMap read_local_checksums(const std::filesystem::path& record_file);

}  // namespace msinet::fetch
