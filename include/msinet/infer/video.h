#pragma once
// The `test` job for videos and cameras: frames through the one inference pipeline into a map
// video (and an overlay video, a .npy array, PNG frames).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "msinet/data/video.h"
#include "msinet/infer/infer.h"
#include "msinet/pipeline/pipeline.h"
#include "msinet/pipeline/predictor.h"

namespace msinet::infer {

/// Where one video's outputs go; an empty path is not written.
struct VideoOutputs {
  std::filesystem::path map_video;      ///< <stem>.mp4: the map, 8-bit grey, as a video
  std::filesystem::path overlay_video;  ///< <stem>_overlay.mp4 (--overlay)
  std::filesystem::path side_video;     ///< <stem>_side.mp4 (--side-by-side)
  std::filesystem::path npy;            ///< <stem>.npy: float32 [frames, h, w] (--format npy)
  std::filesystem::path frames_dir;     ///< <stem>/frame_NNNNNN.png (--format png)
  /// The paths to write, for the output checks.
  std::vector<std::filesystem::path> all() const;
};

/// The outputs of `video` (under `input_root`) in `out_dir`, as the options ask.
VideoOutputs video_outputs(const InferOptions& options, const std::filesystem::path& video,
                           const std::filesystem::path& out_dir);

/// What one video gave.
struct VideoRun {
  int64_t frames = 0;                       ///< frames mapped and written
  std::vector<pipeline::Failure> failures;  ///< the damaged frame that ended it, if any
  double forward_seconds = 0;
  double total_seconds = 0;
};

/// Maps every frame of the video file `video` into `outputs`, through `predictor`. A frame that
/// cannot be decoded before the declared count ends the video as a failure naming the file and
/// the frame; the frames before it are finalised and kept. An interrupt or Error(kIo) leaves no
/// video or .npy file (PNG frames already written stay). Error(kInput) when it cannot be opened.
VideoRun run_video_file(const InferOptions& options, const std::filesystem::path& video,
                        const VideoOutputs& outputs, pipeline::Predictor& predictor,
                        const pipeline::PipelineOptions& pipeline_options);

/// `msinet test --camera`: maps the frames of `camera` (data::VideoReader::open_camera) until
/// Ctrl-C (or the --show window is closed) into <output>/camera_<YYYYmmdd-HHMMSS>.mp4, then
/// finalises the files.
InferResult run_camera(const InferOptions& options, data::VideoReader camera,
                       pipeline::Predictor& predictor);

}  // namespace msinet::infer
