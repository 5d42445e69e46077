#include <yaml-cpp/yaml.h>

#include <cmath>
#include <limits>
#include <set>

#include "msinet/calibration/calibration.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"

namespace msinet::calibration {

namespace fs = std::filesystem;

namespace {

Error bad(const std::string& what, const std::string& key, const std::string& why) {
  return Error(ErrorCode::kInput, what + ": key '" + key + "' " + why);
}

std::vector<double> knots(int n, double first, double last) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[i] = first + (last - first) * i / (n - 1);
  return v;
}

// The scalar at `node[key]` as T; Error naming the file and key when it is missing or not a T.
template <typename T>
T scalar(const YAML::Node& node, const std::string& key, const std::string& prefix,
         const std::string& what) {
  const YAML::Node v = node[key];
  if (!v) throw bad(what, prefix + key, "is missing");
  if (!v.IsScalar()) throw bad(what, prefix + key, "must be a single value");
  try {
    return v.as<T>();
  } catch (const YAML::Exception&) {
    throw bad(what, prefix + key,
              "has the value '" + v.Scalar() + "', which is not " +
                  (std::is_same_v<T, std::string> ? "text" : "a number of the right kind"));
  }
}

std::vector<double> number_list(const YAML::Node& node, const std::string& key,
                                const std::string& what) {
  const YAML::Node v = node[key];
  if (!v) throw bad(what, key, "is missing");
  if (!v.IsSequence()) throw bad(what, key, "must be a list of numbers");
  std::vector<double> out;
  for (size_t i = 0; i < v.size(); ++i) {
    try {
      out.push_back(v[i].as<double>());
    } catch (const YAML::Exception&) {
      throw bad(what, key,
                "has an item (number " + std::to_string(i + 1) + ") that is not a number");
    }
  }
  return out;
}

// Every key of the mapping `node` must be one of `known`.
void only_keys(const YAML::Node& node, const std::set<std::string>& known,
               const std::string& prefix, const std::string& what) {
  for (const auto& item : node) {
    const std::string key = item.first.IsScalar() ? item.first.Scalar() : "?";
    if (!known.count(key)) throw bad(what, prefix + key, "is not a calibration key");
  }
}

}  // namespace

Calibration identity_calibration() {
  Calibration c;
  c.blur = 0;
  c.nonlinearity = knots(kNonlinearityKnots, 0, 1);
  c.centre_bias = std::vector<double>(kCentreBiasKnots, 1.0);
  c.uniform_weight = kIdentityUniformWeight;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  c.provenance.train_ig_before = c.provenance.train_ig_after = nan;
  c.provenance.val_ig_before = c.provenance.val_ig_after = nan;
  return c;
}

void validate(const Calibration& c, const std::string& what) {
  if (!(c.blur >= 0 && c.blur <= 1)) {
    throw bad(what, "blur", "must be in [0, 1] (a fraction of the image's shorter side)");
  }
  if (c.nonlinearity.size() < 2) throw bad(what, "nonlinearity", "needs at least 2 values");
  double top = 0;
  for (size_t i = 0; i < c.nonlinearity.size(); ++i) {
    const double v = c.nonlinearity[i];
    if (!std::isfinite(v) || v < 0) {
      throw bad(what, "nonlinearity", "must hold finite values >= 0");
    }
    if (i > 0 && v < c.nonlinearity[i - 1]) {
      throw bad(
          what, "nonlinearity",
          "must be nondecreasing (value " + std::to_string(i + 1) + " is below the one before)");
    }
    top = std::max(top, v);
  }
  if (!(top > 0)) throw bad(what, "nonlinearity", "must not be 0 everywhere");
  if (c.centre_bias.size() < 2) throw bad(what, "centre_bias", "needs at least 2 values");
  for (const double v : c.centre_bias) {
    if (!std::isfinite(v) || !(v > 0)) {
      throw bad(what, "centre_bias", "must hold finite values > 0");
    }
  }
  if (!(c.uniform_weight > 0 && c.uniform_weight <= 1)) {
    throw bad(what, "uniform_weight", "must be in (0, 1]");
  }
}

