#include "msinet/checkpoint/container.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/weights/crc32c.h"

namespace msinet::checkpoint {

namespace {

// Version 2 gives every section header a CRC32C of the section's bytes ("model 1234 9a3f01c2");
// version 1 files (msinet 0.1) have no checksums and are still read.
constexpr const char* kMagic = "MSINET-CHECKPOINT 2\n";
constexpr const char* kMagicV1 = "MSINET-CHECKPOINT 1\n";

std::string hex32(uint32_t value) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", value);
  return text;
}

void put_section(std::string& out, const std::string& name, const std::string& bytes) {
  out += name + " " + std::to_string(bytes.size()) + " " + hex32(weights::crc32c(bytes)) + "\n";
  out += bytes;
  out += "\n";
}

bool starts_with(const std::string& text, const char* prefix) {
  return text.compare(0, std::char_traits<char>::length(prefix), prefix) == 0;
}

std::string encode_meta(const CheckpointMeta& m) {
  YAML::Emitter e;
  e.SetDoublePrecision(17);
  e << YAML::BeginMap;
  e << YAML::Key << "dataset" << YAML::Value << m.dataset;
  e << YAML::Key << "height" << YAML::Value << m.height;
  e << YAML::Key << "width" << YAML::Value << m.width;
  e << YAML::Key << "epochs_done" << YAML::Value << m.epochs_done;
  e << YAML::Key << "step_in_epoch" << YAML::Value << m.step_in_epoch;
  e << YAML::Key << "images_in_epoch" << YAML::Value << m.images_in_epoch;
  e << YAML::Key << "partial_train_sum" << YAML::Value << m.partial_train_sum;
  e << YAML::Key << "best_valid" << YAML::Value << m.best_valid;
  e << YAML::Key << "seed" << YAML::Value << m.seed;
  e << YAML::Key << "train_history" << YAML::Value << YAML::Flow << m.train_history;
  e << YAML::Key << "valid_history" << YAML::Value << YAML::Flow << m.valid_history;
  e << YAML::EndMap;
  return e.c_str();
}

CheckpointMeta decode_meta(const std::string& text, const std::string& origin) {
  try {
    const YAML::Node n = YAML::Load(text);
    CheckpointMeta m;
    m.dataset = n["dataset"].as<std::string>();
    m.height = n["height"].as<int>();
    m.width = n["width"].as<int>();
    m.epochs_done = n["epochs_done"].as<int64_t>();
    m.step_in_epoch = n["step_in_epoch"].as<int64_t>();
    if (n["images_in_epoch"]) m.images_in_epoch = n["images_in_epoch"].as<int64_t>();
    m.partial_train_sum = n["partial_train_sum"].as<double>();
    m.best_valid = n["best_valid"].as<double>();
    m.seed = n["seed"].as<uint64_t>();
    m.train_history = n["train_history"].as<std::vector<double>>();
    m.valid_history = n["valid_history"].as<std::vector<double>>();
    return m;
  } catch (const YAML::Exception& e) {
    throw Error(ErrorCode::kWeights,
                "checkpoint '" + origin + "' has damaged metadata (" + e.what() + ")");
  }
}

}  // namespace

std::string encode_checkpoint(const Checkpoint& ckpt) {
  std::string out = kMagic;
  put_section(out, "meta", encode_meta(ckpt.meta));
  put_section(out, "model", ckpt.model);
  if (!ckpt.optimizer.empty()) put_section(out, "optimizer", ckpt.optimizer);
  out += "end\n";
  return out;
}

