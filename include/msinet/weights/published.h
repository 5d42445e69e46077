#pragma once
// Where the official MSI-Net weights live, and their download on first use: the frozen
// GraphDefs per dataset (zipped on Google Drive), the SALICON SavedModel on HuggingFace as a
// second source, the TF.js browser models, and the vgg16_hybrid checkpoint for training.

#include <filesystem>
#include <string>
#include <vector>

#include "msinet/fetch/download.h"

namespace msinet::weights {

/// The published frozen models of one dataset: Google Drive ids of the zipped
/// `model_<dataset>_cpu.pb` (NHWC) and `model_<dataset>_gpu.pb` (NCHW); kernels are HWIO in both.
struct PublishedModel {
  std::string dataset;
  std::string cpu_gdrive_id;
  std::string gpu_gdrive_id;
};

/// One TF.js graph model of the SALICON weights for a fixed input size.
struct PublishedTfjsModel {
  std::string name;  ///< "very_low" ... "very_high"
  std::string url;   ///< the model.json
  int height = 0;
  int width = 0;
};

/// One file of the HuggingFace SavedModel: its URL and its path inside the model folder.
struct PublishedFile {
  std::string url;
  std::string relative_path;
};

/// The seven datasets with published weights, in the original order.
const std::vector<PublishedModel>& published_models();

/// The entry for `dataset`; throws Error(kConfig) listing the known datasets.
const PublishedModel& published_model(const std::string& dataset);

/// Google Drive id of the zipped `vgg16_hybrid.ckpt` (checkpoint V2: .index + .data file at the
/// archive's top level), the encoder initialisation for SALICON training.
inline constexpr const char* kVgg16HybridGdriveId = "1ff0va472Xs1bvidCwRlW3Ctf7Hbyyn7p";

/// The name of the VGG16 initialisation among the published models (`msinet models`).
inline constexpr const char* kVgg16HybridName = "vgg16_hybrid";

/// One file of the published weights as it lies in the weights folder once downloaded.
struct PublishedLocalFile {
  std::string model;         ///< a dataset, or kVgg16HybridName
  std::string path;          ///< relative to the weights folder
  std::string checksum_key;  ///< its key in configs/checksums.yaml and checksums.local.yaml
  std::string source;        ///< where it comes from: a URL, or "Google Drive <id> (zip)"
};

/// The seven datasets, then kVgg16HybridName.
std::vector<std::string> published_model_names();

/// Every file that downloading `model` (a dataset or kVgg16HybridName) can leave in the weights
/// folder: for a dataset the CPU and GPU graphs (one is enough) and, for salicon, the
/// HuggingFace SavedModel; throws Error(kConfig) for an unknown name.
std::vector<PublishedLocalFile> published_local_files(const std::string& model);

/// The files of the SALICON SavedModel on HuggingFace (alexanderkroner/MSI-Net).
const std::vector<PublishedFile>& huggingface_salicon_files();

/// The five TF.js SALICON models of the browser demo.
const std::vector<PublishedTfjsModel>& published_tfjs_models();

/// The Google Drive download URL of an id.
std::string gdrive_url(const std::string& id);

/// The published model for `dataset`, downloaded and unzipped into `weights_dir` on first use;
/// returns `<weights_dir>/model_<dataset>_cpu.pb` (or `_gpu.pb` when only that source answered,
/// or, for salicon, the folder `<weights_dir>/msinet_salicon_savedmodel` fetched from
/// HuggingFace when Google Drive fails). An existing file is reused without a download. The
/// extracted graph is checked to be readable before it is kept. Checksums come from the
/// downloader's registry (options.expected_sha256 is ignored). A failed download is an Error
/// (kNetwork or kData) that says which file to download by hand and where to put it.
std::filesystem::path ensure_published_model(const std::string& dataset,
                                             const std::filesystem::path& weights_dir,
                                             const fetch::DownloadOptions& options = {});

/// The vgg16_hybrid checkpoint, downloaded and unzipped into `weights_dir` on first use;
/// returns the prefix `<weights_dir>/vgg16_hybrid.ckpt` (keys conv1_1/weights, ...).
std::filesystem::path ensure_vgg16_checkpoint(const std::filesystem::path& weights_dir,
                                              const fetch::DownloadOptions& options = {});

}  // namespace msinet::weights
