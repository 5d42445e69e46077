#include "msinet/weights/published.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <system_error>

#include "msinet/fetch/archive.h"
#include "msinet/fetch/checksums.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/weights/readers.h"

namespace msinet::weights {
namespace {

namespace fs = std::filesystem;

using util::ScratchDir;

std::string base_name(const std::string& entry) {
  const size_t slash = entry.find_last_of("/\\");
  return slash == std::string::npos ? entry : entry.substr(slash + 1);
}

// A failure of one source (network, damaged file) that another source may not have.
bool is_source_failure(const Error& e) {
  return e.code() == ErrorCode::kNetwork || e.code() == ErrorCode::kData ||
         e.code() == ErrorCode::kWeights;
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

bool has_weight_named(const WeightFile& file, const std::string& suffix) {
  return std::any_of(file.tensors.begin(), file.tensors.end(), [&](const auto& kv) {
    const std::string& n = kv.first;
    return n.size() >= suffix.size() &&
           n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0;
  });
}

// Downloads a zip from Drive, extracts the entries whose base name `keep` accepts into a
// scratch folder, checks them with `verify`, and moves them into `weights_dir`.
template <typename Keep, typename Verify>
void fetch_zip(const std::string& gdrive_id, const fs::path& weights_dir, const std::string& stem,
               const fetch::DownloadOptions& options, Keep keep, Verify verify) {
  const fs::path zip = weights_dir / (stem + ".zip");
  fetch::download(fetch::Source{"", gdrive_id}, zip, options);
  ScratchDir scratch(weights_dir / stem);
  std::vector<std::string> kept;
  try {
    fetch::extract_zip(zip, scratch.path(), [&](const std::string& entry) -> std::string {
      const std::string name = base_name(entry);
      if (name.empty() || !keep(name)) return {};
      if (std::find(kept.begin(), kept.end(), name) != kept.end()) return {};
      kept.push_back(name);
      return name;
    });
    if (kept.empty()) {
      throw Error(ErrorCode::kData,
                  "archive '" + zip.string() + "' holds none of the expected " + stem + " files");
    }
    verify(scratch.path());
  } catch (const Error&) {
    remove_quietly(zip);  // a damaged archive is fetched afresh next time
    throw;
  }
  // The archive is deleted below; the checksums of what it held let `msinet models verify`
  // check the files later.
  for (const std::string& name : kept) {
    const std::string sha = fetch::sha256_file(scratch.path() / name);
    util::rename_replace(scratch.path() / name, weights_dir / name);
    fetch::record_local_checksum(fetch::member_checksum_key(fetch::Source{"", gdrive_id}, name),
                                 weights_dir / name, sha);
  }
  remove_quietly(zip);
}

// What to do when no source could be reached, for the end of a download error.
std::string offline_hint(const std::string& model, const fs::path& weights_dir) {
  return "Without internet access here, run `msinet models fetch " + model +
         "` on a machine that has it and copy its weights folder into '" + weights_dir.string() +
         "/', or point MSINET_MIRROR at a copy (README \"Machines without internet\").";
}

}  // namespace

const std::vector<PublishedModel>& published_models() {
  // ref: saliency/download.py download_pretrained_weights (ids)
  static const std::vector<PublishedModel> kModels = {
      {"salicon", "1Xy9C72pcA8DO4CY0rc6B7wsuE9L9DDZY", "1Th7fqVYx25ePMZz4LYsjNQWgAu8tJqwL"},
      {"mit1003", "1jsESjYtsTvkMqKftA4rdstfB7mSYw5Ec", "1P_tWxBl3igZlzcHGp5H3T3kzsOskWeG6"},
      {"cat2000", "1XxaEx7xxD6rHasQTa-VY7T7eVpGhMxuV", "1T6ChEGB6Mf02gKXrENjdeD6XXJkE_jHh"},
      {"dutomron", "14tuRZpKi8LMDKRHNVUylu6RuAaXLjHTa", "15LG_M45fpYC1pTwnwmArNTZw_Z3BOIA-"},
      {"pascals", "1af9IvBqFamKWx64Ror6ALivuKNioOVIf", "1C-T-RQzX2SaiY9Nw1HmaSx6syyCt01Z0"},
      {"osie", "1JD1tvAqZGxj_gEGmIfoxb9dTe5HOaHj1", "1g8UPr1hGpUdOSWerRb751pZqiWBOZOCh"},
      {"fiwi", "19qj9nAjd5gVHLB71oRn_YfYDw5n4Uf2X", "12OpIMIi2IyDVaxkE2d37XO9uUsSYf1Ec"},
  };
  return kModels;
}

const PublishedModel& published_model(const std::string& dataset) {
  for (const PublishedModel& m : published_models()) {
    if (m.dataset == dataset) return m;
  }
  std::string known;
  for (const PublishedModel& m : published_models())
    known += (known.empty() ? "" : ", ") + m.dataset;
  throw Error(ErrorCode::kConfig,
              "no published MSI-Net weights for dataset '" + dataset + "' (known: " + known + ")");
}

const std::vector<PublishedFile>& huggingface_salicon_files() {
  static const std::string kBase = "https://huggingface.co/alexanderkroner/MSI-Net/resolve/main/";
  static const std::vector<PublishedFile> kFiles = {
      {kBase + "saved_model.pb", "saved_model.pb"},
      {kBase + "variables/variables.index", "variables/variables.index"},
      {kBase + "variables/variables.data-00000-of-00001",
       "variables/variables.data-00000-of-00001"},
  };
  return kFiles;
}

const std::vector<PublishedTfjsModel>& published_tfjs_models() {
  // ref: saliency/demo/index.js app (model URLs and input sizes)
  static const std::string kBase = "https://storage.googleapis.com/msi-net/model/";
  static const std::vector<PublishedTfjsModel> kModels = {
      {"very_low", kBase + "very_low/model.json", 48, 64},
      {"low", kBase + "low/model.json", 72, 96},
      {"medium", kBase + "medium/model.json", 120, 160},
      {"high", kBase + "high/model.json", 168, 224},
      {"very_high", kBase + "very_high/model.json", 240, 320},
  };
  return kModels;
}

std::string gdrive_url(const std::string& id) {
  return "https://drive.google.com/uc?id=" + id + "&export=download";
}

fs::path ensure_published_model(const std::string& dataset, const fs::path& weights_dir,
                                const fetch::DownloadOptions& user_options) {
  fetch::DownloadOptions options = user_options;
  options.expected_sha256.clear();  // several files: their checksums come from the registry
  const PublishedModel& model = published_model(dataset);
  const std::string cpu = "model_" + dataset + "_cpu";
  const std::string gpu = "model_" + dataset + "_gpu";
  const fs::path hf_dir = weights_dir / ("msinet_" + dataset + "_savedmodel");
  std::error_code ec;
  for (const std::string& stem : {cpu, gpu}) {
    if (fs::is_regular_file(weights_dir / (stem + ".pb"), ec)) return weights_dir / (stem + ".pb");
  }
  if (fs::is_regular_file(hf_dir / "saved_model.pb", ec)) return hf_dir;

  std::vector<std::string> failures;
  std::vector<ErrorCode> codes;
  for (const auto& source :
       {std::pair{cpu, model.cpu_gdrive_id}, std::pair{gpu, model.gpu_gdrive_id}}) {
    const std::string& stem = source.first;
    const std::string& id = source.second;  // a plain reference: lambdas below capture it
    const std::string file = stem + ".pb";
    try {
      fetch_zip(
          id, weights_dir, stem, options, [&](const std::string& name) { return name == file; },
          [&](const fs::path& dir) {
            const WeightFile w = read_frozen_graph(dir / file);
            if (!has_weight_named(w, "conv1/conv1_1/kernel")) {
              throw Error(ErrorCode::kData, "'" + file + "' from Google Drive id " + id +
                                                " holds no MSI-Net weights");
            }
          });
      return weights_dir / file;
    } catch (const Error& e) {
      if (!is_source_failure(e)) throw;
      codes.push_back(e.code());
      spdlog::warn("published {} model: {}", dataset, e.what());
      failures.push_back(file + " (" + gdrive_url(id) + "): " + e.what());
    }
  }
  if (dataset == "salicon") {
    try {
      ScratchDir scratch(weights_dir / hf_dir.filename());
      for (const PublishedFile& f : huggingface_salicon_files()) {
        fetch::download(fetch::Source{f.url, ""}, scratch.path() / f.relative_path, options);
      }
      const WeightFile w = read_saved_model(scratch.path());
      if (!has_weight_named(w, "conv1/conv1_1/kernel")) {
        throw Error(ErrorCode::kData, "the HuggingFace SavedModel holds no MSI-Net weights");
      }
      fs::remove_all(hf_dir, ec);
      util::rename_replace(scratch.path(), hf_dir);
      return hf_dir;
    } catch (const Error& e) {
      if (!is_source_failure(e)) throw;
      codes.push_back(e.code());
      failures.push_back("HuggingFace SavedModel: " + std::string(e.what()));
    }
  }
  std::string msg = "cannot download the published MSI-Net weights for '" + dataset + "':";
  for (const std::string& f : failures) msg += "\n  " + f;
  msg += "\nDownload " + gdrive_url(model.cpu_gdrive_id) + " by hand, unzip it and put " + cpu +
         ".pb into '" + weights_dir.string() + "/'";
  if (dataset == "salicon") {
    msg +=
        ", or put the HuggingFace SavedModel (https://huggingface.co/alexanderkroner/MSI-Net: "
        "saved_model.pb and variables/) into '" +
        hf_dir.string() + "/'";
  }
  msg += ".\n" + offline_hint(dataset, weights_dir);
  const bool corrupt =
      !failures.empty() && std::all_of(failures.begin(), failures.end(), [](const std::string& f) {
        return f.find("archive") != std::string::npos || f.find("corrupt") != std::string::npos;
      });
  throw Error(corrupt ? ErrorCode::kData : ErrorCode::kNetwork, msg);
}

fs::path ensure_vgg16_checkpoint(const fs::path& weights_dir,
                                 const fetch::DownloadOptions& user_options) {
  fetch::DownloadOptions options = user_options;
  options.expected_sha256.clear();
  const std::string stem = "vgg16_hybrid.ckpt";
  const fs::path prefix = weights_dir / stem;
  const std::string index = stem + ".index";
  const std::string data_file = stem + ".data-00000-of-00001";
  std::error_code ec;
  if (fs::is_regular_file(weights_dir / index, ec) &&
      fs::is_regular_file(weights_dir / data_file, ec)) {
    return prefix;
  }
  try {
    // ref: saliency/model.py restore (weights/vgg16_hybrid.ckpt after unzipping into weights/)
    fetch_zip(
        kVgg16HybridGdriveId, weights_dir, "vgg16_hybrid", options,
        [&](const std::string& name) { return name == index || name == data_file; },
        [&](const fs::path& dir) {
          const WeightFile w = read_checkpoint(dir / stem);
          if (!w.tensors.count("conv1_1/weights")) {
            throw Error(ErrorCode::kData, "the vgg16_hybrid checkpoint holds no 'conv1_1/weights'");
          }
        });
  } catch (const Error& e) {
    if (!is_source_failure(e)) throw;
    throw Error(e.code(), "cannot download the VGG16 initialisation (vgg16_hybrid): " +
                              std::string(e.what()) + "\nDownload " +
                              gdrive_url(kVgg16HybridGdriveId) + " by hand, unzip it and put " +
                              index + " and " + data_file + " into '" + weights_dir.string() +
                              "/'.\n" + offline_hint(kVgg16HybridName, weights_dir));
  }
  return prefix;
}

}  // namespace msinet::weights

namespace msinet::weights {

std::vector<std::string> published_model_names() {
  std::vector<std::string> names;
  for (const PublishedModel& m : published_models()) names.push_back(m.dataset);
  names.push_back(kVgg16HybridName);
  return names;
}

std::vector<PublishedLocalFile> published_local_files(const std::string& model) {
  const auto from_drive = [&](const std::string& id, const std::string& member) {
    return PublishedLocalFile{model, member,
                              fetch::member_checksum_key(fetch::Source{"", id}, member),
                              "Google Drive " + id + " (zip)"};
  };
  std::vector<PublishedLocalFile> files;
  if (model == kVgg16HybridName) {
    files.push_back(from_drive(kVgg16HybridGdriveId, "vgg16_hybrid.ckpt.index"));
    files.push_back(from_drive(kVgg16HybridGdriveId, "vgg16_hybrid.ckpt.data-00000-of-00001"));
    return files;
  }
  const PublishedModel& m = published_model(model);
  files.push_back(from_drive(m.cpu_gdrive_id, "model_" + model + "_cpu.pb"));
  files.push_back(from_drive(m.gpu_gdrive_id, "model_" + model + "_gpu.pb"));
  if (model == "salicon") {
    for (const PublishedFile& f : huggingface_salicon_files()) {
      files.push_back(PublishedLocalFile{model, "msinet_salicon_savedmodel/" + f.relative_path,
                                         fetch::checksum_key(fetch::Source{f.url, ""}), f.url});
    }
  }
  return files;
}

}  // namespace msinet::weights
