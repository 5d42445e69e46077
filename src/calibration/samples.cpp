// The fitting samples of map files in folders.
#include <spdlog/spdlog.h>

#include "msinet/calibration/fit.h"
#include "msinet/eval/evaluate.h"
#include "msinet/eval/map_io.h"
#include "msinet/util/error.h"

namespace msinet::calibration {

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> maps_in(const fs::path& dir, const std::string& what) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(ErrorCode::kInput, "calibrate: the " + what + " folder '" + dir.string() +
                                       "' does not exist or is not a folder");
  }
  std::vector<fs::path> files = eval::list_maps(dir);
  if (files.empty()) {
    throw Error(ErrorCode::kInput, "calibrate: no .png, .jpg, .jpeg or .npy maps in the " + what +
                                       " folder '" + dir.string() + "'");
  }
  return files;
}

}  // namespace

std::vector<FitSample> read_samples(const fs::path& pred_dir, const fs::path& fixations_dir,
                                    int fit_size) {
  const std::vector<fs::path> preds = maps_in(pred_dir, "predictions");
  const std::vector<fs::path> fixations = maps_in(fixations_dir, "fixations");
  std::vector<std::string> pred_keys, fixation_keys;
  for (const fs::path& p : preds) pred_keys.push_back(eval::map_key(p, pred_dir));
  for (const fs::path& f : fixations) fixation_keys.push_back(eval::map_key(f, fixations_dir));
  const std::vector<int> match = eval::match_keys(pred_keys, fixation_keys);
  std::vector<std::string> unmatched;
  for (size_t i = 0; i < fixations.size(); ++i) {
    if (match[i] < 0) unmatched.push_back(fixations[i].string());
  }
  if (!unmatched.empty()) {
    std::string message = "calibrate: " + std::to_string(unmatched.size()) + " of " +
                          std::to_string(fixations.size()) +
                          " fixation map(s) have no prediction of the same name in '" +
                          pred_dir.string() + "':";
    for (size_t i = 0; i < unmatched.size() && i < 20; ++i) message += "\n  " + unmatched[i];
    if (unmatched.size() > 20) {
      message += "\n  ... and " + std::to_string(unmatched.size() - 20) + " more";
    }
    throw Error(ErrorCode::kInput, message);
  }
  if (preds.size() > fixations.size()) {
    spdlog::info("calibrate: {} prediction(s) in '{}' have no fixation map and are not used",
                 preds.size() - fixations.size(), pred_dir.string());
  }
  std::vector<FitSample> samples;
  size_t total = 0;
  for (size_t i = 0; i < fixations.size(); ++i) {
    const fs::path& pred = preds[static_cast<size_t>(match[i])];
    samples.push_back(make_sample(fixation_keys[i], eval::read_map(pred),
                                  eval::read_map(fixations[i]), fit_size));
    total += samples.back().fixations.size();
  }
  if (total == 0) {
    throw Error(ErrorCode::kInput, "calibrate: the fixation maps in '" + fixations_dir.string() +
                                       "' hold no fixations (no nonzero pixel)");
  }
  return samples;
}

}  // namespace msinet::calibration
