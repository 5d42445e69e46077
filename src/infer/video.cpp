#include "msinet/infer/video.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <functional>
#include <mutex>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <thread>

#include "msinet/data/image.h"
#include "msinet/data/overlay.h"
#include "msinet/data/video.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/util/signals.h"

namespace msinet::infer {

namespace fs = std::filesystem;

namespace {

// Frame rate written when the container or camera declares none.
constexpr double kDefaultFps = 25.0;

// The latest frame for the --show window, handed from the sink (on a worker) to the thread that
// opened the window, the pipeline's, which shows it when it next asks the source for a frame:
// highgui (Qt in Debian) wants all its calls on one thread.
struct PreviewSlot {
  std::mutex mutex;
  cv::Mat frame;  // BGR, with its text drawn by PreviewWindow::show
  std::string text;
  bool fresh = false;
};

// The frames of a video, read in order on a thread of their own a few frames ahead of the
// pipeline, whose workers convert and preprocess them in parallel. A file that ends before the
// frame count it declares yields one last input that fails, naming the file and the frame; a
// camera ends at an interrupt.
class VideoFrames : public pipeline::Source {
 public:
  VideoFrames(data::VideoReader reader, bool camera, std::function<void()> on_next = {})
      : on_next_(std::move(on_next)),
        reader_(std::move(reader)),
        camera_(camera),
        name_(reader_.name()),
        count_(reader_.frame_count()) {
    thread_ = std::thread([this] { read_all(); });
  }
  ~VideoFrames() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  VideoFrames(const VideoFrames&) = delete;
  VideoFrames& operator=(const VideoFrames&) = delete;

  std::optional<pipeline::Input> next() override {
    if (on_next_) on_next_();
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return !queue_.empty() || ended_; });
    if (!queue_.empty()) {
      cv::Mat bgr = std::move(queue_.front());
      queue_.pop_front();
      changed_.notify_all();
      const int64_t pixels = static_cast<int64_t>(bgr.rows) * bgr.cols;
      return pipeline::Input{name_ + " frame " + std::to_string(handed_out_++),
                             [bgr] {
                               // As an image file decodes: RGB float32, 0..255.
                               cv::Mat rgb, out;
                               cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
                               rgb.convertTo(out, CV_32F);
                               return out;
                             },
                             pixels};
    }
    if (error_.empty()) return std::nullopt;
    const std::string why = std::exchange(error_, std::string());
    return pipeline::Input{name_, [why]() -> cv::Mat { throw Error(ErrorCode::kInput, why); }, 0};
  }

  int64_t size() const override { return count_; }

 private:
  static constexpr size_t kAhead = 4;  // frames read ahead of the pipeline

  void read_all() {
    int64_t read = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return stop_ || queue_.size() < kAhead; });
        if (stop_) break;
      }
      if (camera_ && util::interrupt_requested()) break;
      cv::Mat bgr;
      if (!reader_.read(bgr)) {
        if (!camera_ && count_ > 0 && read < count_) {
          std::lock_guard<std::mutex> lock(mutex_);
          error_ = "video '" + name_ + "' is damaged at frame " + std::to_string(read) +
                   " (counting from 0) of the " + std::to_string(count_) +
                   " it declares: truncated or corrupt, FFmpeg cannot decode it";
        } else if (camera_ && !util::interrupt_requested()) {
          spdlog::warn("{} delivered no frame after {} frame(s); stopping", name_, read);
        }
        break;
      }
      if (bgr.type() != CV_8UC3) {
        cv::Mat converted;
        if (bgr.channels() == 1) {
          cv::cvtColor(bgr, converted, cv::COLOR_GRAY2BGR);
        } else if (bgr.channels() == 4) {
          cv::cvtColor(bgr, converted, cv::COLOR_BGRA2BGR);
        } else {
          converted = bgr;
        }
        if (converted.depth() != CV_8U) converted.convertTo(converted, CV_8U);
        bgr = converted;
      }
      ++read;
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(bgr));
      changed_.notify_all();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    ended_ = true;
    changed_.notify_all();
  }

  std::function<void()> on_next_;  // runs on the pipeline's thread before each frame
  data::VideoReader reader_;
  bool camera_;
  std::string name_;
  int64_t count_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<cv::Mat> queue_;
  bool ended_ = false;
  bool stop_ = false;
  std::string error_;       // why the file ended early; handed out once as a failing input
  int64_t handed_out_ = 0;  // frames given to the pipeline (only next()'s thread)
  std::thread thread_;
};

