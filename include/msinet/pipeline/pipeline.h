#pragma once
// The one inference pipeline: source -> decode + preprocess -> batch -> network -> restore ->
// sink. Decoding runs ahead of the network and restoring and consuming behind it, on worker
// threads, with at most a few batches in flight, so memory stays bounded for any number of
// inputs. `test` (files), `eval -d` (scores) and training's validation (losses) are sinks.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "msinet/pipeline/predictor.h"

namespace msinet::pipeline {

/// One input: a name and how to decode it.
struct Input {
  std::string name;                 ///< names the item in results and errors (e.g. its path)
  std::function<cv::Mat()> decode;  ///< RGB CV_8UC3; runs on a worker thread; throws Error
  int64_t pixels = 0;  ///< height x width it will decode to, for the memory budget; 0 = unknown
};

/// Bytes one pixel of an input holds at most between decoding and its consumed map: the decoded
/// 8-bit and float RGB image (3 + 12), the restored float map (4) and its 8-bit copy (1).
inline constexpr int64_t kInflightBytesPerPixel = 20;

/// Where inputs come from: image files, video frames, a camera.
class Source {
 public:
  virtual ~Source() = default;
  /// The next input, or nothing at the end. Called from one thread.
  virtual std::optional<Input> next() = 0;
  /// How many inputs there will be; -1 when unknown.
  virtual int64_t size() const { return -1; }
  /// Whether next() would return at once (an input or the end), waiting until `deadline` at
  /// most. While a batch is being filled or inputs are being decoded, the pipeline takes more
  /// only from a ready source, and runs a partial batch once this says no at the batch's
  /// deadline (PipelineOptions::batch_wait); so a source that blocks (requests) never holds back
  /// the inputs it already gave. Sources that never block keep the default.
  virtual bool wait_ready(std::chrono::steady_clock::time_point deadline) {
    (void)deadline;
    return true;
  }
};

/// One input run through the network.
struct Result {
  std::string name;
  cv::Mat image;  ///< the decoded RGB image, when PipelineOptions::keep_images
  cv::Mat map;    ///< CV_32FC1 in [0, 1]: at the image's size, or the network's without restore
  int batch_size = 0;  ///< how many inputs went through the network together with this one
};

/// Where maps go: files, a scorer, an answer.
class Sink {
 public:
  virtual ~Sink() = default;
  /// Takes one result, on a worker thread (several at once when concurrent()). An Error marks
  /// the item failed; Error(kIo) (a full disk) stops the run.
  virtual void consume(Result&& result) = 0;
  /// Whether consume() may run on several threads at once, in any order. When false, consume()
  /// runs for one result at a time and in input order (an input that failed is left out), still
  /// on the worker threads; restoring the maps stays parallel. A video writer needs this.
  virtual bool concurrent() const { return true; }
};

/// Default of PipelineOptions::inflight_bytes (the `inflight_memory_mb` key's 2048 MiB).
inline constexpr int64_t kDefaultInflightBytes = int64_t{2048} << 20;

/// How the pipeline runs.
struct PipelineOptions {
  int height = 0;  ///< network input size (multiples of 8)
  int width = 0;
  int batch_size = 1;          ///< inputs per forward pass
  int workers = 2;             ///< decoding and consuming threads
  bool keep_images = false;    ///< pass the decoded image on to the sink
  bool restore = true;         ///< maps at the image's size (undo padding and resizing)
  std::string label = "test";  ///< names the progress bar and the log lines
  bool progress = false;       ///< progress on stderr (util::Progress: a bar or log lines)
  /// Inputs are decoded ahead only while those between decoding and consuming hold at most this
  /// (kInflightBytesPerPixel per pixel); one input larger than this still runs, alone.
  int64_t inflight_bytes = kDefaultInflightBytes;
  /// How long a partial batch waits for a source that is not ready (Source::wait_ready) before
  /// it runs; 0 runs it as soon as the source has nothing ready.
  std::chrono::microseconds batch_wait{0};
};

/// An input that could not be decoded or consumed.
struct Failure {
  std::string name;  ///< Input::name
  std::string why;   ///< the error message
};

/// What happened.
struct PipelineResult {
  int64_t done = 0;               ///< inputs consumed without error
  int64_t failed = 0;             ///< inputs that could not be decoded or consumed
  std::vector<Failure> failures;  ///< in the order they happened
  double forward_seconds = 0;     ///< time spent in the network
  double total_seconds = 0;
};

/// Throws Error(kUsage) unless the options can run (sizes multiples of 8, batch and workers >= 1).
void check_options(const PipelineOptions& options);

/// Runs every input of `source` through `predictor` into `sink`. Memory stays bounded in inputs
/// (a few batches ahead and behind the network) and in bytes (PipelineOptions::inflight_bytes).
/// Inputs that cannot be decoded, and results the sink rejects, are counted and reported, and the
/// run goes on; Error(kIo) and an interrupt (Ctrl-C, SIGTERM: Error(kInterrupted)) stop it, after
/// the results already being consumed are complete.
PipelineResult run_pipeline(Source& source, Predictor& predictor, Sink& sink,
                            const PipelineOptions& options);

/// Image files, decoded as RGB.
class ImageFiles : public Source {
 public:
  /// The files, in order.
  explicit ImageFiles(std::vector<std::string> paths);
  std::optional<Input> next() override;
  int64_t size() const override;

 private:
  std::vector<std::string> paths_;
  size_t next_ = 0;
};

}  // namespace msinet::pipeline
