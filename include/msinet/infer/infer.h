#pragma once
// The `test` job: saliency maps for a folder of images and videos (or one of them); videos and
// cameras in detail in infer/video.h.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "msinet/data/overlay.h"
#include "msinet/fetch/download.h"
#include "msinet/pipeline/pipeline.h"
#include "msinet/pipeline/predictor.h"

namespace msinet::infer {

/// What `msinet test` needs; every field has the CLI's default.
struct InferOptions {
  std::filesystem::path input;      ///< an image, a video or a folder (recursive)
  std::string dataset = "salicon";  ///< picks the input size and default weights
  std::filesystem::path weights;    ///< explicit weights; empty = checkpoint::resolve_weights()
  std::filesystem::path results_dir = "results";
  std::filesystem::path weights_dir = "weights";
  std::filesystem::path output_dir;  ///< empty = <results_dir>/images (videos: .../videos)
  std::string format = "jpg";        ///< jpg | png | npy
  /// minmax (the map in [0, 1]) | density (sums to 1) | logdensity (its natural log); density
  /// outputs are .npy float32 at the image's size, images only (no videos or cameras)
  std::string output = "minmax";
  std::filesystem::path calibration;  ///< density outputs: calibration file; empty = identity
  bool overlay = false;               ///< also write <stem>_overlay.jpeg (videos: .mp4)
  bool side_by_side = false;  ///< also write <stem>_side.jpeg: image | map | overlay (videos: .mp4)
  data::OverlayOptions overlay_style;  ///< colour map, opacity and colour bar of both
  int height = 0;                      ///< input size; 0 = the dataset's
  int width = 0;
  /// Where height x width came from, for messages ("--size", "the size of mit1003").
  std::string size_origin = "the dataset's size";
  int batch_size = 1;                                        ///< images per forward pass
  pipeline::NetworkOptions network;                          ///< device, precision, runtime plan
  int workers = 0;                                           ///< decoding/writing threads; 0 = 2
  int64_t inflight_bytes = pipeline::kDefaultInflightBytes;  ///< PipelineOptions::inflight_bytes
  bool progress = true;
  double smooth = 0;   ///< videos: m_t = smooth * map_t + (1 - smooth) * m_{t-1}; 0 = off
  std::string camera;  ///< a V4L2 index or device path: run_camera() instead of files
  bool show = false;   ///< camera: show the maps in a window with the frame rate
  fetch::DownloadOptions download;  ///< for the published weights (mirror, size cap)
};

/// What happened.
struct InferResult {
  int64_t written = 0;  ///< image maps written
  int64_t videos = 0;   ///< videos with at least one frame written
  int64_t frames = 0;   ///< video frames written
  int64_t failed = 0;
  std::vector<std::string> failures;  ///< "<file>: <why>"
  std::filesystem::path weights;      ///< the weights used
  std::filesystem::path output_dir;
  double forward_seconds = 0;  ///< time spent in the network
  double total_seconds = 0;
};

/// Runs the job through the inference pipeline (pipeline/pipeline.h) with a sink that writes
/// files; memory stays bounded for any number of images. Unreadable images and damaged videos
/// are reported and skipped (InferResult::failed); an Error(kIo) while writing stops the run.
/// Videos (util::has_video_extension) go to <results_dir>/videos (or output_dir) through
/// run_video_file().
InferResult run_test(const InferOptions& options);

/// The output path of `input`: its path relative to the input folder `input_root` (or its name,
/// when the root is a file), under `out_dir`, the extension replaced by `suffix`.
std::filesystem::path output_path(const std::filesystem::path& input_root,
                                  const std::filesystem::path& input,
                                  const std::filesystem::path& out_dir, const std::string& suffix);

}  // namespace msinet::infer
