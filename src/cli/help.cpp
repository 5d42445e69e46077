#include "msinet/cli/help.h"

#include <algorithm>
#include <iostream>
#include <sstream>

#include "msinet/data/dataset.h"
#include "msinet/util/error.h"
#include "msinet/util/text.h"

namespace msinet::cli {

namespace {

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

// The placeholder alone: CLI11 appends each validator's note after a ':'.
std::string bare_type_name(const CLI::Option* opt) {
  const std::string full = opt->get_type_name();
  return full.substr(0, full.find(':'));
}

bool takes_value(const CLI::Option* opt) { return opt->get_expected_max() != 0; }

// Subcommands a user may type (the hidden ones left out).
std::vector<const CLI::App*> visible_subcommands(const CLI::App& root) {
  std::vector<const CLI::App*> out;
  for (const CLI::App* sub : root.get_subcommands({})) {
    if (!sub->get_group().empty()) out.push_back(sub);
  }
  return out;
}

std::vector<std::string> names_of(const std::vector<const CLI::App*>& subs) {
  std::vector<std::string> names;
  for (const CLI::App* sub : subs) names.push_back(sub->get_name());
  return names;
}

// Every spelling of the options of `app` ("--epochs", "-d", ...), help included.
std::vector<std::string> option_spellings(const CLI::App& app, bool long_only) {
  std::vector<std::string> out;
  for (const CLI::Option* opt : app.get_options()) {
    for (const std::string& l : opt->get_lnames()) out.push_back("--" + l);
    if (long_only) continue;
    for (const std::string& s : opt->get_snames()) out.push_back("-" + s);
  }
  return out;
}

// Options every subcommand with the common options (add_common_options, known by
// --print-config) has, so they may come before the subcommand.
const CLI::Option* common_option(const std::vector<const CLI::App*>& subs,
                                 const std::string& name) {
  const CLI::Option* found = nullptr;
  for (const CLI::App* sub : subs) {
    if (sub->get_option_no_throw("--print-config") == nullptr) continue;
    const CLI::Option* opt = sub->get_option_no_throw(name);
    if (opt == nullptr || opt == sub->get_help_ptr()) return nullptr;
    found = opt;
  }
  return found;
}

std::string common_names(const std::vector<const CLI::App*>& subs) {
  std::vector<std::string> names;
  if (subs.empty()) return {};
  for (const CLI::Option* opt : subs.front()->get_options()) {
    if (opt->get_lnames().empty()) continue;
    if (common_option(subs, "--" + opt->get_lnames().front()) != nullptr) {
      names.push_back(opt->get_name(/*positional=*/false, /*all_options=*/true));
    }
  }
  return join(names, ", ");
}

std::string subcommand_list(const std::vector<const CLI::App*>& subs) {
  return join(names_of(subs), ", ");
}

// Up to a third of the name may be mistyped, and always two characters.
size_t suggestion_distance(const std::string& name) { return std::max<size_t>(2, name.size() / 3); }

}  // namespace

std::string HelpFormatter::make_option_opts(const CLI::Option* opt) const {
  std::string out;
  if (takes_value(opt)) {
    const std::string type = bare_type_name(opt);
    if (!type.empty()) out += " " + type;
    if (opt->get_expected_max() == CLI::detail::expected_max_vector_size) out += " ...";
    if (opt->get_required()) out += " REQUIRED";
  }
  return out;
}

std::string HelpFormatter::make_option_desc(const CLI::Option* opt) const {
  std::string desc = opt->get_description();
  const std::string def = opt->get_default_str();
  if (takes_value(opt) && !def.empty() && desc.find("[default:") == std::string::npos) {
    desc += " [default: " + def + "]";
  }
  return desc;
}

std::string config_type_name(const config::KeySpec& key) {
  if (starts_with(key.kind, "int")) return "INT";
  if (starts_with(key.kind, "float") || key.kind == "fraction") return "FLOAT";
  if (key.kind == "choice") return join(key.choices, "|");
  if (key.kind == "size") return "HxW";
  if (key.kind == "url" || key.kind == "optional-url") return "URL";
  if (key.key.size() > 4 && key.key.compare(key.key.size() - 4, 4, "_dir") == 0) return "DIR";
  if (key.key == "init") return "auto|random|vgg16|salicon|FILE";
  if (key.key == "calibration") return "FILE";
  return "TEXT";
}

std::vector<std::string> arrange_arguments(const CLI::App& root,
                                           const std::vector<std::string>& args) {
  const std::vector<const CLI::App*> subs = visible_subcommands(root);
  std::vector<std::string> leading;
  size_t i = 0;
  for (; i < args.size() && starts_with(args[i], "-") && args[i] != "-"; ++i) {
    const std::string& arg = args[i];
    const std::string name = arg.substr(0, arg.find('='));
    // --help, --version: the top level's own options; the parser answers them.
    if (root.get_option_no_throw(name) != nullptr) return args;
    const CLI::Option* opt = common_option(subs, name);
    if (opt == nullptr) {
      for (const CLI::App* sub : subs) {
        if (sub->get_option_no_throw(name) != nullptr) {
          throw Error(ErrorCode::kUsage,
                      "option " + name + " goes after the subcommand (msinet " + sub->get_name() +
                          " " + name +
                          " ...); before it only the common options: " + common_names(subs));
        }
      }
      std::vector<std::string> known = option_spellings(root, /*long_only=*/false);
      if (!subs.empty()) {
        for (const std::string& s : option_spellings(*subs.front(), false)) {
          if (common_option(subs, s) != nullptr) known.push_back(s);
        }
      }
      const std::string nearest = util::closest_match(name, known, suggestion_distance(name));
      throw Error(ErrorCode::kUsage,
                  "unknown option " + name +
                      (nearest.empty() ? "" : "; did you mean " + nearest + "?") +
                      " (msinet --help lists the subcommands)");
    }
    leading.push_back(arg);
    if (takes_value(opt) && arg.find('=') == std::string::npos && i + 1 < args.size()) {
      leading.push_back(args[++i]);
    }
  }
  if (i == args.size()) {
    throw Error(
        ErrorCode::kUsage,
        (leading.empty() ? "a subcommand is needed" : "no subcommand after " + join(leading, " ")) +
            "; one of: " + subcommand_list(subs) + " (msinet --help describes them)");
  }
  const std::string& name = args[i];
  const CLI::App* sub = nullptr;
  for (const CLI::App* s : root.get_subcommands({})) {
    if (s->check_name(name)) sub = s;
  }
  if (sub == nullptr) {
    const std::string nearest =
        util::closest_match(name, names_of(subs), suggestion_distance(name));
    throw Error(ErrorCode::kUsage,
                "unknown subcommand '" + name + "'" +
                    (nearest.empty() ? "" : "; did you mean '" + nearest + "'?") +
                    " The subcommands: " + subcommand_list(subs) +
                    " (msinet --help describes them)");
  }
  for (size_t j = i + 1; j < args.size() && args[j] != "--"; ++j) {
    if (!starts_with(args[j], "--") || args[j].size() < 3) continue;
    const std::string option = args[j].substr(0, args[j].find('='));
    if (sub->get_option_no_throw(option) != nullptr) continue;
    const std::string nearest = util::closest_match(
        option, option_spellings(*sub, /*long_only=*/true), suggestion_distance(option));
    throw Error(ErrorCode::kUsage, "unknown option " + option + " of 'msinet " + name + "'" +
                                       (nearest.empty() ? "" : "; did you mean " + nearest + "?") +
                                       " (msinet " + name + " --help lists its options)");
  }
  std::vector<std::string> out{name};
  out.insert(out.end(), leading.begin(), leading.end());
  out.insert(out.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
  return out;
}

std::string top_level_footer(const CLI::App& root) {
  return "Run `msinet SUBCOMMAND --help` for the options of a subcommand. The common options (" +
         common_names(visible_subcommands(root)) +
         ") may also come before the subcommand. A bad command line exits with 2 (README "
         "\"Exit codes\").";
}

namespace {

// The bash words that complete the value of `opt`: a compgen call, or empty for free values.
std::string value_completion(const CLI::Option* opt) {
  const std::vector<std::string>& lnames = opt->get_lnames();
  if (std::find(lnames.begin(), lnames.end(), "dataset") != lnames.end()) {
    std::vector<std::string> names;
    for (const auto& d : data::builtin_datasets()) names.push_back(d.name);
    return "COMPREPLY=($(compgen -W '" + join(names, " ") +
           "' -- \"$cur\") $(compgen -f -X '!*.y*ml' -- \"$cur\"))";
  }
  const std::string type = bare_type_name(opt);
  if (type.find('|') != std::string::npos) {
    std::vector<std::string> words;
    bool files = false;
    std::stringstream ss(type);
    for (std::string w; std::getline(ss, w, '|');) {
      const bool placeholder =
          std::all_of(w.begin(), w.end(), [](unsigned char c) { return !std::islower(c); });
      if (placeholder) {
        files = files || w == "FILE" || w == "DEVICE";
      } else {
        words.push_back(w);
      }
    }
    return "COMPREPLY=($(compgen -W '" + join(words, " ") + "' -- \"$cur\")" +
           (files ? " $(compgen -f -- \"$cur\")" : "") + ")";
  }
  if (type == "DIR") return "COMPREPLY=($(compgen -d -- \"$cur\"))";
  if (type == "INT" || type == "UINT" || type == "FLOAT" || type == "HxW" || type == "URL" ||
      type == "N" || type == "ALPHA" || type == "X") {
    return "COMPREPLY=()";
  }
  return "COMPREPLY=($(compgen -f -- \"$cur\"))";
}

}  // namespace

std::string bash_completion(const CLI::App& root) {
  const std::vector<const CLI::App*> subs = visible_subcommands(root);
  std::ostringstream out;
  out << "# bash completion for msinet, made by `msinet completion bash` from its own options.\n"
         "_msinet() {\n"
         "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"\" sub=\"\" i\n"
         "  ((COMP_CWORD > 0)) && prev=\"${COMP_WORDS[COMP_CWORD - 1]}\"\n"
         "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "    case \"${COMP_WORDS[i]}\" in\n"
         "      "
      << join(names_of(subs), "|")
      << ") sub=\"${COMP_WORDS[i]}\"; break ;;\n"
         "    esac\n"
         "  done\n"
         "  if [[ -z \"$sub\" ]]; then\n"
         "    if [[ \"$cur\" == -* ]]; then\n";
  std::vector<std::string> top = option_spellings(root, /*long_only=*/true);
  if (!subs.empty()) {
    for (const std::string& s : option_spellings(*subs.front(), /*long_only=*/false)) {
      if (common_option(subs, s) != nullptr) top.push_back(s);
    }
  }
  out << "      COMPREPLY=($(compgen -W '" << join(top, " ") << "' -- \"$cur\"))\n"
      << "    else\n"
      << "      COMPREPLY=($(compgen -W '" << join(names_of(subs), " ") << "' -- \"$cur\"))\n"
      << "    fi\n"
      << "    return 0\n"
      << "  fi\n"
      << "  case \"$sub $prev\" in\n";
  for (const CLI::App* sub : subs) {
    for (const CLI::Option* opt : sub->get_options()) {
      if (!takes_value(opt) || opt->get_lnames().empty()) continue;
      std::vector<std::string> cases;
      for (const std::string& l : opt->get_lnames()) cases.push_back(sub->get_name() + " --" + l);
      for (const std::string& s : opt->get_snames()) cases.push_back(sub->get_name() + " -" + s);
      std::vector<std::string> quoted;
      for (const std::string& c : cases) quoted.push_back("\"" + c + "\"");
      out << "    " << join(quoted, "|") << ") " << value_completion(opt) << "; return 0 ;;\n";
    }
  }
  out << "  esac\n"
      << "  if [[ \"$cur\" == -* ]]; then\n"
      << "    case \"$sub\" in\n";
  for (const CLI::App* sub : subs) {
    out << "      " << sub->get_name() << ") COMPREPLY=($(compgen -W '"
        << join(option_spellings(*sub, /*long_only=*/false), " ") << "' -- \"$cur\")) ;;\n";
  }
  out << "    esac\n"
      << "  else\n"
      << "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      << "  fi\n"
      << "  return 0\n"
      << "}\n"
      << "complete -F _msinet msinet\n";
  return out.str();
}

Command register_completion(CLI::App& root) {
  CLI::App* app = root.add_subcommand(
      "completion", "print a shell completion script for msinet, made from its own options");
  app->group("");  // hidden: installed as a file, not typed by users
  auto shell = std::make_shared<std::string>();
  app->add_option("SHELL", *shell, "the shell")->required()->check(CLI::IsMember({"bash"}));
  Command cmd{app, std::make_shared<CommandState>(), nullptr};
  const CLI::App* parent = &root;
  cmd.run = [parent](const config::Config&) {
    std::cout << bash_completion(*parent);
    return 0;
  };
  return cmd;
}

}  // namespace msinet::cli