Calibration read_calibration(const fs::path& path) {
  const std::string what = "calibration file '" + path.string() + "'";
  const std::string text = util::read_file(path);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(ErrorCode::kInput, what + " is not valid YAML: " + e.what());
  }
  if (!root.IsMap()) {
    throw Error(ErrorCode::kInput,
                what +
                    " must be a YAML mapping (version, blur, nonlinearity, centre_bias, "
                    "uniform_weight); write one with `msinet calibrate`");
  }
  only_keys(root,
            {"version", "blur", "nonlinearity", "centre_bias", "uniform_weight", "fitted_on",
             "information_gain"},
            "", what);
  const int version = scalar<int>(root, "version", "", what);
  if (version != kCalibrationVersion) {
    throw bad(what, "version",
              "is " + std::to_string(version) + ", but this msinet reads version " +
                  std::to_string(kCalibrationVersion) + "; fit it again with `msinet calibrate`");
  }
  Calibration c = identity_calibration();
  c.blur = scalar<double>(root, "blur", "", what);
  c.nonlinearity = number_list(root, "nonlinearity", what);
  c.centre_bias = number_list(root, "centre_bias", what);
  c.uniform_weight = scalar<double>(root, "uniform_weight", "", what);
  validate(c, what);
  Provenance& p = c.provenance;
  if (const YAML::Node f = root["fitted_on"]) {
    if (!f.IsMap()) throw bad(what, "fitted_on", "must be a mapping");
    const std::string pre = "fitted_on.";
    only_keys(f,
              {"source", "train_images", "train_fixations", "val_images", "val_fixations", "seed",
               "fit_size", "steps"},
              pre, what);
    if (f["source"]) p.source = scalar<std::string>(f, "source", pre, what);
    if (f["train_images"]) p.train_images = scalar<long long>(f, "train_images", pre, what);
    if (f["train_fixations"])
      p.train_fixations = scalar<long long>(f, "train_fixations", pre, what);
    if (f["val_images"]) p.val_images = scalar<long long>(f, "val_images", pre, what);
    if (f["val_fixations"]) p.val_fixations = scalar<long long>(f, "val_fixations", pre, what);
    if (f["seed"]) p.seed = scalar<unsigned long long>(f, "seed", pre, what);
    if (f["fit_size"]) p.fit_size = scalar<int>(f, "fit_size", pre, what);
    if (f["steps"]) p.steps = scalar<int>(f, "steps", pre, what);
  }
  if (const YAML::Node g = root["information_gain"]) {
    if (!g.IsMap()) throw bad(what, "information_gain", "must be a mapping");
    const std::string pre = "information_gain.";
    only_keys(g, {"train_before", "train_after", "val_before", "val_after"}, pre, what);
    if (g["train_before"]) p.train_ig_before = scalar<double>(g, "train_before", pre, what);
    if (g["train_after"]) p.train_ig_after = scalar<double>(g, "train_after", pre, what);
    if (g["val_before"]) p.val_ig_before = scalar<double>(g, "val_before", pre, what);
    if (g["val_after"]) p.val_ig_after = scalar<double>(g, "val_after", pre, what);
  }
  return c;
}

void write_calibration(const fs::path& path, const Calibration& c) {
  validate(c, "calibration for '" + path.string() + "'");
  const Provenance& p = c.provenance;
  YAML::Emitter out;
  out.SetDoublePrecision(17);
  out << YAML::Comment(
      "msinet calibration: log p = log((1 - w) q / sum q + w / N), q = f(blur(map)) c(d); see "
      "README \"Calibration file\"");
  out << YAML::BeginMap;
  out << YAML::Key << "version" << YAML::Value << kCalibrationVersion;
  out << YAML::Key << "blur" << YAML::Value << c.blur
      << YAML::Comment("Gaussian sigma / min(height, width)");
  out << YAML::Key << "nonlinearity" << YAML::Value << YAML::Flow << c.nonlinearity
      << YAML::Comment("f at map values 0 .. 1, equally spaced");
  out << YAML::Key << "centre_bias" << YAML::Value << YAML::Flow << c.centre_bias
      << YAML::Comment("c at distances 0 .. 1 from the centre, equally spaced");
  out << YAML::Key << "uniform_weight" << YAML::Value << c.uniform_weight;
  out << YAML::Key << "fitted_on" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "source" << YAML::Value << p.source;
  out << YAML::Key << "train_images" << YAML::Value << p.train_images;
  out << YAML::Key << "train_fixations" << YAML::Value << p.train_fixations;
  out << YAML::Key << "val_images" << YAML::Value << p.val_images;
  out << YAML::Key << "val_fixations" << YAML::Value << p.val_fixations;
  out << YAML::Key << "seed" << YAML::Value << p.seed;
  out << YAML::Key << "fit_size" << YAML::Value << p.fit_size;
  out << YAML::Key << "steps" << YAML::Value << p.steps;
  out << YAML::EndMap;
  out << YAML::Key << "information_gain" << YAML::Value << YAML::BeginMap;
  out << YAML::Comment("bits per fixation over the uniform density, at the fitting resolution");
  out << YAML::Key << "train_before" << YAML::Value << p.train_ig_before;
  out << YAML::Key << "train_after" << YAML::Value << p.train_ig_after;
  out << YAML::Key << "val_before" << YAML::Value << p.val_ig_before;
  out << YAML::Key << "val_after" << YAML::Value << p.val_ig_after;
  out << YAML::EndMap;
  out << YAML::EndMap;
  if (!out.good()) {
    throw Error(ErrorCode::kInternal, "calibration: cannot write YAML: " + out.GetLastError());
  }
  util::write_file_atomic(path, std::string(out.c_str()) + "\n");
}

}  // namespace msinet::calibration
