// The help tells the truth: every option `msinet SUB --help` shows is documented in README.md
// and every option README.md documents exists; the help shows types, defaults and choices;
// mistyped subcommands and options are named with the nearest one; the completion script and
// the man page are made from the binary.
//
// README convention, parsed here: a subcommand's section runs from its heading
// "### `msinet SUB ...`" to the next such heading or the next "## " heading. Its options are the
// long options (`--name`) in that heading and in the first column of its tables (lines that
// start with "|"). The common options are those in the first column of the table in
// "## Commands" before the first "### " heading; they count for every subcommand. `--help` is
// described once, in "## Commands".

#include <map>
#include <regex>
#include <set>

#include "test_support.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using testing::read_file_bytes;
using testing::run_msinet;
using testing::TempDir;

class CliHelp : public ::testing::Test {
 protected:
  CliHelp() : tmp_("cli-help") {}
  const fs::path& dir() const { return tmp_.path(); }

  /// The output of `msinet ARGS`, which must exit 0.
  std::string help(const std::vector<std::string>& args) {
    std::string out;
    EXPECT_EQ(run_msinet(args, dir(), &out), 0) << out;
    return out;
  }

 private:
  TempDir tmp_;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  return lines;
}

std::set<std::string> long_options_in(const std::string& text) {
  std::set<std::string> out;
  static const std::regex option("--[a-z][a-z0-9-]*");
  for (std::sregex_iterator it(text.begin(), text.end(), option), end; it != end; ++it) {
    out.insert(it->str());
  }
  return out;
}

/// The subcommands `msinet --help` lists, by the lines under "Subcommands:".
std::vector<std::string> listed_subcommands(const std::string& top_help) {
  std::vector<std::string> subs;
  bool in = false;
  for (const std::string& line : lines_of(top_help)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in = true;
    } else if (in && line.empty()) {
      in = false;
    } else if (in && line.size() > 2 && line.rfind("  ", 0) == 0 && line[2] != ' ') {
      subs.push_back(line.substr(2, line.find(' ', 2) - 2));
    }
  }
  return subs;
}

/// The long options in the first column of a help's option lines (descriptions left out).
std::set<std::string> help_options(const std::string& sub_help) {
  std::set<std::string> out;
  static const std::regex first_column(R"(^\s+(-[^\s]+))");
  for (const std::string& line : lines_of(sub_help)) {
    std::smatch m;
    if (!std::regex_search(line, m, first_column)) continue;
    std::stringstream names(m[1].str());
    for (std::string name; std::getline(names, name, ',');) {
      if (name.rfind("--", 0) == 0) out.insert(name);
    }
  }
  out.erase("--help");
  return out;
}

/// The first column of a markdown table row ("| `--x N` | ..." -> "`--x N`").
std::string first_cell(const std::string& row) {
  size_t start = 1;
  for (size_t i = 1; i < row.size(); ++i) {
    if (row[i] == '\\') {
      ++i;  // `\|` inside a cell
    } else if (row[i] == '|') {
      return row.substr(start, i - start);
    }
  }
  return row.substr(start);
}

struct ReadmeOptions {
  std::set<std::string> common;
  std::map<std::string, std::set<std::string>> by_subcommand;
  std::string commands_intro;  ///< "## Commands" up to the first "###"
};

ReadmeOptions readme_options() {
  ReadmeOptions r;
  const std::string text = read_file_bytes(fs::path(MSINET_SOURCE_DIR) / "README.md");
  EXPECT_FALSE(text.empty()) << "README.md not found";
  static const std::regex heading("^### `msinet ([a-z0-9]+)");
  enum { kOutside, kCommon, kSub } where = kOutside;
  std::string sub;
  for (const std::string& line : lines_of(text)) {
    std::smatch m;
    if (line.rfind("## ", 0) == 0) {
      where = line == "## Commands" ? kCommon : kOutside;
    } else if (std::regex_search(line, m, heading)) {
      where = kSub;
      sub = m[1].str();
      for (const std::string& o : long_options_in(line)) r.by_subcommand[sub].insert(o);
      r.by_subcommand[sub];  // a section without options still counts
      continue;
    } else if (line.rfind("### ", 0) == 0 && where == kCommon) {
      where = kOutside;  // a "###" that is no command's heading before the first one
    }
    if (where == kCommon) r.commands_intro += line + "\n";
    if (line.rfind("|", 0) != 0) continue;
    const std::set<std::string> options = long_options_in(first_cell(line));
    if (where == kCommon) r.common.insert(options.begin(), options.end());
    if (where == kSub) r.by_subcommand[sub].insert(options.begin(), options.end());
  }
  return r;
}

