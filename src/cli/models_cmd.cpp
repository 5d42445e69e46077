// `msinet models`: the published weights: what exists and what lies in the weights folder
// (list), downloading and importing them ahead of time (fetch), checking what is here (verify).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <system_error>

#include "msinet/checkpoint/container.h"
#include "msinet/checkpoint/load.h"
#include "msinet/cli/common.h"
#include "msinet/fetch/checksums.h"
#include "msinet/fetch/download.h"
#include "msinet/model/msinet.h"
#include "msinet/util/error.h"
#include "msinet/util/progress.h"
#include "msinet/weights/published.h"
#include "msinet/weights/readers.h"

namespace msinet::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kSavedModelDir = "msinet_salicon_savedmodel";

// The models an argument names: one, or every one for "all" (and for nothing, when allowed).
std::vector<std::string> chosen_models(const std::string& name) {
  const std::vector<std::string> all = weights::published_model_names();
  if (name.empty() || name == "all") return all;
  if (std::find(all.begin(), all.end(), name) != all.end()) return {name};
  std::string known;
  for (const std::string& m : all) known += m + ", ";
  throw Error(ErrorCode::kUsage, "no published model '" + name + "'; known: " + known + "or all");
}

std::string size_text(const fs::path& file) {
  std::error_code ec;
  const auto bytes = fs::file_size(file, ec);
  if (ec) return "-";
  return util::format_bytes(static_cast<double>(bytes));
}

// The known SHA-256 of a downloaded file, "-" when none is known; a malformed local record
// reads as unknown here (verify reports it).
std::string known_checksum(const weights::PublishedLocalFile& f, const fs::path& weights_dir) {
  try {
    const std::string sha = fetch::recorded_sha256(f.checksum_key, weights_dir / f.path);
    return sha.empty() ? "-" : sha;
  } catch (const Error&) {
    return "-";
  }
}

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// Prints rows as columns two spaces apart, the last column unpadded.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << '\n';
  }
}

int list_models(const std::vector<std::string>& models, const fs::path& weights_dir) {
  std::vector<std::vector<std::string>> rows = {
      {"MODEL", "KIND", "FILE", "PRESENT", "SIZE", "SHA-256", "SOURCE"}};
  for (const std::string& model : models) {
    for (const weights::PublishedLocalFile& f : weights::published_local_files(model)) {
      const fs::path p = weights_dir / f.path;
      const bool here = present(p);
      rows.push_back({model, "downloaded", f.path, here ? "yes" : "no", here ? size_text(p) : "-",
                      known_checksum(f, weights_dir), f.source});
    }
    if (model == weights::kVgg16HybridName) continue;
    const std::string imported = model + checkpoint::kCheckpointSuffix;
    const bool here = present(weights_dir / imported);
    rows.push_back({model, "imported", imported, here ? "yes" : "no",
                    here ? size_text(weights_dir / imported) : "-", "-",
                    "msinet's import of the downloaded graph"});
    if (model != "salicon") continue;
    for (const weights::PublishedTfjsModel& t : weights::published_tfjs_models()) {
      rows.push_back(
          {model, "tfjs",
           t.name + " (" + std::to_string(t.height) + "x" + std::to_string(t.width) + ")", "-", "-",
           "-", t.url});
    }
  }
  std::cout << "weights folder: " << weights_dir.string() << '\n';
  print_table(rows);
  std::cout << "downloaded: as published (one of the _cpu/_gpu graphs is enough); imported: made "
               "from it, what `test -d DATA` loads; tfjs: the browser demo's models, not "
               "downloaded here (`msinet import` reads a model.json).\n"
               "SHA-256: from configs/checksums.yaml, else from checksums.local.yaml beside the "
               "file (recorded when it was downloaded); - = not known.\n";
  return 0;
}

// One problem that verify found, and the exit code it stands for.
struct Problem {
  ErrorCode code;
  std::string text;
};

std::string refetch(const std::string& model) {
  return "delete it and run `msinet models fetch " + model + "`";
}

