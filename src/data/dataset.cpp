#include "msinet/data/dataset.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/util/size.h"

namespace msinet::data {

namespace {

// ref: saliency/config.py DIMS, saliency/data.py n_train / n_valid
const std::vector<DatasetInfo> kBuiltins = {
    {"salicon", 240, 320, 15000, 10000, 5000, SplitRule::kFolders},
    {"mit1003", 360, 360, 1003, 803, 200, SplitRule::kPermutation},
    {"cat2000", 216, 384, 2000, 1600, 400, SplitRule::kPerCategory},
    {"dutomron", 360, 360, 5168, 4168, 1000, SplitRule::kPermutation},
    {"pascals", 360, 360, 850, 650, 200, SplitRule::kPermutation},
    {"osie", 240, 320, 700, 500, 200, SplitRule::kPermutation},
    {"fiwi", 216, 384, 149, 99, 50, SplitRule::kPermutation},
};

std::string builtin_names() {
  std::string names;
  for (const auto& d : kBuiltins) names += (names.empty() ? "" : ", ") + d.name;
  return names;
}

[[noreturn]] void config_error(const fs::path& file, const std::string& key,
                               const std::string& what) {
  throw Error(ErrorCode::kConfig,
              "dataset file '" + file.string() + "': key '" + key + "': " + what);
}

std::string scalar_text(const YAML::Node& node, const fs::path& file, const std::string& key) {
  if (!node.IsScalar()) config_error(file, key, "expected a single value");
  return node.Scalar();
}

fs::path resolve_relative(const fs::path& base, const std::string& value) {
  fs::path p(value);
  if (p.is_relative()) p = base / p;
  return p.lexically_normal();
}

std::vector<std::string> read_list_file(const fs::path& list_file, const fs::path& yaml_file,
                                        const std::string& key) {
  std::ifstream in(list_file);
  if (!in) {
    throw Error(ErrorCode::kInput, "dataset file '" + yaml_file.string() + "': key '" + key +
                                       "': cannot read list file '" + list_file.string() + "'");
  }
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const auto last = line.find_last_not_of(" \t\r");
    out.push_back(line.substr(first, last - first + 1));
  }
  return out;
}

std::vector<std::string> read_file_list(const YAML::Node& node, const fs::path& yaml_file,
                                        const std::string& key) {
  std::vector<std::string> out;
  if (node.IsSequence()) {
    for (const auto& item : node) {
      if (!item.IsScalar() || item.Scalar().empty()) {
        config_error(yaml_file, key, "every entry must be a file path");
      }
      out.push_back(item.Scalar());
    }
  } else if (node.IsScalar() && !node.Scalar().empty()) {
    out = read_list_file(resolve_relative(yaml_file.parent_path(), node.Scalar()), yaml_file, key);
  } else {
    config_error(yaml_file, key, "expected a list of stimulus paths or the name of a list file");
  }
  if (out.empty()) config_error(yaml_file, key, "the list is empty");
  return out;
}

}  // namespace

const std::vector<DatasetInfo>& builtin_datasets() { return kBuiltins; }

bool is_builtin_dataset(const std::string& name) {
  for (const auto& d : kBuiltins) {
    if (d.name == name) return true;
  }
  return false;
}

const DatasetInfo& builtin_dataset(const std::string& name) {
  for (const auto& d : kBuiltins) {
    if (d.name == name) return d;
  }
  throw Error(ErrorCode::kUsage, "unknown dataset '" + name + "': use one of " + builtin_names() +
                                     ", or a YAML file describing your own dataset");
}

DatasetSpec builtin_spec(const std::string& name) {
  const DatasetInfo& info = builtin_dataset(name);
  DatasetSpec spec;
  spec.name = info.name;
  spec.builtin = true;
  spec.height = info.height;
  spec.width = info.width;
  return spec;
}

