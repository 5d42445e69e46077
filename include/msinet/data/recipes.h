#pragma once
// Dataset preparation: download the original archives, unpack and convert them as the original
// download.py did, into <data>/<name>/{stimuli,saliency,fixations}/ (reference semantics, sec. 5).
//
// Everything happens in a temporary folder beside the target, <data>/.<name>.tmp-XXXXXX, renamed
// to <data>/<name> only when the whole recipe succeeded; an interrupted or failed run leaves no
// half dataset, and the next run removes stale temporary folders and resumes the downloads kept
// in <data>/downloads/.

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "msinet/fetch/archive.h"
#include "msinet/fetch/download.h"

namespace msinet::data {

namespace fs = std::filesystem;

/// One archive a dataset is made from.
struct DatasetSource {
  std::string key;        ///< "<dataset>.<part>", e.g. "mit1003.stimuli"; used for URL overrides
  fetch::Source source;   ///< where it comes from
  std::string file_name;  ///< its name in the downloads folder
  uint64_t bytes = 0;     ///< size of the archive with the known checksum; 0: not known
};

/// How prepare_dataset fetches and converts.
struct PrepareOptions {
  fetch::DownloadOptions download;  ///< timeouts, retries, size cap, mirror (empty: none)
  fetch::ExtractLimits extract;     ///< bounds on every archive's unpacked size and entry count
  fs::path downloads_dir;           ///< where archives are kept; empty: <data_root>/downloads
  bool keep_archives = false;       ///< keep the archives after a successful preparation
  std::map<std::string, std::string> urls;  ///< source key -> URL replacing the built-in source
  int threads = 0;                          ///< conversion threads; 0: one per core
  std::function<bool()> cancelled;  ///< polled between steps; empty: util::interrupt_requested
};

/// The archives of built-in dataset `name`; Error(kUsage) for an unknown name.
std::vector<DatasetSource> dataset_sources(const std::string& name);

/// One archive prepare_dataset would fetch, as it would fetch it.
struct PlannedDownload {
  std::string key;             ///< source key ("mit1003.stimuli")
  std::string url;             ///< the URL fetched: the `urls` override or the source, mirrored
  fs::path file;               ///< where it is kept: <downloads>/<file_name>
  uint64_t bytes = 0;          ///< expected size; 0: not known in advance
  bool present = false;        ///< `file` exists (reused when its checksum matches)
  uint64_t partial_bytes = 0;  ///< bytes of an interrupted `file`.part that would be resumed
};

/// What prepare_dataset(name, data_root, options) would do, found without writing anything.
struct PreparationPlan {
  fs::path target;                        ///< <data_root>/<name>
  bool ready = false;                     ///< already prepared: nothing is fetched
  fs::path downloads;                     ///< the downloads folder
  std::vector<PlannedDownload> archives;  ///< empty when ready
};

/// The plan of prepare_dataset for built-in dataset `name`; the same errors for an unknown
/// name, a `urls` key that names no source and a bad mirror.
PreparationPlan plan_preparation(const std::string& name, const fs::path& data_root,
                                 const PrepareOptions& options = {});

/// True when `dataset_dir` holds stimuli/ and saliency/ folders.
bool dataset_ready(const fs::path& dataset_dir);

/// True when `<data_root>/<name>` holds stimuli/ and saliency/ folders.
bool dataset_ready(const std::string& name, const fs::path& data_root);

/// Downloads and converts built-in dataset `name` into `<data_root>/<name>` and returns that
/// folder; does nothing when it is already ready. Before it is renamed into place, the prepared
/// folder is checked: every stimulus has its saliency map (and its fixation map where the recipe
/// makes them). Errors: kUsage (unknown name), kConfig (a `urls` key that names no source),
/// kNetwork (download; another process preparing the same dataset), kData (corrupt or
/// unexpected archive content, a failed check; a corrupt archive is removed so the next run
/// downloads it afresh), kIo, kInterrupted (cancelled; nothing is left but the kept downloads).
fs::path prepare_dataset(const std::string& name, const fs::path& data_root,
                         const PrepareOptions& options = {});

}  // namespace msinet::data