TEST_F(CliHelp, EveryHelpOptionIsInTheReadmeAndTheReverse) {
  const std::string top = help({"--help"});
  const std::vector<std::string> subs = listed_subcommands(top);
  ASSERT_GE(subs.size(), 10u) << top;
  const ReadmeOptions readme = readme_options();
  ASSERT_FALSE(readme.common.empty()) << "no option table in README \"## Commands\"";
  // The parse itself: options known to be in the tables are found there.
  EXPECT_TRUE(readme.common.count("--threads") && readme.common.count("--config"));
  EXPECT_TRUE(readme.by_subcommand.count("train") &&
              readme.by_subcommand.at("train").count("--epochs"));
  EXPECT_TRUE(readme.by_subcommand.count("export") &&
              readme.by_subcommand.at("export").count("--quantize"));
  for (const std::string& sub : subs) {
    SCOPED_TRACE("msinet " + sub);
    ASSERT_TRUE(readme.by_subcommand.count(sub))
        << "README has no section \"### `msinet " << sub << " ...`\"";
    const std::set<std::string>& documented = readme.by_subcommand.at(sub);
    const std::set<std::string> shown = help_options(help({sub, "--help"}));
    EXPECT_GE(shown.size(), readme.common.size());
    for (const std::string& o : shown) {
      EXPECT_TRUE(documented.count(o) || readme.common.count(o))
          << o << " is in `msinet " << sub << " --help` but in no option table of README's " << sub
          << " section nor in the common options";
    }
    for (const std::string& o : documented) {
      EXPECT_TRUE(shown.count(o)) << "README's " << sub << " section lists " << o
                                  << ", which `msinet " << sub << " --help` does not have";
    }
    for (const std::string& o : readme.common) {
      EXPECT_TRUE(shown.count(o)) << "README's common option " << o << " is not in `msinet " << sub
                                  << " --help`";
    }
  }
  for (const auto& [sub, options] : readme.by_subcommand) {
    EXPECT_NE(std::find(subs.begin(), subs.end(), sub), subs.end())
        << "README documents `msinet " << sub << "`, which `msinet --help` does not list";
  }
  // The top level's own options: --help (described in "## Commands") and --version.
  EXPECT_NE(top.find("--version"), std::string::npos) << top;
  EXPECT_NE(readme.commands_intro.find("--version"), std::string::npos);
  EXPECT_NE(readme.commands_intro.find("--help"), std::string::npos);
}

TEST_F(CliHelp, TopLevelHelpListsEverySubcommandWithItsDescription) {
  const std::string top = help({"--help"});
  const std::vector<std::string> subs = listed_subcommands(top);
  for (const char* expected : {"test", "train", "download", "import", "export", "eval", "bench",
                               "serve", "calibrate", "submit"}) {
    EXPECT_NE(std::find(subs.begin(), subs.end(), expected), subs.end()) << expected << "\n" << top;
  }
  EXPECT_EQ(std::find(subs.begin(), subs.end(), "completion"), subs.end())
      << "the completion generator is for the build, not listed";
  for (const std::string& line : lines_of(top)) {
    if (line.rfind("  bench ", 0) == 0) {
      EXPECT_NE(line.find("measure forward speed"), std::string::npos) << line;
    }
  }
  EXPECT_EQ(help({"--version"}), "msinet 0.1.0\n");
}

