#include "msinet/data/video.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <opencv2/highgui.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "msinet/util/error.h"

namespace msinet::data {

namespace fs = std::filesystem;

namespace {

// FFmpeg prints its own decoding complaints ("[mjpeg @ 0x..] huffman table decode error") on
// stderr; msinet reports damage in its own words instead. OpenCV reads this variable when it
// first loads FFmpeg (AV_LOG_QUIET = -8); one set by the user is kept.
void quieten_ffmpeg() {
  static const bool once = [] {
    ::setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", /*overwrite=*/0);
    return true;
  }();
  (void)once;
}

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

struct VideoReader::Impl {
  cv::VideoCapture capture;
};

VideoReader::VideoReader(VideoReader&&) noexcept = default;
VideoReader& VideoReader::operator=(VideoReader&&) noexcept = default;
VideoReader::~VideoReader() = default;

VideoReader VideoReader::open_file(const fs::path& path) {
  quieten_ffmpeg();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw Error(ErrorCode::kInput, "cannot read video '" + path.string() + "': no such file");
  }
  VideoReader r;
  r.impl_ = std::make_unique<Impl>();
  r.name_ = path.string();
  if (!r.impl_->capture.open(path.string(), cv::CAP_FFMPEG) || !r.impl_->capture.isOpened()) {
    throw Error(ErrorCode::kInput,
                "cannot read video '" + path.string() +
                    "': FFmpeg cannot open it (not a video, an unknown codec, or a file cut short "
                    "before its index, as an MP4 copied only in part)");
  }
  const double count = r.impl_->capture.get(cv::CAP_PROP_FRAME_COUNT);
  r.frame_count_ = count > 0 ? static_cast<int64_t>(count + 0.5) : -1;
  r.fps_ = std::max(0.0, r.impl_->capture.get(cv::CAP_PROP_FPS));
  r.size_ = cv::Size(static_cast<int>(r.impl_->capture.get(cv::CAP_PROP_FRAME_WIDTH)),
                     static_cast<int>(r.impl_->capture.get(cv::CAP_PROP_FRAME_HEIGHT)));
  return r;
}

VideoReader VideoReader::open_camera(const std::string& camera) {
  quieten_ffmpeg();
  VideoReader r;
  r.impl_ = std::make_unique<Impl>();
  const bool index = all_digits(camera);
  r.name_ = index ? "camera " + camera + " (/dev/video" + camera + ")" : "camera '" + camera + "'";
  bool opened = false;
  try {
    opened = index ? r.impl_->capture.open(std::stoi(camera), cv::CAP_V4L2)
                   : r.impl_->capture.open(camera, cv::CAP_ANY);
  } catch (const cv::Exception&) {
    opened = false;
  }
  if (!opened || !r.impl_->capture.isOpened()) {
    throw Error(ErrorCode::kInput,
                "cannot open " + r.name_ +
                    ": no such device, or it is busy or not a camera (list the cameras with "
                    "`v4l2-ctl --list-devices`, or give --camera /dev/videoN)");
  }
  r.frame_count_ = -1;
  r.fps_ = std::max(0.0, r.impl_->capture.get(cv::CAP_PROP_FPS));
  r.size_ = cv::Size(static_cast<int>(r.impl_->capture.get(cv::CAP_PROP_FRAME_WIDTH)),
                     static_cast<int>(r.impl_->capture.get(cv::CAP_PROP_FRAME_HEIGHT)));
  return r;
}

bool VideoReader::read(cv::Mat& bgr) {
  try {
    return impl_->capture.read(bgr) && !bgr.empty();
  } catch (const cv::Exception&) {
    return false;
  }
}

struct VideoFileWriter::Impl {
  util::ScratchDir scratch;
  fs::path temp;
  cv::VideoWriter writer;
  cv::Size size;
  explicit Impl(const fs::path& path) : scratch(path), temp(scratch.path() / path.filename()) {}
};

VideoFileWriter::VideoFileWriter(fs::path path, double fps) : path_(std::move(path)), fps_(fps) {}

VideoFileWriter::~VideoFileWriter() {
  if (impl_) impl_->writer.release();
}

void VideoFileWriter::write(const cv::Mat& bgr) {
  if (!impl_) {
    quieten_ffmpeg();
    std::error_code ec;
    fs::create_directories(path_.parent_path(), ec);
    if (ec) {
      throw Error(ErrorCode::kIo,
                  "cannot create folder '" + path_.parent_path().string() + "': " + ec.message());
    }
    impl_ = std::make_unique<Impl>(path_);
    impl_->size = bgr.size();
    const bool ok = impl_->writer.open(impl_->temp.string(), cv::CAP_FFMPEG,
                                       cv::VideoWriter::fourcc('m', 'p', '4', 'v'), fps_,
                                       impl_->size, /*isColor=*/true);
    if (!ok || !impl_->writer.isOpened()) {
      impl_.reset();
      throw Error(ErrorCode::kIo, "cannot write video '" + path_.string() +
                                      "': FFmpeg cannot open an MPEG-4 writer there (is the "
                                      "folder writable?)");
    }
  }
  if (bgr.size() != impl_->size || bgr.type() != CV_8UC3) {
    throw Error(ErrorCode::kInternal, "VideoFileWriter: frame " + std::to_string(frames_) +
                                          " of '" + path_.string() + "' differs in size or type");
  }
  impl_->writer.write(bgr);
  ++frames_;
}

void VideoFileWriter::finish() {
  if (!impl_) return;
  impl_->writer.release();
  std::error_code ec;
  if (fs::file_size(impl_->temp, ec) == 0 || ec) {
    throw Error(ErrorCode::kIo, "cannot write video '" + path_.string() +
                                    "': the encoder wrote nothing (is the disk full?)");
  }
  util::rename_replace(impl_->temp, path_);
  impl_.reset();
}

std::string npy_frames_header(int64_t frames, int h, int w) {
  // Twenty digits hold any int64 count; NumPy reads the spaces in the tuple as nothing.
  std::string count = std::to_string(frames);
  count.insert(0, 20 - count.size(), ' ');
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + count + ", " +
                       std::to_string(h) + ", " + std::to_string(w) + "), }";
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xFF));
  out.push_back(static_cast<char>((header.size() >> 8) & 0xFF));
  return out + header;
}