// Writes the maps of one video, in frame order (the pipeline orders a sink that is not
// concurrent), smoothed first when asked.
class VideoMaps : public pipeline::Sink {
 public:
  VideoMaps(const VideoOutputs& out, double fps, double smooth,
            const data::OverlayOptions& overlay_style, PreviewSlot* preview)
      : out_(out), smooth_(smooth), overlay_style_(overlay_style), preview_(preview) {
    if (!out.map_video.empty()) map_video_.emplace(out.map_video, fps);
    if (!out.overlay_video.empty()) overlay_video_.emplace(out.overlay_video, fps);
    if (!out.side_video.empty()) side_video_.emplace(out.side_video, fps);
    if (!out.npy.empty()) npy_.emplace(out.npy);
  }

  void consume(pipeline::Result&& r) override {
    cv::Mat map = r.map;  // CV_32FC1, 0..255
    if (smooth_ > 0) {
      // m_t = ALPHA * map_t + (1 - ALPHA) * m_{t-1}, m_0 = map_0
      if (average_.empty()) {
        average_ = map.clone();
      } else {
        cv::addWeighted(map, smooth_, average_, 1.0 - smooth_, /*gamma=*/0.0, average_);
      }
      map = average_;
    }
    cv::Mat grey;
    cv::cvtColor(data::quantize_u8(map), grey, cv::COLOR_GRAY2BGR);
    if (map_video_) map_video_->write(grey);
    cv::Mat overlay;
    if (overlay_video_) {
      cv::cvtColor(data::make_overlay(r.image, map, overlay_style_), overlay, cv::COLOR_RGB2BGR);
      overlay_video_->write(overlay);
    }
    if (side_video_) {
      cv::Mat side;
      cv::cvtColor(data::make_side_by_side(r.image, map, overlay_style_), side, cv::COLOR_RGB2BGR);
      side_video_->write(side);
    }
    if (npy_) npy_->write(data::unit_map(map));
    if (!out_.frames_dir.empty()) {
      char name[32];
      std::snprintf(name, sizeof name, "frame_%06lld.png", static_cast<long long>(frames_));
      data::write_map(out_.frames_dir / name, map, data::MapFormat::kPng);
    }
    ++frames_;
    if (preview_) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      char text[64];
      std::snprintf(text, sizeof text, "%.1f FPS", seconds > 0 ? frames_ / seconds : 0.0);
      std::lock_guard<std::mutex> lock(preview_->mutex);
      preview_->frame = overlay.empty() ? grey : overlay;
      preview_->text = text;
      preview_->fresh = true;
    }
  }
  bool concurrent() const override { return false; }

  // Finalises every file; Error(kIo) when one cannot be.
  void finish() {
    if (map_video_) map_video_->finish();
    if (overlay_video_) overlay_video_->finish();
    if (side_video_) side_video_->finish();
    if (npy_) npy_->finish();
  }
  int64_t frames() const { return frames_; }

 private:
  VideoOutputs out_;
  double smooth_;
  data::OverlayOptions overlay_style_;
  std::optional<data::VideoFileWriter> map_video_, overlay_video_, side_video_;
  std::optional<data::NpyFramesWriter> npy_;
  PreviewSlot* preview_;  // null without --show
  cv::Mat average_;
  int64_t frames_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

void check_smooth(double smooth) {
  if (smooth < 0 || smooth > 1) {
    throw Error(ErrorCode::kUsage,
                "--smooth must be in (0, 1] (1 = no smoothing), not " + std::to_string(smooth));
  }
}

// What the job logs for one finished video.
std::string written_text(const VideoOutputs& out) {
  std::string text;
  for (const fs::path& p : out.all()) text += (text.empty() ? "'" : ", '") + p.string() + "'";
  return text;
}

}  // namespace

std::vector<fs::path> VideoOutputs::all() const {
  std::vector<fs::path> paths;
  for (const fs::path* p : {&map_video, &overlay_video, &side_video, &npy, &frames_dir}) {
    if (!p->empty()) paths.push_back(*p);
  }
  return paths;
}

VideoOutputs video_outputs(const InferOptions& o, const fs::path& video, const fs::path& out_dir) {
  const data::MapFormat format = data::parse_map_format(o.format);
  VideoOutputs out;
  out.map_video = output_path(o.input, video, out_dir, ".mp4");
  if (o.overlay) out.overlay_video = output_path(o.input, video, out_dir, "_overlay.mp4");
  if (o.side_by_side) out.side_video = output_path(o.input, video, out_dir, "_side.mp4");
  if (format == data::MapFormat::kNpy) out.npy = output_path(o.input, video, out_dir, ".npy");
  if (format == data::MapFormat::kPng) out.frames_dir = output_path(o.input, video, out_dir, "");
  return out;
}