TEST_F(CliHelp, OptionsShowTheirTypeDefaultAndChoicesOnce) {
  const std::string train = help({"train", "--help"});
  EXPECT_TRUE(
      std::regex_search(train, std::regex(R"(--epochs INT +training epochs.*\[default: 10\])")))
      << train;
  EXPECT_TRUE(std::regex_search(train, std::regex(R"(--lr FLOAT .*\[default: 1e-05\])"))) << train;
  EXPECT_TRUE(std::regex_search(train, std::regex(R"(--size HxW )"))) << train;
  EXPECT_TRUE(
      std::regex_search(train, std::regex(R"(--device auto\|cpu\|cuda .*\[default: auto\])")))
      << train;
  EXPECT_TRUE(std::regex_search(train, std::regex(R"(--nproc INT .*\[default: 1\])"))) << train;
  const std::string test = help({"test", "--help"});
  EXPECT_TRUE(std::regex_search(test, std::regex(R"(--format jpg\|png\|npy .*\[default: jpg\])")))
      << test;
  EXPECT_TRUE(std::regex_search(test, std::regex(R"(--threads INT .*\[default: 0\])"))) << test;
  EXPECT_TRUE(std::regex_search(test, std::regex(R"(--alpha FLOAT .*\[default: 0.6\])"))) << test;
  const std::string eval = help({"eval", "--help"});
  EXPECT_TRUE(std::regex_search(eval, std::regex(R"(--baseline center\|chance )"))) << eval;
  const std::string top = help({"--help"});
  for (const std::string& sub : listed_subcommands(top)) {
    for (const std::string& line : lines_of(help({sub, "--help"}))) {
      // CLI11's own "TEXT=value" and validator notes ("INT:INT in [1 - 1024]") are not shown;
      // a default is written once.
      EXPECT_FALSE(std::regex_search(line, std::regex(R"(^\s+-\S+ \S+=)"))) << sub << ": " << line;
      EXPECT_FALSE(std::regex_search(line, std::regex(R"(^\s+-\S+ [A-Za-z|]+:)")))
          << sub << ": " << line;
      const size_t first = line.find("[default:");
      EXPECT_TRUE(first == std::string::npos ||
                  line.find("[default:", first + 1) == std::string::npos)
          << sub << ": " << line;
    }
  }
}

TEST_F(CliHelp, CommonOptionsMayComeBeforeTheSubcommand) {
  std::string out;
  EXPECT_EQ(run_msinet({"--threads", "2", "-v", "eval", "--print-config"}, dir(), &out), 0) << out;
  EXPECT_NE(out.find("threads: 2  # flag"), std::string::npos) << out;
  EXPECT_EQ(run_msinet({"--device=cpu", "test", "--print-config"}, dir(), &out), 0) << out;
  EXPECT_NE(out.find("device: cpu  # flag"), std::string::npos) << out;
  EXPECT_EQ(run_msinet({"-v", "test", "--help"}, dir(), &out), 0) << out;
  EXPECT_NE(out.find("--output-dir"), std::string::npos) << out;
  // An option of one subcommand only says where it goes.
  EXPECT_EQ(run_msinet({"--epochs", "3", "train", "-d", "osie"}, dir(), &out), 2) << out;
  EXPECT_NE(out.find("option --epochs goes after the subcommand (msinet train --epochs"),
            std::string::npos)
      << out;
  EXPECT_EQ(run_msinet({"--threads", "2"}, dir(), &out), 2) << out;
  EXPECT_NE(out.find("no subcommand after --threads 2"), std::string::npos) << out;
}

TEST_F(CliHelp, MistypedSubcommandsAndOptionsNameTheNearest) {
  std::string out;
  EXPECT_EQ(run_msinet({}, dir(), &out), 2) << out;
  EXPECT_NE(out.find("a subcommand is needed; one of: test, train,"), std::string::npos) << out;
  EXPECT_EQ(run_msinet({"tset", "-p", "x.jpg"}, dir(), &out), 2) << out;
  EXPECT_NE(out.find("unknown subcommand 'tset'; did you mean 'test'?"), std::string::npos) << out;
  EXPECT_NE(out.find("test, train, download, import, export, eval, bench, serve"),
            std::string::npos)
      << out;
  EXPECT_EQ(run_msinet({"frobnicate"}, dir(), &out), 2) << out;
  EXPECT_NE(out.find("unknown subcommand 'frobnicate'"), std::string::npos) << out;
  EXPECT_EQ(out.find("did you mean"), std::string::npos) << out;
  EXPECT_EQ(run_msinet({"train", "-d", "osie", "--epoch", "3"}, dir(), &out), 2) << out;
  EXPECT_NE(out.find("unknown option --epoch of 'msinet train'; did you mean --epochs?"),
            std::string::npos)
      << out;
  EXPECT_EQ(run_msinet({"test", "--batchsize=2"}, dir(), &out), 2) << out;
  EXPECT_NE(out.find("did you mean --batch-size?"), std::string::npos) << out;
  EXPECT_EQ(run_msinet({"eval", "--no-such-thing"}, dir(), &out), 2) << out;
  EXPECT_NE(out.find("unknown option --no-such-thing of 'msinet eval' (msinet eval --help"),
            std::string::npos)
      << out;
  EXPECT_EQ(run_msinet({"--verbsoe", "test"}, dir(), &out), 2) << out;
  EXPECT_NE(out.find("unknown option --verbsoe; did you mean --verbose?"), std::string::npos)
      << out;
}

