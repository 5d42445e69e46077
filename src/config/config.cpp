#include "msinet/config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <vector>

#include <unistd.h>

#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/util/size.h"
#include "msinet/util/text.h"

namespace msinet::config {

namespace {

Error config_error(const std::string& msg) { return Error(ErrorCode::kConfig, msg); }

constexpr const char* kUrlPrefix = "url.";

bool is_url_key(const std::string& key) { return key.rfind(kUrlPrefix, 0) == 0 && key.size() > 4; }

const KeySpec& url_spec() {
  static const KeySpec spec{"url.<source>", "", "url", {}, "replaces the URL of a download source"};
  return spec;
}

const KeySpec& spec_of(const std::string& key) {
  if (is_url_key(key)) return url_spec();
  for (const auto& k : known_keys()) {
    if (k.key == key) return k;
  }
  std::string names;
  for (const auto& k : known_keys()) names += (names.empty() ? "" : ", ") + k.key;
  throw config_error("unknown configuration key '" + key + "'; known keys: " + names);
}

bool parse_long(const std::string& s, long& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtol(s.c_str(), &end, 10);
  return errno == 0 && end && *end == '\0';
}

bool parse_double(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtod(s.c_str(), &end);
  return errno == 0 && end && *end == '\0' && std::isfinite(out);
}

// Returns an empty string when `value` suits `spec`, else why not.
std::string check_value(const KeySpec& spec, const std::string& value) {
  if (spec.kind == "int>=0" || spec.kind == "int>=1") {
    long v = 0;
    const long lo = spec.kind == "int>=0" ? 0 : 1;
    if (!parse_long(value, v) || v < lo || v > 1'000'000'000L) {
      return "expected a whole number >= " + std::to_string(lo);
    }
  } else if (spec.kind == "float>0") {
    double v = 0;
    if (!parse_double(value, v) || v <= 0) return "expected a number > 0";
  } else if (spec.kind == "fraction") {
    double v = 0;
    if (!parse_double(value, v) || !(v > 0 && v <= 1)) return "expected a number in (0, 1]";
  } else if (spec.kind == "choice") {
    if (std::find(spec.choices.begin(), spec.choices.end(), value) == spec.choices.end()) {
      std::string all;
      for (const auto& c : spec.choices) all += (all.empty() ? "" : "|") + c;
      return "expected one of " + all;
    }
  } else if (spec.kind == "url" || (spec.kind == "optional-url" && !value.empty())) {
    if (value.rfind("https://", 0) != 0 && value.rfind("http://", 0) != 0 &&
        value.rfind("file://", 0) != 0) {
      return "expected an http://, https:// or file:// URL";
    }
  } else if (spec.kind == "size") {
    if (!value.empty()) {
      try {
        util::parse_size(value, spec.key);
      } catch (const Error& e) {
        return "expected HxW with both sides positive multiples of 8 up to " +
               std::to_string(util::kMaxSide) + ", e.g. 240x320, or empty";
      }
    }
  }
  return {};
}

}  // namespace

std::string source_name(Source s) {
  switch (s) {
    case Source::kDefault:
      return "default";
    case Source::kFile:
      return "file";
    case Source::kEnvironment:
      return "environment";
    case Source::kFlag:
      return "flag";
  }
  return "?";
}

const std::vector<KeySpec>& known_keys() {
  // ref: saliency/config.py PARAMS (n_epochs, batch_size, learning_rate) and DIMS.
  static const std::vector<KeySpec> keys = {
      {"epochs", "10", "int>=1", {}, "training epochs (counted across resumed runs)"},
      {"batch_size", "1", "int>=1", {}, "images per step (train) / per forward pass (test)"},
      {"learning_rate", "1e-05", "float>0", {}, "Adam learning rate"},
      {"seed", "42", "int>=0", {}, "seed of the per-epoch shuffle and of random initialisation"},
      {"init",
       "auto",
       "string",
       {},
       "training start: auto (vgg16 for salicon, else the best salicon checkpoint), random, "
       "vgg16, salicon, or a weights file"},
      {"size",
       "",
       "size",
       {},
       "input size HxW (multiples of 8, at most 8192); empty = the dataset's size"},
      {"device", "auto", "choice", {"auto", "cpu", "cuda"}, "where to compute"},
      {"threads", "0", "int>=0", {}, "CPU threads; 0 = the cores available to the process"},
      {"precision",
       "fp32",
       "choice",
       {"fp32", "bf16", "fp16", "int8"},
       "arithmetic of test: fp32, bf16 (CPUs with AVX512_BF16/AMX, or CUDA), fp16 (CUDA), int8 "
       "(CPU, with int8_calibration)"},
      {"int8_calibration",
       "",
       "string",
       {},
       "precision int8: the input ranges measured for the weights, a file from `msinet bench "
       "--calibrate-int8 DIR --weights FILE`"},
      {"runtime_plan",
       "auto",
       "choice",
       {"auto", "nchw", "channels-last", "onednn", "winograd"},
       "how the CPU runs the network in fp32: auto (the fastest plan for each input shape, "
       "measured once per machine and kept in the plan cache) or a plan's name"},
      {"format", "jpg", "choice", {"jpg", "png", "npy"}, "saliency map file format for test"},
      {"output",
       "minmax",
       "choice",
       {"minmax", "density", "logdensity"},
       "what test writes: minmax (the map in [0, 1]), density (sums to 1) or logdensity (its "
       "natural log); the last two as .npy"},
      {"calibration",
       "",
       "string",
       {},
       "test --output density|logdensity: a file from `msinet calibrate`; empty = the identity "
       "calibration"},
      {"overlay_colormap",
       "inferno",
       "choice",
       {"inferno", "jet", "viridis", "turbo", "gray"},
       "test overlays: colour map inferno, jet, viridis, turbo or gray (the map as grey)"},
      {"overlay_alpha",
       "0.6",
       "fraction",
       {},
       "test overlays: opacity of the colour at the most salient pixel, in (0, 1]; a pixel of "
       "saliency s gets alpha * s, so unsalient regions keep the image as it is"},
      {"overlay_side_by_side",
       "off",
       "choice",
       {"off", "on"},
       "test: also write <stem>_side.jpeg, image | coloured map | overlay (videos: .mp4)"},
      {"overlay_colorbar",
       "off",
       "choice",
       {"off", "on"},
       "test: a colour bar labelled 0 (bottom) and 1 (top) right of the overlay and side image"},
      {"accumulate",
       "1",
       "int>=1",
       {},
       "train: batches whose gradients are summed before each Adam step (an effective batch of "
       "accumulate x batch_size x ranks)"},
      {"loader_workers",
       "2",
       "int>=0",
       {},
       "train: threads that decode training batches ahead of the step; 0 = in the step's thread"},
      {"mixed_precision",
       "off",
       "choice",
       {"off", "bf16", "fp16"},
       "train: forward pass in bf16 (CPUs with AVX512_BF16/AMX, or CUDA) or fp16 (CUDA, with loss "
       "scaling); weights and Adam stay fp32"},
      {"memory_format",
       "nchw",
       "choice",
       {"nchw", "channels_last"},
       "train: memory layout of the network's tensors"},
      {"dist_backend",
       "auto",
       "choice",
       {"auto", "gloo", "nccl"},
       "train with several ranks: collective backend (auto = nccl on CUDA where built, else gloo)"},
      {"dist_timeout",
       "900",
       "int>=1",
       {},
       "train with several ranks: seconds a rank waits for the others before it fails"},
      {"data_dir", "data", "string", {}, "datasets folder (relative to the current directory)"},
      {"weights_dir", "weights", "string", {}, "imported and downloaded weights"},
      {"results_dir", "results", "string", {}, "checkpoints, history and maps"},
      {"max_download_mb", "8192", "int>=1", {}, "refuse a download larger than this (MiB)"},
      {"max_unpacked_mb", "16384", "int>=1", {}, "refuse an archive that unpacks to more (MiB)"},
      {"max_image_megapixels",
       "100",
       "int>=1",
       {},
       "refuse to decode an image larger than this (height x width, millions of pixels)"},
      {"inflight_memory_mb",
       "2048",
       "int>=1",
       {},
       "memory for images between decoding and their written map (MiB); a larger one runs alone"},
      {"log_format",
       "text",
       "choice",
       {"text", "json"},
       "log lines on stderr: text, or json (one JSON object per line, for machines)"},
      {"progress_interval",
       "30",
       "int>=0",
       {},
       "seconds between progress lines when stderr is not a terminal (or the log is json); "
       "0 = a line at every step"},
      {"mirror",
       "",
       "optional-url",
       {},
       "base URL that serves every download as BASE/<host>/<path> (e.g. a local copy); empty = "
       "the original sources"},
  };
  return keys;
}

Config::Config() {
  for (const auto& k : known_keys()) values_[k.key] = Entry{k.default_value, Source::kDefault, ""};
}

void Config::set(const std::string& key, const std::string& value, Source source,
                 const std::string& origin) {
  const KeySpec& spec = spec_of(key);
  const std::string why = check_value(spec, value);
  if (!why.empty()) {
    std::string where = source_name(source);
    if (!origin.empty()) where += " " + origin;
    throw config_error("bad value '" + value + "' for '" + key + "' (from " + where + "): " + why);
  }
  values_[key] = Entry{value, source, origin};
}

void Config::load_yaml(const std::filesystem::path& path) {
  std::string text;
  try {
    text = util::read_file(path);
  } catch (const Error&) {
    throw config_error("cannot read configuration file '" + path.string() +
                       "': no such file or no permission");
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw config_error("cannot parse configuration file '" + path.string() + "': " + e.what());
  }
  if (root.IsNull()) return;
  if (!root.IsMap()) {
    throw config_error("configuration file '" + path.string() +
                       "' must be a mapping of key: value");
  }
  const std::string origin = path.string();
  for (const auto& item : root) {
    if (!item.first.IsScalar()) {
      throw config_error("configuration file '" + origin +
                         "' has a key that is not a plain name; write key: value lines");
    }
    const std::string key = item.first.as<std::string>();
    if (key == "urls" && item.second.IsMap()) {
      for (const auto& u : item.second) {
        if (!u.first.IsScalar()) {
          throw config_error("urls in '" + origin + "' has a key that is not a source name");
        }
        if (!u.second.IsScalar()) {
          throw config_error("urls." + u.first.as<std::string>() + " in '" + origin +
                             "' must be a URL");
        }
        set(kUrlPrefix + u.first.as<std::string>(), u.second.as<std::string>(), Source::kFile,
            origin);
      }
      continue;
    }
    if (!item.second.IsScalar() && !item.second.IsNull()) {
      throw config_error("configuration key '" + key + "' in '" + origin +
                         "' must have a single value");
    }
    const std::string value = item.second.IsNull() ? "" : item.second.as<std::string>();
    try {
      spec_of(key);
    } catch (const Error& e) {
      throw config_error(std::string(e.what()) + " (in '" + origin + "')");
    }
    set(key, value, Source::kFile, origin);
  }
}

namespace {

// MSINET_<KEY>, upper case.
std::string environment_name(const std::string& key) {
  std::string name = "MSINET_" + key;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return name;
}

// Variables of the scripts, of `serve` (its token, kept out of --print-config) and the runtime
// plan cache's location, not
// configuration keys.
const char* const kScriptVariables[] = {"MSINET_BUILD_DIR", "MSINET_TOKEN", "MSINET_PLAN_CACHE"};

}  // namespace

std::string closest_key(const std::string& name) {
  std::vector<std::string> keys;
  for (const auto& k : known_keys()) keys.push_back(k.key);
  return util::closest_match(name, keys);
}

void Config::load_environment() {
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry = *e;
    const size_t equals = entry.find('=');
    const std::string name = entry.substr(0, equals);
    if (name.rfind("MSINET_", 0) != 0 || equals == std::string::npos ||
        std::find(std::begin(kScriptVariables), std::end(kScriptVariables), name) !=
            std::end(kScriptVariables)) {
      continue;
    }
    const std::string key = util::to_lower(name.substr(7));
    const auto& keys = known_keys();
    if (name == environment_name(key) &&
        std::any_of(keys.begin(), keys.end(), [&](const KeySpec& k) { return k.key == key; })) {
      set(key, entry.substr(equals + 1), Source::kEnvironment, name);
    } else {
      warnings_.push_back("environment variable " + name +
                          " is not a configuration key and is ignored; did you mean " +
                          environment_name(closest_key(key)) + "?");
    }
  }
}

