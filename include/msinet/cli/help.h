#pragma once
// How msinet explains itself: the help layout, the placement of common options, "did you
// mean" for mistyped subcommands and options, and the bash completion script, all derived from
// the parser's own definition.

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "msinet/cli/common.h"
#include "msinet/config/config.h"

namespace msinet::cli {

/// Help lines as `--name TYPE  description [default: X]`: the type once, the default once.
class HelpFormatter : public CLI::Formatter {
 public:
  /// The value placeholder (validators' notes left out) and REQUIRED, never "=default".
  std::string make_option_opts(const CLI::Option* opt) const override;
  /// The description, with " [default: X]" when a default is known and not already written.
  std::string make_option_desc(const CLI::Option* opt) const override;
};

/// The value placeholder of a configuration key's flag: INT, FLOAT, HxW, a|b|c, URL, DIR,
/// FILE or TEXT.
std::string config_type_name(const config::KeySpec& key);

/// The arguments as the parser needs them: common options given before the subcommand are
/// moved after it. Throws Error(kUsage) for a missing or unknown subcommand and for a long
/// option the subcommand does not have, naming the nearest one.
std::vector<std::string> arrange_arguments(const CLI::App& root,
                                           const std::vector<std::string>& args);

/// The end of `msinet --help`: where the subcommands' options are, and which may come first.
std::string top_level_footer(const CLI::App& root);

/// A bash completion script for `root`: subcommands, their options, choices and dataset names.
std::string bash_completion(const CLI::App& root);

/// The hidden `msinet completion bash`, which prints bash_completion() of `root`.
Command register_completion(CLI::App& root);

}  // namespace msinet::cli