DatasetSpec load_dataset_yaml(const fs::path& yaml_file) {
  std::error_code ec;
  if (!fs::is_regular_file(yaml_file, ec)) {
    throw Error(ErrorCode::kInput, "dataset file '" + yaml_file.string() +
                                       "' does not exist: give the path of a YAML file");
  }
  YAML::Node root;
  try {
    root = YAML::Load(util::read_file(yaml_file));
  } catch (const YAML::Exception& e) {
    throw Error(ErrorCode::kConfig,
                "dataset file '" + yaml_file.string() + "' is not valid YAML: " + e.what());
  }
  if (!root.IsMap()) {
    throw Error(ErrorCode::kConfig,
                "dataset file '" + yaml_file.string() + "' must be a YAML map (key: value lines)");
  }
  static const std::set<std::string> kKeys = {"name",      "stimuli", "saliency",
                                              "fixations", "size",    "valid_fraction",
                                              "seed",      "train",   "valid"};
  fs::path abs_file = fs::absolute(yaml_file, ec).lexically_normal();
  if (ec) abs_file = yaml_file;
  const fs::path base = abs_file.parent_path();
  DatasetSpec spec;
  spec.builtin = false;
  spec.source = abs_file;
  spec.name = abs_file.stem().string();
  bool has_size = false;
  bool has_fraction = false;
  bool has_seed = false;
  for (const auto& kv : root) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    const YAML::Node& value = kv.second;
    if (!kKeys.count(key)) {
      config_error(yaml_file, key,
                   "unknown key (known: name, stimuli, saliency, fixations, size, "
                   "valid_fraction, seed, train, valid)");
    }
    if (key == "name") {
      spec.name = scalar_text(value, yaml_file, key);
      if (spec.name.empty() || spec.name.find_first_of("/\\") != std::string::npos) {
        config_error(yaml_file, key, "must be a non-empty name without slashes");
      }
    } else if (key == "stimuli" || key == "saliency" || key == "fixations") {
      const std::string text = scalar_text(value, yaml_file, key);
      if (text.empty()) config_error(yaml_file, key, "must name a folder");
      const fs::path dir = resolve_relative(base, text);
      if (!fs::is_directory(dir, ec)) {
        throw Error(ErrorCode::kInput, "dataset file '" + yaml_file.string() + "': key '" + key +
                                           "': folder '" + dir.string() +
                                           "' does not exist; give the folder of the " + key +
                                           ", relative to the file or absolute");
      }
      (key == "stimuli"    ? spec.stimuli_dir
       : key == "saliency" ? spec.saliency_dir
                           : spec.fixations_dir) = dir;
    } else if (key == "size") {
      std::string text;
      if (value.IsSequence()) {
        if (value.size() != 2 || !value[0].IsScalar() || !value[1].IsScalar()) {
          config_error(yaml_file, key, "expected [height, width] or HxW");
        }
        text = value[0].Scalar() + "x" + value[1].Scalar();
      } else {
        text = scalar_text(value, yaml_file, key);
      }
      const util::Size size = util::parse_size(
          text, "dataset file '" + yaml_file.string() + "': key 'size'", ErrorCode::kConfig);
      spec.height = size.h;
      spec.width = size.w;
      has_size = true;
    } else if (key == "valid_fraction") {
      const std::string text = scalar_text(value, yaml_file, key);
      double f = 0;
      try {
        size_t used = 0;
        f = std::stod(text, &used);
        if (used != text.size()) throw std::invalid_argument(text);
      } catch (const std::exception&) {
        config_error(yaml_file, key, "'" + text + "' is not a number");
      }
      if (!(f > 0.0 && f < 1.0)) {
        config_error(yaml_file, key, "'" + text + "' must lie strictly between 0 and 1");
      }
      spec.valid_fraction = f;
      has_fraction = true;
    } else if (key == "seed") {
      const std::string text = scalar_text(value, yaml_file, key);
      if (text.empty() || text.size() > 10 ||
          text.find_first_not_of("0123456789") != std::string::npos ||
          std::stoull(text) > 0xffffffffull) {
        config_error(yaml_file, key, "'" + text + "' must be an integer from 0 to 4294967295");
      }
      spec.seed = static_cast<uint32_t>(std::stoull(text));
      has_seed = true;
    } else if (key == "train") {
      spec.train_list = read_file_list(value, yaml_file, key);
    } else if (key == "valid") {
      spec.valid_list = read_file_list(value, yaml_file, key);
    }
  }
  if (spec.stimuli_dir.empty()) config_error(yaml_file, "stimuli", "missing (a folder of images)");
  if (spec.saliency_dir.empty()) {
    config_error(yaml_file, "saliency", "missing (a folder of saliency maps)");
  }
  if (!has_size) config_error(yaml_file, "size", "missing (network input size, e.g. 240x320)");
  const bool lists = !spec.train_list.empty() || !spec.valid_list.empty();
  if (lists && (has_fraction || has_seed)) {
    config_error(yaml_file, has_fraction ? "valid_fraction" : "seed",
                 "cannot be combined with explicit train/valid lists");
  }
  return spec;
}

bool is_dataset_yaml(const std::string& arg) {
  const std::string ext = util::to_lower(fs::path(arg).extension().string());
  return ext == ".yaml" || ext == ".yml";
}

DatasetSpec dataset_spec_from_arg(const std::string& arg) {
  if (is_dataset_yaml(arg)) return load_dataset_yaml(arg);
  return builtin_spec(arg);
}

fs::path resolve_dataset_dir(const fs::path& path, const std::string& name) {
  std::error_code ec;
  if (fs::is_directory(path / "stimuli", ec) && fs::is_directory(path / "saliency", ec)) {
    return path;
  }
  return path / name;
}

}  // namespace msinet::data
