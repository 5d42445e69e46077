#include "msinet/fetch/checksums.h"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <sstream>
#include <system_error>

#include "msinet/util/error.h"
#include "msinet/util/fs.h"

namespace msinet::fetch {

namespace detail {
extern const char* const kChecksumsYaml;  // generated from configs/checksums.yaml
}  // namespace detail

namespace {

bool is_sha256_hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string yaml_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The key of a one-line "key: value" entry, or empty for comments and blank lines.
std::string line_key(const std::string& line) {
  try {
    const YAML::Node node = YAML::Load(line);
    if (node.IsMap() && node.size() == 1) return node.begin()->first.as<std::string>();
  } catch (const YAML::Exception&) {
  }
  return {};
}

}  // namespace

std::string checksum_key(const Source& source) {
  const std::string id = gdrive_id_of(source);
  return id.empty() ? source.url : id;
}

ChecksumMap parse_checksums(const std::string& yaml_text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw Error(ErrorCode::kConfig, "cannot parse checksum registry '" + origin + "': " + e.what());
  }
  ChecksumMap out;
  if (!root || root.IsNull()) return out;
  if (!root.IsMap()) {
    throw Error(ErrorCode::kConfig, "checksum registry '" + origin +
                                        "' must be a map of source URL or Google Drive id to "
                                        "SHA-256");
  }
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>("");
    const std::string value = kv.second.IsScalar() ? kv.second.as<std::string>("") : "";
    if (key.empty() || !is_sha256_hex(value)) {
      throw Error(ErrorCode::kConfig, "checksum registry '" + origin + "': the value of '" + key +
                                          "' is not a SHA-256 (64 lower-case hex digits)");
    }
    out[key] = value;
  }
  return out;
}

const ChecksumMap& builtin_checksums() {
  static const ChecksumMap registry =
      parse_checksums(detail::kChecksumsYaml, "configs/checksums.yaml");
  return registry;
}

std::string known_sha256(const Source& source) {
  const auto& registry = builtin_checksums();
  const auto it = registry.find(checksum_key(source));
  return it == registry.end() ? std::string() : it->second;
}

ChecksumMap read_local_checksums(const std::filesystem::path& record_file) {
  std::error_code ec;
  if (!std::filesystem::exists(record_file, ec)) return {};
  return parse_checksums(util::read_file(record_file), record_file.string());
}

std::string member_checksum_key(const Source& archive, const std::string& member) {
  return checksum_key(archive) + "/" + member;
}

std::string recorded_sha256(const std::string& key, const std::filesystem::path& file) {
  const auto& registry = builtin_checksums();
  const auto it = registry.find(key);
  if (it != registry.end()) return it->second;
  const ChecksumMap local = read_local_checksums(file.parent_path() / kLocalChecksumsFile);
  const auto found = local.find(key);
  return found == local.end() ? std::string() : found->second;
}

void record_local_checksum(const Source& source, const std::filesystem::path& file,
                           const std::string& sha256) {
  record_local_checksum(checksum_key(source), file, sha256);
}

void record_local_checksum(const std::string& key, const std::filesystem::path& file,
                           const std::string& sha256) {
  const auto record = file.parent_path() / kLocalChecksumsFile;
  std::string old_text;
  std::error_code ec;
  if (std::filesystem::exists(record, ec)) {
    old_text = util::read_file(record);
    try {
      const ChecksumMap old = parse_checksums(old_text, record.string());
      const auto it = old.find(key);
      if (it != old.end() && it->second == sha256) return;
      if (it != old.end()) {
        spdlog::warn("'{}' changed since it was first downloaded: SHA-256 {} (recorded {} in {})",
                     key, sha256, it->second, record.string());
      }
    } catch (const Error& e) {
      spdlog::warn("{}; rewriting it", e.what());
      old_text.clear();
    }
  }
  std::ostringstream out;
  if (old_text.empty()) {
    out << "# SHA-256 of downloads missing from configs/checksums.yaml (same format): copy a line\n"
           "# there once the file is trusted.\n";
  }
  std::istringstream lines(old_text);
  for (std::string line; std::getline(lines, line);) {
    if (line_key(line) != key) out << line << '\n';
  }
  out << yaml_quote(key) << ": " << sha256 << "  # " << file.filename().string() << '\n';
  util::write_file_atomic(record, out.str());
}

}  // namespace msinet::fetch
