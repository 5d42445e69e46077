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
  std::string kind;  ///< "int>=0", "int>=1", "float>0", "fraction" (in (0, 1]), "string",
                     ///< "size", "choice", "url", "optional-url"
  std::vector<std::string> choices;
  std::string help;
};

/// Every key msinet understands, in display order.
const std::vector<KeySpec>& known_keys();

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

  /// Applies MSINET_<KEY> environment variables for every known key; any other MSINET_*
  /// variable adds a warning naming the closest key.
  void load_environment();

  /// What resolving noticed but did not refuse (misspelt environment variables).
  const std::vector<std::string>& warnings() const { return warnings_; }

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
  std::vector<std::string> warnings_;
};

/// The known key nearest to `name` by edit distance.
std::string closest_key(const std::string& name);

}  // namespace msinet::config
