#include "onnxruntime_peer.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "measure.h"
#include "msinet/export/export.h"
#include "msinet/util/error.h"

namespace msinet::bench {

namespace fs = std::filesystem;

OnnxRuntimeTimes time_onnxruntime(const fs::path& weights, const fs::path& script,
                                  const fs::path& work_dir, const std::vector<util::Size>& sizes,
                                  const std::vector<int>& batches, int threads, int iters) {
  OnnxRuntimeTimes out;
  for (const util::Size& s : sizes) {
    exporter::ExportOptions e;
    e.format = exporter::ExportFormat::kOnnx;
    e.weights = weights;
    e.height = s.h;
    e.width = s.w;
    e.output = work_dir / ("msinet-" + size_text(s.h, s.w) + ".onnx");
    exporter::run_export(e);
    for (int b : batches) {
      spdlog::info("bench: ONNX Runtime at {} batch {}", size_text(s.h, s.w), b);
      const std::string text = run_capture(
          {"node", script.string(), "ort", e.output.string(), "--bench", size_text(s.h, s.w),
           "--batch", std::to_string(b), "--runs", std::to_string(iters), "--threads",
           std::to_string(threads)},
          "install Node.js and the packages of tests/node (npm ci --prefix tests/node)");
      const std::string line = last_line(text);
      try {
        const nlohmann::json j = nlohmann::json::parse(line);
        out.version = j.at("version").get<std::string>();
        out.rows.push_back({s.h, s.w, b, j.at("ms_median").get<double>() / b});
      } catch (const nlohmann::json::exception& x) {
        throw Error(ErrorCode::kInternal, "the ONNX Runtime peer '" + script.string() +
                                              "' did not end with its JSON line (" + x.what() +
                                              "); it wrote: " + line.substr(0, 200));
      }
    }
  }
  return out;
}

}  // namespace msinet::bench