// Checks what of `model` lies in `weights_dir`; prints a line per file, appends problems.
// Returns the number of files found.
int verify_model(const std::string& model, const fs::path& weights_dir,
                 std::vector<Problem>& problems) {
  int found = 0;
  std::map<fs::path, std::string> read_errors;  // unit -> why it is unreadable; empty = fine
  const auto report = [&](const std::string& path, const std::string& what, bool ok) {
    std::cout << (ok ? "ok   " : "BAD  ") << path << ": " << what << '\n';
  };
  for (const weights::PublishedLocalFile& f : weights::published_local_files(model)) {
    const fs::path p = weights_dir / f.path;
    if (!present(p)) continue;
    ++found;
    std::string expected;
    try {
      expected = fetch::recorded_sha256(f.checksum_key, p);
    } catch (const Error& e) {
      problems.push_back({e.code(), std::string(e.what()) + "; fix or delete that file"});
      report(f.path, e.what(), false);
      continue;
    }
    if (!expected.empty()) {
      const std::string have = fetch::sha256_file(p);
      if (have != expected) {
        const std::string what = "SHA-256 " + have + ", expected " + expected;
        problems.push_back({ErrorCode::kData, p.string() + ": " + what + "; " + refetch(model)});
        report(f.path, what, false);
        continue;
      }
    }
    // Read back: a graph file alone, the SavedModel as a folder, the checkpoint as a prefix
    // (each unit once).
    fs::path unit = p;
    if (f.path.rfind(kSavedModelDir, 0) == 0) unit = weights_dir / kSavedModelDir;
    if (model == weights::kVgg16HybridName) unit = weights_dir / "vgg16_hybrid.ckpt";
    if (!read_errors.count(unit)) {
      try {
        if (model == weights::kVgg16HybridName) {
          weights::read_checkpoint(unit);
        } else if (unit != p) {
          weights::read_saved_model(unit);
        } else {
          weights::read_frozen_graph(unit);
        }
        read_errors[unit] = "";
      } catch (const Error& e) {
        read_errors[unit] = e.what();
      }
    }
    if (!read_errors[unit].empty()) {
      problems.push_back(
          {ErrorCode::kWeights, p.string() + ": " + read_errors[unit] + "; " + refetch(model)});
      report(f.path, "unreadable: " + read_errors[unit], false);
      continue;
    }
    report(f.path,
           expected.empty() ? "readable (no SHA-256 known to compare with)"
                            : "SHA-256 matches, readable",
           true);
  }
  if (model != weights::kVgg16HybridName) {
    const fs::path imported = weights_dir / (model + checkpoint::kCheckpointSuffix);
    if (present(imported)) {
      ++found;
      try {
        ::msinet::model::MSINet net;
        checkpoint::load_weights_file(net, imported);
        report(imported.filename().string(), "loads", true);
      } catch (const Error& e) {
        problems.push_back(
            {ErrorCode::kWeights, imported.string() + ": " + e.what() + "; " + refetch(model)});
        report(imported.filename().string(), e.what(), false);
      }
    }
  }
  return found;
}

int verify_models(const std::string& name, const fs::path& weights_dir) {
  std::vector<Problem> problems;
  int found = 0;
  for (const std::string& model : chosen_models(name)) {
    const int n = verify_model(model, weights_dir, problems);
    if (n == 0 && !name.empty() && name != "all") {
      problems.push_back({ErrorCode::kWeights, "nothing of '" + model + "' in '" +
                                                   weights_dir.string() +
                                                   "': run `msinet models fetch " + model + "`"});
    }
    found += n;
  }
  if (problems.empty()) {
    std::cout << (found == 0
                      ? "no published weights in '" + weights_dir.string() + "' to verify"
                      : std::to_string(found) + " files verified in '" + weights_dir.string() + "'")
              << '\n';
    return 0;
  }
  const bool mismatch = std::any_of(problems.begin(), problems.end(),
                                    [](const Problem& p) { return p.code == ErrorCode::kData; });
  std::string msg = std::to_string(problems.size()) + " problem" +
                    (problems.size() == 1 ? "" : "s") + " in the weights folder '" +
                    weights_dir.string() + "':";
  for (const Problem& p : problems) msg += "\n  " + p.text;
  throw Error(mismatch ? ErrorCode::kData : problems.front().code, msg);
}

int fetch_models(const std::string& name, const fs::path& weights_dir,
                 const fetch::DownloadOptions& download) {
  if (name.empty()) {
    throw Error(ErrorCode::kUsage,
                "msinet models fetch needs a model: a dataset, vgg16_hybrid or all");
  }
  for (const std::string& model : chosen_models(name)) {
    const fs::path path = model == weights::kVgg16HybridName
                              ? weights::ensure_vgg16_checkpoint(weights_dir, download)
                              : checkpoint::ensure_published_weights(model, weights_dir, download);
    std::cout << model << ": " << path.string() << '\n';
  }
  return 0;
}

}  // namespace

Command register_models(CLI::App& root) {
  CLI::App* app = root.add_subcommand(
      "models",
      "the published weights: list them and what the weights folder holds, fetch them ahead of "
      "time (for machines without internet), verify what is here");
  auto state = add_common_options(*app);
  struct Args {
    std::string action = "list", model;
  };
  auto args = std::make_shared<Args>();
  app->add_option("ACTION", args->action,
                  "list (the default): the published models and what is here; fetch: download "
                  "and import them now; verify: check the files here")
      ->check(CLI::IsMember({"list", "fetch", "verify"}));
  app->add_option("MODEL", args->model,
                  "a dataset (salicon, mit1003, cat2000, dutomron, pascals, osie, fiwi), "
                  "vgg16_hybrid (the training initialisation) or all [default: all; fetch needs "
                  "one]");
  Command cmd{app, state, nullptr};
  cmd.run = [args](const config::Config& cfg) {
    const fs::path weights_dir = cfg.get("weights_dir");
    if (args->action == "fetch")
      return fetch_models(args->model, weights_dir, download_options(cfg));
    if (args->action == "verify") return verify_models(args->model, weights_dir);
    return list_models(chosen_models(args->model), weights_dir);
  };
  return cmd;
}

}  // namespace msinet::cli
