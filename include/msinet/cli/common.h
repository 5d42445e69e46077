#pragma once
// What every subcommand shares: configuration flags, logging flags, and how a parsed
// subcommand turns into a resolved configuration.

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "msinet/config/config.h"
#include "msinet/fetch/download.h"

namespace msinet::cli {

/// Flags of one subcommand that map to configuration keys, plus the common ones.
struct CommandState {
  std::string config_file;
  bool print_config = false;
  int verbose = 0;
  bool quiet = false;
  std::map<std::string, std::string> flags;  ///< key -> value given on the command line
};

/// A registered subcommand: its parser and what it does with the resolved configuration.
struct Command {
  CLI::App* app = nullptr;
  std::shared_ptr<CommandState> state;
  std::function<int(const config::Config&)> run;
};

/// Adds --config, --print-config, -v, -q, --device, --threads, the folder options and
/// --log-format.
std::shared_ptr<CommandState> add_common_options(CLI::App& app);

/// Adds `--name VALUE` that sets configuration `key` when given; the help shows the default.
CLI::Option* add_config_flag(CLI::App& app, CommandState& state, const std::string& flag,
                             const std::string& key);

/// defaults < --config file < MSINET_* environment < flags.
config::Config resolve_config(const CommandState& state);

/// The non-empty items of a comma-separated list ("a,b" -> {"a", "b"}).
std::vector<std::string> split_list(const std::string& text);

/// Download settings from the configuration: the mirror and the size cap.
fetch::DownloadOptions download_options(const config::Config& cfg);

/// Sets spdlog's level from -v / -q (text lines until the configuration is resolved).
void configure_logging(const CommandState& state);

/// Sets the log format (log_format), the level from -v / -q and the progress_interval.
void configure_logging(const CommandState& state, const config::Config& cfg);

Command register_test(CLI::App& root);
Command register_train(CLI::App& root);
Command register_download(CLI::App& root);
Command register_import(CLI::App& root);
Command register_export(CLI::App& root);
Command register_eval(CLI::App& root);
Command register_bench(CLI::App& root);
Command register_serve(CLI::App& root);
Command register_calibrate(CLI::App& root);
Command register_submit(CLI::App& root);
Command register_models(CLI::App& root);

/// Parses argv, runs the chosen subcommand, maps errors to exit codes (README "Exit codes").
int run_cli(int argc, char** argv);

/// The arguments run_cli was given, after the program name.
const std::vector<std::string>& command_arguments();

}  // namespace msinet::cli