NpyFramesWriter::NpyFramesWriter(fs::path path) : path_(std::move(path)) {}

NpyFramesWriter::~NpyFramesWriter() = default;

void NpyFramesWriter::write(const cv::Mat& map) {
  if (map.type() != CV_32FC1) {
    throw Error(ErrorCode::kInternal, "NpyFramesWriter: '" + path_.string() + "' takes CV_32FC1");
  }
  if (!scratch_) {
    std::error_code ec;
    fs::create_directories(path_.parent_path(), ec);
    if (ec) {
      throw Error(ErrorCode::kIo,
                  "cannot create folder '" + path_.parent_path().string() + "': " + ec.message());
    }
    scratch_ = std::make_unique<util::ScratchDir>(path_);
    temp_ = scratch_->path() / path_.filename();
    rows_ = map.rows;
    cols_ = map.cols;
    out_.open(temp_, std::ios::binary | std::ios::trunc);
    const std::string header = npy_frames_header(0, rows_, cols_);
    out_.write(header.data(), static_cast<std::streamsize>(header.size()));
  }
  if (map.rows != rows_ || map.cols != cols_) {
    throw Error(ErrorCode::kInternal, "NpyFramesWriter: map " + std::to_string(frames_) + " of '" +
                                          path_.string() + "' differs in size");
  }
  static_assert(sizeof(float) == 4, "float32");
  for (int y = 0; y < map.rows; ++y) {
    // Little-endian hosts only (x86-64, aarch64): the bytes are the '<f4' values as they are.
    out_.write(reinterpret_cast<const char*>(map.ptr<float>(y)),
               static_cast<std::streamsize>(map.cols * sizeof(float)));
  }
  if (!out_) {
    throw Error(ErrorCode::kIo, "cannot write '" + path_.string() + "' (is the disk full?)");
  }
  ++frames_;
}

void NpyFramesWriter::finish() {
  if (!scratch_) return;
  const std::string header = npy_frames_header(frames_, rows_, cols_);
  out_.seekp(0);
  out_.write(header.data(), static_cast<std::streamsize>(header.size()));
  out_.flush();
  out_.close();
  if (!out_) {
    throw Error(ErrorCode::kIo, "cannot write '" + path_.string() + "' (is the disk full?)");
  }
  util::rename_replace(temp_, path_);
  scratch_.reset();
}

PreviewWindow::PreviewWindow(std::string title) : title_(std::move(title)) {
  const char* x = std::getenv("DISPLAY");
  const char* wayland = std::getenv("WAYLAND_DISPLAY");
  if ((x == nullptr || *x == '\0') && (wayland == nullptr || *wayland == '\0')) {
    throw Error(ErrorCode::kUsage,
                "--show needs a display, and neither DISPLAY nor WAYLAND_DISPLAY is set (run it "
                "in a desktop session, or leave out --show and play the video written)");
  }
  try {
    cv::namedWindow(title_, cv::WINDOW_AUTOSIZE);
  } catch (const cv::Exception& e) {
    throw Error(ErrorCode::kUsage, "--show: cannot open a window: " + std::string(e.what()));
  }
}

PreviewWindow::~PreviewWindow() {
  try {
    cv::destroyWindow(title_);
  } catch (const cv::Exception&) {
  }
}

bool PreviewWindow::show(const cv::Mat& bgr, const std::string& text) {
  cv::Mat frame = bgr.clone();
  cv::putText(frame, text, cv::Point(8, 24), cv::FONT_HERSHEY_SIMPLEX, /*fontScale=*/0.7,
              cv::Scalar(255, 255, 255), /*thickness=*/2, cv::LINE_AA);
  cv::imshow(title_, frame);
  const int key = cv::waitKey(1);
  bool closed = key == 27 || key == 'q';
  try {
    closed = closed || cv::getWindowProperty(title_, cv::WND_PROP_VISIBLE) < 1;
  } catch (const cv::Exception&) {
    closed = true;
  }
  return closed;
}

}  // namespace msinet::data