// README "Exit codes": a --config file that cannot be read is a bad configuration (3).
TEST_F(CliHelp, MissingConfigFileIsAConfigurationError) {
  std::string out;
  const fs::path missing = dir() / "missing.yaml";
  EXPECT_EQ(run_msinet({"test", "--config", missing.string()}, dir(), &out), 3) << out;
  EXPECT_NE(out.find("cannot read configuration file '" + missing.string() + "'"),
            std::string::npos)
      << out;
}

/// What bash completes for the words `line` (the last one being completed), by the script.
std::string complete(const fs::path& script, const fs::path& cwd, const std::string& line,
                     const fs::path& log_dir) {
  const std::string program = "cd '" + cwd.string() + "' && source '" + script.string() +
                              "' && COMP_WORDS=(" + line +
                              ") && COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && "
                              "_msinet && printf '%s\\n' \"${COMPREPLY[@]}\"";
  testing::Process bash({"/bin/bash", "--norc", "--noprofile", "-c", program}, log_dir);
  EXPECT_EQ(bash.wait(), 0) << bash.output();
  return bash.output();
}

TEST_F(CliHelp, CompletionScriptCompletesSubcommandsOptionsAndDatasets) {
  const fs::path built = fs::path(MSINET_BINARY_DIR) / "msinet.bash";
  ASSERT_TRUE(fs::exists(built)) << built << " is made by the build (target msinet_completion)";
  std::string printed;
  ASSERT_EQ(run_msinet({"completion", "bash"}, dir(), &printed), 0) << printed;
  EXPECT_EQ(read_file_bytes(built), printed) << "the installed script is the binary's own";
  const fs::path cwd = dir() / "cwd";
  fs::create_directories(cwd);
  EXPECT_EQ(complete(built, cwd, "msinet tr", dir()), "train\n");
  EXPECT_EQ(complete(built, cwd, "msinet test -d s", dir()), "salicon\n");
  EXPECT_EQ(complete(built, cwd, "msinet test --format n", dir()), "npy\n");
  EXPECT_EQ(complete(built, cwd, "msinet train --epo", dir()), "--epochs\n");
  EXPECT_EQ(complete(built, cwd, "msinet --thr", dir()), "--threads\n");
  EXPECT_EQ(complete(built, cwd, "msinet eval --baseline c", dir()), "center\nchance\n");
  // A dataset YAML file is offered beside the names.
  std::ofstream(cwd / "mine.yaml") << "stimuli: s\n";
  EXPECT_EQ(complete(built, cwd, "msinet train -d m", dir()), "mit1003\nmine.yaml\n");
}

TEST_F(CliHelp, ManPageMentionsEverySubcommand) {
#ifndef MSINET_HAVE_HELP2MAN
  GTEST_SKIP() << "SKIPPED: help2man was not found when CMake configured this build, so no man "
                  "page was made and it is NOT tested (apt-get install help2man, reconfigure)";
#else
  const fs::path page = fs::path(MSINET_BINARY_DIR) / "msinet.1";
  ASSERT_TRUE(fs::exists(page)) << page << " is made by the build (target msinet_man)";
  const std::string roff = read_file_bytes(page);
  EXPECT_NE(roff.find(".TH MSINET \"1\""), std::string::npos) << roff.substr(0, 400);
  for (const std::string& sub : listed_subcommands(help({"--help"}))) {
    EXPECT_NE(roff.find(".SS \"msinet " + sub + "\""), std::string::npos) << sub;
  }
  EXPECT_NE(roff.find("\\-\\-epochs"), std::string::npos);
#endif
}

}  // namespace
}  // namespace msinet
