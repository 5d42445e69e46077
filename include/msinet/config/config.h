#pragma once
// Resolved configuration: defaults < YAML file < environment (MSINET_<KEY>) < flags, with the
// source of every value remembered for --print-config.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace msinet::config {

/// Where a value came from, lowest precedence first.
enum class Source { kDefault, kFile, kEnvironment, kFlag };

/// "default", "file", "environment" or "flag".
std::string source_name(Source s);

/// One known key: its default, a one-line description, and the allowed values (empty = any).
struct KeySpec {
  std::string key;
  std::string default_value;
  std::string kind;  ///< "int>=0", "int>=1", "float>0", "string", "size", "choice"
  std::vector<std::string> choices;
  std::string help;
};

/// Every key msinet understands, in display order.
const std::vector<KeySpec>& known_keys();

/// A height x width pair; 0 x 0 means "the dataset's own size".
struct Size {
  int h = 0;
  int w = 0;
};

/// Parses "HxW" (e.g. "240x320"); throws Error(kUsage) naming `what` and the value otherwise.
Size parse_size(const std::string& text, const std::string& what);

/// The resolved configuration.
class Config {
 public:
  /// All keys at their defaults.
  Config();

  /// Sets `key` from `source`; unknown keys and bad values throw Error(kConfig) naming both
  /// (and `origin`, e.g. the YAML file).
  void set(const std::string& key, const std::string& value, Source source,
           const std::string& origin = "");

  /// Applies a YAML mapping (flat, or nested one level as section.key); throws Error(kConfig)
  /// naming the file for syntax errors, unknown keys and bad values.
  void load_yaml(const std::filesystem::path& path);

  /// Applies MSINET_<KEY> environment variables for every known key.
  void load_environment();

  const std::string& get(const std::string& key) const;
  int get_int(const std::string& key) const;
  double get_double(const std::string& key) const;
  Source source(const std::string& key) const;

  /// Download source overrides: `url.<source>` keys (YAML: a `urls:` mapping), by source key
  /// (e.g. "osie.archive", "mit1003.stimuli").
  std::map<std::string, std::string> urls() const;

  /// `key: value  # source` lines, in display order.
  std::string describe() const;

 private:
  struct Entry {
    std::string value;
    Source source = Source::kDefault;
    std::string origin;
  };
  std::map<std::string, Entry> values_;
};

}  // namespace msinet::config
