// The YAML file of an Int8Calibration (int8_calibration.h).
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "msinet/runtime/int8_calibration.h"
#include "msinet/util/error.h"

namespace msinet::runtime {
namespace {

constexpr const char* kFormat = "msinet-int8-calibration 1";

Error malformed(const std::filesystem::path& path, const std::string& what) {
  return Error(ErrorCode::kInput, "int8 calibration " + path.string() + ": " + what +
                                      "; measure it again with `msinet bench --calibrate-int8 "
                                      "DIR --weights FILE --int8-calibration " +
                                      path.string() + "`");
}

}  // namespace

void write_int8_calibration(const Int8Calibration& calibration, const std::filesystem::path& path) {
  YAML::Emitter out;
  out.SetDoublePrecision(9);
  out << YAML::BeginMap;
  out << YAML::Key << "format" << YAML::Value << kFormat;
  out << YAML::Key << "weights_fingerprint" << YAML::Value << calibration.fingerprint;
  out << YAML::Key << "quantile" << YAML::Value << calibration.quantile;
  out << YAML::Key << "images" << YAML::Value << calibration.images;
  out << YAML::Key << "input_range" << YAML::Value << YAML::BeginMap;
  for (size_t i = 0; i < model::kLayers.size(); ++i) {
    if (calibration.input_range[i] <= 0) continue;
    out << YAML::Key << model::module_path(model::kLayers[i]) << YAML::Value
        << calibration.input_range[i];
  }
  out << YAML::EndMap << YAML::EndMap;
  // Written beside and renamed, so that a reader never sees half a file.
  const std::filesystem::path partial = path.string() + ".partial";
  {
    std::ofstream file(partial, std::ios::binary | std::ios::trunc);
    file << out.c_str() << "\n";
    if (!file.flush()) {
      throw Error(ErrorCode::kIo, "cannot write the int8 calibration " + partial.string() +
                                      ": check that its folder exists and is writable");
    }
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec) {
    throw Error(ErrorCode::kIo,
                "cannot write the int8 calibration " + path.string() + ": " + ec.message());
  }
}

Int8Calibration read_int8_calibration(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text_stream;
  if (!file || !(text_stream << file.rdbuf())) {
    throw Error(ErrorCode::kInput, "int8 calibration " + path.string() +
                                       " cannot be read: give a file written by `msinet bench "
                                       "--calibrate-int8`");
  }
  const std::string text = text_stream.str();
  Int8Calibration c;
  c.source = path.string();
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) throw malformed(path, "not a YAML mapping");
    if (!root["format"] || root["format"].as<std::string>() != kFormat) {
      throw malformed(path, std::string("no 'format: ") + kFormat + "'");
    }
    if (!root["weights_fingerprint"]) throw malformed(path, "no weights_fingerprint");
    c.fingerprint = root["weights_fingerprint"].as<std::string>();
    if (root["quantile"]) c.quantile = root["quantile"].as<double>();
    if (root["images"]) c.images = root["images"].as<int>();
    const YAML::Node ranges = root["input_range"];
    if (!ranges || !ranges.IsMap()) throw malformed(path, "no input_range mapping");
    for (const auto& item : ranges) {
      const std::string name = item.first.as<std::string>();
      size_t row = model::kLayers.size();
      for (size_t i = 0; i < model::kLayers.size(); ++i) {
        if (model::module_path(model::kLayers[i]) == name) row = i;
      }
      if (row == model::kLayers.size()) throw malformed(path, "unknown layer '" + name + "'");
      const double v = item.second.as<double>();
      if (!(std::isfinite(v) && v > 0)) {
        throw malformed(path, "input_range of " + name + " must be a positive number");
      }
      c.input_range[row] = v;
    }
  } catch (const YAML::Exception& e) {
    throw malformed(path, std::string("not valid YAML (") + e.what() + ")");
  }
  return c;
}

}  // namespace msinet::runtime