Checkpoint decode_checkpoint(const std::string& bytes, const std::string& origin) {
  auto damaged = [&](const std::string& why) {
    return Error(ErrorCode::kWeights, "checkpoint '" + origin +
                                          "' is damaged or not an msinet "
                                          "checkpoint (" +
                                          why + "); retrain or pick another file");
  };
  const bool checksummed = starts_with(bytes, kMagic);
  if (!checksummed && !starts_with(bytes, kMagicV1)) throw damaged("wrong header");
  size_t pos = std::char_traits<char>::length(kMagic);
  Checkpoint ckpt;
  bool have_meta = false, have_model = false, have_end = false;
  while (pos < bytes.size()) {
    const size_t eol = bytes.find('\n', pos);
    if (eol == std::string::npos) throw damaged("truncated section header");
    const std::string header = bytes.substr(pos, eol - pos);
    pos = eol + 1;
    if (header == "end") {
      have_end = true;
      break;
    }
    std::istringstream hs(header);
    std::string name;
    unsigned long long len = 0;
    std::string stored_crc;
    if (!(hs >> name >> len) || (checksummed && !(hs >> stored_crc))) {
      throw damaged("bad section header");
    }
    if (len > bytes.size() - pos || bytes.size() - pos - len < 1 || bytes[pos + len] != '\n') {
      throw damaged("section '" + name + "' is truncated");
    }
    std::string body = bytes.substr(pos, len);
    if (checksummed && stored_crc != hex32(weights::crc32c(body))) {
      throw damaged("section '" + name +
                    "' fails its CRC32C check: the bytes changed after writing");
    }
    pos += len + 1;
    if (name == "meta") {
      ckpt.meta = decode_meta(body, origin);
      have_meta = true;
    } else if (name == "model") {
      ckpt.model = std::move(body);
      have_model = true;
    } else if (name == "optimizer") {
      ckpt.optimizer = std::move(body);
    }
  }
  if (!have_end) throw damaged("truncated: no end marker");
  if (!have_meta || !have_model) throw damaged("missing meta or model section");
  return ckpt;
}

bool looks_like_checkpoint(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(std::char_traits<char>::length(kMagic), '\0');
  if (!in.read(head.data(), static_cast<std::streamsize>(head.size()))) return false;
  return head == kMagic || head == kMagicV1;
}

Checkpoint read_checkpoint(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw Error(ErrorCode::kWeights, "checkpoint '" + path.string() + "' does not exist");
  }
  return decode_checkpoint(util::read_file(path), path.string());
}

CheckpointMeta read_checkpoint_meta(const std::filesystem::path& path) {
  const std::string origin = path.string();
  auto damaged = [&](const std::string& why) {
    return Error(ErrorCode::kWeights, "checkpoint '" + origin +
                                          "' is damaged or not an msinet checkpoint (" + why +
                                          "); retrain or pick another file");
  };
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw Error(ErrorCode::kWeights, "checkpoint '" + origin + "' does not exist");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::kWeights, "checkpoint '" + origin + "' cannot be read");
  std::string magic, header;
  if (!std::getline(in, magic) || !std::getline(in, header)) throw damaged("truncated header");
  magic += "\n";
  const bool checksummed = magic == kMagic;
  if (!checksummed && magic != kMagicV1) throw damaged("wrong header");
  // encode_checkpoint writes the metadata first.
  std::istringstream hs(header);
  std::string name, stored_crc;
  unsigned long long len = 0;
  if (!(hs >> name >> len) || name != "meta" || (checksummed && !(hs >> stored_crc)) ||
      len > (1ull << 26)) {
    throw damaged("bad metadata section header");
  }
  std::string body(len, '\0');
  if (!in.read(body.data(), static_cast<std::streamsize>(len))) {
    throw damaged("section 'meta' is truncated");
  }
  if (checksummed && stored_crc != hex32(weights::crc32c(body))) {
    throw damaged("section 'meta' fails its CRC32C check: the bytes changed after writing");
  }
  return decode_meta(body, origin);
}

void write_checkpoint(const std::filesystem::path& path, const Checkpoint& ckpt) {
  util::write_file_atomic(path, encode_checkpoint(ckpt));
}

}  // namespace msinet::checkpoint
