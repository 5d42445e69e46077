#pragma once
// Video decoding and encoding through OpenCV's FFmpeg backend: frames in from files and cameras,
// maps out as videos and as one streamed .npy array; a preview window (highgui).

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "msinet/util/fs.h"

namespace msinet::data {

/// Frames of a video file or a camera, as BGR CV_8UC3 (OpenCV's order).
class VideoReader {
 public:
  /// Opens a video file; Error(kInput) naming it when FFmpeg cannot read it (not a video, an
  /// unknown codec, or an MP4 cut short before its index).
  static VideoReader open_file(const std::filesystem::path& path);
  /// Opens a camera: a V4L2 index ("0") or a device path ("/dev/video2"); Error(kInput) naming it
  /// when it cannot be opened.
  static VideoReader open_camera(const std::string& camera);
  VideoReader(VideoReader&&) noexcept;
  VideoReader& operator=(VideoReader&&) noexcept;
  ~VideoReader();

  /// The next frame, or false at the end of the stream (or a frame FFmpeg cannot decode).
  bool read(cv::Mat& bgr);
  /// The frame count the container declares; -1 when it declares none (cameras, some streams).
  int64_t frame_count() const { return frame_count_; }
  /// Frames per second the container declares; 0 when it declares none.
  double fps() const { return fps_; }
  /// Frame size the stream declares.
  cv::Size size() const { return size_; }
  /// The file or camera, for messages.
  const std::string& name() const { return name_; }

 private:
  VideoReader() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string name_;
  int64_t frame_count_ = -1;
  double fps_ = 0;
  cv::Size size_;
};

/// An MPEG-4 Part 2 (`mp4v`) video written atomically: frames go to a temporary folder beside
/// `path` and finish() renames the finalised file onto `path`; without finish() (an error, an
/// interrupt) nothing is left behind.
class VideoFileWriter {
 public:
  /// Nothing is created before the first frame.
  VideoFileWriter(std::filesystem::path path, double fps);
  ~VideoFileWriter();
  VideoFileWriter(const VideoFileWriter&) = delete;
  VideoFileWriter& operator=(const VideoFileWriter&) = delete;

  /// Appends a BGR CV_8UC3 frame (the first one fixes the size). Error(kIo) when it cannot.
  void write(const cv::Mat& bgr);
  /// Finalises the file (its index) and moves it onto the path; a no-op without frames.
  void finish();
  /// Frames written.
  int64_t frames() const { return frames_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::filesystem::path path_;
  double fps_;
  int64_t frames_ = 0;
};

/// Maps of one size streamed into one float32 .npy array [frames, h, w] written atomically: the
/// header leaves a fixed-width frame count that finish() fills in before the rename.
class NpyFramesWriter {
 public:
  /// Nothing is created before the first map.
  explicit NpyFramesWriter(std::filesystem::path path);
  ~NpyFramesWriter();
  NpyFramesWriter(const NpyFramesWriter&) = delete;
  NpyFramesWriter& operator=(const NpyFramesWriter&) = delete;

  /// Appends a CV_32FC1 map (values as stored; the first one fixes the size). Error(kIo).
  void write(const cv::Mat& map);
  /// Writes the frame count, syncs and moves the file onto the path; a no-op without maps.
  void finish();

 private:
  std::filesystem::path path_;
  std::unique_ptr<util::ScratchDir> scratch_;
  std::filesystem::path temp_;
  std::ofstream out_;
  int64_t frames_ = 0;
  int rows_ = 0, cols_ = 0;
  std::streamoff count_at_ = 0;
};

/// The .npy header of a float32 [frames, h, w] array with `frames` right-aligned in a field wide
/// enough for any count, so it can be rewritten in place; a multiple of 64 bytes long.
std::string npy_frames_header(int64_t frames, int h, int w);

/// An OpenCV highgui window that shows frames with a line of text (the rate) drawn on them.
class PreviewWindow {
 public:
  /// Opens the window; Error(kUsage) when there is no display (DISPLAY and WAYLAND_DISPLAY unset).
  explicit PreviewWindow(std::string title);
  ~PreviewWindow();
  PreviewWindow(const PreviewWindow&) = delete;
  PreviewWindow& operator=(const PreviewWindow&) = delete;
  /// Shows a BGR CV_8UC3 frame with `text` in its corner; true once the window was closed or Esc
  /// or q pressed.
  bool show(const cv::Mat& bgr, const std::string& text);

 private:
  std::string title_;
};

}  // namespace msinet::data