const std::string& Config::get(const std::string& key) const {
  spec_of(key);
  static const std::string kEmpty;
  const auto it = values_.find(key);
  return it == values_.end() ? kEmpty : it->second.value;
}

std::map<std::string, std::string> Config::urls() const {
  std::map<std::string, std::string> out;
  for (const auto& [key, e] : values_) {
    if (is_url_key(key)) out[key.substr(4)] = e.value;
  }
  return out;
}

int Config::get_int(const std::string& key) const { return std::stoi(get(key)); }

double Config::get_double(const std::string& key) const { return std::stod(get(key)); }

Source Config::source(const std::string& key) const {
  spec_of(key);
  const auto it = values_.find(key);
  return it == values_.end() ? Source::kDefault : it->second.source;
}

std::string Config::describe() const {
  std::ostringstream out;
  for (const auto& k : known_keys()) {
    const Entry& e = values_.at(k.key);
    out << k.key << ": " << (e.value.empty() ? "\"\"" : e.value) << "  # " << source_name(e.source);
    if (!e.origin.empty()) out << " (" << e.origin << ")";
    out << "\n";
  }
  for (const auto& [key, e] : values_) {
    if (is_url_key(key)) {
      out << key << ": " << e.value << "  # " << source_name(e.source);
      if (!e.origin.empty()) out << " (" << e.origin << ")";
      out << "\n";
    }
  }
  return out.str();
}

}  // namespace msinet::config