VideoRun run_video_file(const InferOptions& o, const fs::path& video, const VideoOutputs& outputs,
                        pipeline::Predictor& predictor, const pipeline::PipelineOptions& po) {
  check_smooth(o.smooth);
  data::VideoReader reader = data::VideoReader::open_file(video);
  const double fps = reader.fps() > 0 ? reader.fps() : kDefaultFps;
  spdlog::info("video: '{}', {}x{}, {} frame(s) declared, {:.3g} frames/s", video.string(),
               reader.size().height, reader.size().width, reader.frame_count(), fps);
  VideoMaps sink(outputs, fps, o.smooth, o.overlay_style, /*preview=*/nullptr);
  VideoFrames source(std::move(reader), /*camera=*/false);
  pipeline::PipelineOptions vo = po;
  vo.keep_images = o.overlay || o.side_by_side;
  vo.label = video.filename().string();
  pipeline::PipelineResult r;
  try {
    r = pipeline::run_pipeline(source, predictor, sink, vo);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInterrupted) throw;
    throw Error(e.code(), "test interrupted in '" + video.string() + "' after " +
                              std::to_string(sink.frames()) +
                              " frame(s): its .mp4 and .npy outputs are not kept (PNG frames "
                              "written so far stay); the outputs of the inputs before it are "
                              "complete");
  }
  sink.finish();
  VideoRun run;
  run.frames = sink.frames();
  run.failures = r.failures;
  for (pipeline::Failure& f : run.failures) {
    f.why += run.frames > 0 ? "; the " + std::to_string(run.frames) +
                                  " frame(s) before it were written to " + written_text(outputs)
                            : "; nothing was written";
  }
  run.forward_seconds = r.forward_seconds;
  run.total_seconds = r.total_seconds;
  if (run.frames > 0) {
    spdlog::info("video: wrote {} frame(s) of '{}' to {} in {:.2f} s ({:.1f} frames/s)", run.frames,
                 video.string(), written_text(outputs), run.total_seconds,
                 run.total_seconds > 0 ? run.frames / run.total_seconds : 0.0);
  }
  return run;
}

InferResult run_camera(const InferOptions& o, data::VideoReader camera,
                       pipeline::Predictor& predictor) {
  check_smooth(o.smooth);
  InferResult result;
  result.output_dir = o.output_dir.empty() ? o.results_dir / "videos" : o.output_dir;
  pipeline::PipelineOptions po;
  po.height = o.height;
  po.width = o.width;
  po.batch_size = o.batch_size;
  po.workers = o.workers > 0 ? o.workers : 2;
  po.keep_images = o.overlay || o.side_by_side;
  po.inflight_bytes = o.inflight_bytes;
  po.label = "camera";
  po.progress = o.progress;
  pipeline::check_options(po);
  const data::MapFormat format = data::parse_map_format(o.format);
  const double fps = camera.fps() > 0 ? camera.fps() : kDefaultFps;

  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "camera_%Y%m%d-%H%M%S", &local);
  VideoOutputs out;
  out.map_video = result.output_dir / (std::string(stamp) + ".mp4");
  if (o.overlay) out.overlay_video = result.output_dir / (std::string(stamp) + "_overlay.mp4");
  if (o.side_by_side) out.side_video = result.output_dir / (std::string(stamp) + "_side.mp4");
  if (format == data::MapFormat::kNpy) out.npy = result.output_dir / (std::string(stamp) + ".npy");
  if (format == data::MapFormat::kPng) out.frames_dir = result.output_dir / stamp;
  spdlog::info("camera: {}, {}x{} at {:.3g} frames/s, input {}x{}, device {}; Ctrl-C stops",
               camera.name(), camera.size().height, camera.size().width, fps, o.height, o.width,
               predictor.device_name());
  PreviewSlot slot;
  std::optional<data::PreviewWindow> window;
  std::function<void()> show_latest;
  if (o.show) {
    window.emplace("msinet " + std::string(stamp));
    show_latest = [&slot, &window] {
      cv::Mat frame;
      std::string text;
      {
        std::lock_guard<std::mutex> lock(slot.mutex);
        if (!slot.fresh) return;
        slot.fresh = false;
        frame = slot.frame;
        text = slot.text;
      }
      // Closing the window (or Esc, q) ends the run as Ctrl-C does.
      if (window->show(frame, text)) util::set_interrupt_requested(true);
    };
  }
  VideoMaps sink(out, fps, o.smooth, o.overlay_style, o.show ? &slot : nullptr);
  VideoFrames source(std::move(camera), /*camera=*/true, show_latest);
  try {
    const pipeline::PipelineResult r = pipeline::run_pipeline(source, predictor, sink, po);
    result.forward_seconds = r.forward_seconds;
    result.total_seconds = r.total_seconds;
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInterrupted) throw;  // Ctrl-C is how a camera run ends
  }
  sink.finish();
  result.frames = sink.frames();
  result.videos = sink.frames() > 0 ? 1 : 0;
  spdlog::info("camera: wrote {} frame(s) to {}", sink.frames(),
               sink.frames() > 0 ? written_text(out) : std::string("nothing"));
  return result;
}

}  // namespace msinet::infer
