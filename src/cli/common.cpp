#include "msinet/cli/common.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "msinet/cli/help.h"
#include "msinet/data/image.h"
#include "msinet/util/error.h"
#include "msinet/util/logging.h"
#include "msinet/util/progress.h"

namespace msinet::cli {

namespace {
const config::KeySpec& spec(const std::string& key) {
  for (const auto& k : config::known_keys()) {
    if (k.key == key) return k;
  }
  throw Error(ErrorCode::kInternal, "no configuration key '" + key + "'");
}
}  // namespace

CLI::Option* add_config_flag(CLI::App& app, CommandState& state, const std::string& flag,
                             const std::string& key) {
  const config::KeySpec& k = spec(key);
  auto* target = &state.flags;
  return app
      .add_option_function<std::string>(
          flag, [target, key](const std::string& v) { (*target)[key] = v; },
          k.help + " (configuration key " + key + ")")
      ->type_name(config_type_name(k))
      ->default_str(k.default_value);
}

std::shared_ptr<CommandState> add_common_options(CLI::App& app) {
  auto state = std::make_shared<CommandState>();
  app.add_option("--config", state->config_file,
                 "YAML file with configuration keys (see configs/default.yaml)")
      ->type_name("FILE");
  app.add_flag("--print-config", state->print_config,
               "print the resolved configuration and where each value came from, then exit");
  app.add_flag("-v,--verbose", state->verbose, "more log output (debug)");
  app.add_flag("-q,--quiet", state->quiet, "only warnings and errors");
  add_config_flag(app, *state, "--device", "device");
  add_config_flag(app, *state, "--threads", "threads");
  add_config_flag(app, *state, "--data-dir", "data_dir");
  add_config_flag(app, *state, "--weights-dir", "weights_dir");
  add_config_flag(app, *state, "--results-dir", "results_dir");
  add_config_flag(app, *state, "--log-format", "log_format");
  return state;
}

config::Config resolve_config(const CommandState& state) {
  config::Config cfg;
  if (!state.config_file.empty()) cfg.load_yaml(state.config_file);
  cfg.load_environment();
  for (const auto& [key, value] : state.flags) cfg.set(key, value, config::Source::kFlag);
  configure_logging(state, cfg);
  for (const std::string& w : cfg.warnings()) spdlog::warn("{}", w);
  return cfg;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

fetch::DownloadOptions download_options(const config::Config& cfg) {
  fetch::DownloadOptions o;
  o.max_bytes = static_cast<uint64_t>(cfg.get_int("max_download_mb")) << 20;
  o.mirror = cfg.get("mirror");
  // The variable the curl tool reads; libcurl itself does not.
  if (const char* ca = std::getenv("CURL_CA_BUNDLE")) o.ca_file = ca;
  return o;
}

namespace {
spdlog::level::level_enum log_level(const CommandState& state) {
  return state.quiet         ? spdlog::level::warn
         : state.verbose > 0 ? spdlog::level::debug
                             : spdlog::level::info;
}
}  // namespace

void configure_logging(const CommandState& state) {
  util::setup_logging(util::log_format(), log_level(state));
}

void configure_logging(const CommandState& state, const config::Config& cfg) {
  util::setup_logging(util::parse_log_format(cfg.get("log_format")), log_level(state));
  util::set_progress_interval(cfg.get_int("progress_interval"));
}

namespace {
std::vector<std::string>& arguments_store() {
  static std::vector<std::string> args;
  return args;
}
}  // namespace

const std::vector<std::string>& command_arguments() { return arguments_store(); }

int run_cli(int argc, char** argv) {
  arguments_store().assign(argv + std::min(argc, 1), argv + argc);
  CLI::App app{
      "msinet: MSI-Net saliency prediction: train it, run it on images, videos and "
      "cameras, score, calibrate, export and serve it",
      "msinet"};
  app.formatter(std::make_shared<HelpFormatter>());
  app.require_subcommand(1);
  app.set_version_flag("--version", "msinet " MSINET_VERSION);
  std::vector<Command> commands = {
      register_test(app),      register_train(app), register_download(app), register_import(app),
      register_export(app),    register_eval(app),  register_bench(app),    register_serve(app),
      register_calibrate(app), register_submit(app)};
  commands.push_back(register_models(app));
  commands.push_back(register_completion(app));
  app.footer(top_level_footer(app));
  std::vector<std::string> arranged = arrange_arguments(app, command_arguments());
  std::string program = "msinet";
  std::vector<char*> parse_argv{program.data()};
  for (std::string& a : arranged) parse_argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(parse_argv.size()), parse_argv.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return static_cast<int>(ErrorCode::kUsage);
  }
  for (auto& cmd : commands) {
    if (!cmd.app->parsed()) continue;
    configure_logging(*cmd.state);
    const config::Config cfg = resolve_config(*cmd.state);
    if (cmd.state->print_config) {
      std::cout << cfg.describe();
      return 0;
    }
    data::set_max_image_pixels(int64_t{cfg.get_int("max_image_megapixels")} * 1'000'000);
    return cmd.run(cfg);
  }
  return static_cast<int>(ErrorCode::kUsage);
}

}  // namespace msinet::cli
