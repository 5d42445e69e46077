#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "measure.h"
#include "msinet/bench/bench.h"

namespace msinet::bench {

// ---- Output
// ----------------------------------------------------------------------------------------

namespace {

std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

std::string rpad(const std::string& s, size_t width) {
  return s.size() >= width ? " " + s : std::string(width - s.size(), ' ') + s;
}

// The row of `rows` for `variant` at h x w, batch b.
const ForwardResult* find_row(const std::vector<ForwardResult>& rows, const std::string& variant,
                              int h, int w, int b) {
  for (const auto& c : rows) {
    if (c.variant == variant && c.h == h && c.w == w && c.batch == b) return &c;
  }
  return nullptr;
}

// ONNX Runtime's row at h x w, batch b.
const PeerForwardResult* find_peer(const BenchReport& r, int h, int w, int b) {
  for (const auto& p : r.peer_forward) {
    if (p.h == h && p.w == w && p.batch == b) return &p;
  }
  return nullptr;
}

std::string ratio(double num, double den) { return den > 0 ? fixed(num / den, 2) : "-"; }

}  // namespace

std::string format_table(const BenchReport& r) {
  std::ostringstream out;
  out << "msinet bench: " << r.device << ", " << r.threads
      << " thread(s); fp32 path: " << (r.fast_path.empty() ? "not timed" : r.fast_path) << "\n";
  out << "machine: " << r.cpu_model << " (" << r.cpu_isa << "); " << r.cpu_flags
      << "; load average " << fixed(r.load_before, 2) << " -> " << fixed(r.load_after, 2) << "\n";
  if (r.peak.fp32_gflops > 0) {
    out << "peak: fp32 " << fixed(r.peak.fp32_gflops, 1) << " GFLOP/s";
    if (r.peak.bf16_gflops > 0) out << ", bf16 " << fixed(r.peak.bf16_gflops, 1) << " GFLOP/s";
    out << " (" << r.peak.method << ")\n";
  }
  if (!r.forward.empty()) {
    out << "\nforward pass (median after a warm-up; % of the same precision's peak; GFLOP are "
           "the direct convolution's, so Winograd, which multiplies less, and AMX, faster than "
           "the peak's AVX512_BF16 loop, can pass 100%)\n";
    out << pad("precision", 10) << pad("size", 9) << rpad("batch", 6) << rpad("ms/img", 10)
        << rpad("img/s", 9) << rpad("cpu ms/img", 12) << rpad("GFLOP/img", 11) << rpad("GFLOP/s", 9)
        << rpad("% peak", 8) << "  " << pad("plan", 14);
    if (!r.peer_forward.empty()) out << rpad("ORT ms/img", 11) << rpad("msinet/ORT", 11);
    out << "\n";
  }
  for (const auto& f : r.forward) {
    out << pad(f.precision, 10) << pad(size_text(f.h, f.w), 9) << rpad(std::to_string(f.batch), 6)
        << rpad(fixed(f.ms_per_image, 1), 10) << rpad(fixed(f.images_per_second, 3), 9)
        << rpad(fixed(f.cpu_ms_per_image, 1), 12) << rpad(fixed(f.gflop_per_image, 1), 11)
        << rpad(fixed(f.gflops, 1), 9)
        << rpad(f.peak_fraction > 0 ? fixed(100 * f.peak_fraction, 0) + "%" : "-", 8) << "  "
        << pad(f.plan.empty() ? "-" : f.plan, 14);
    if (!r.peer_forward.empty()) {
      const PeerForwardResult* p = find_peer(r, f.h, f.w, f.batch);
      out << rpad(p ? fixed(p->ms_per_image, 1) : "-", 11)
          << rpad(p ? ratio(f.ms_per_image, p->ms_per_image) : "-", 11);
    }
    out << "\n";
  }
  if (!r.peer_forward.empty()) {
    out << "ORT: ONNX Runtime " << r.onnxruntime << " (" << r.peer.command
        << ") on the network `msinet export` writes, fixed size, fp32, same threads, run after "
           "msinet; msinet/ORT below 1: msinet faster\n";
  }
  if (!r.plans.empty()) {
    out << "\nevery plan, fp32 (runs interleaved per size and batch; speed-up over nchw, the plain "
           "loop)\n";
    out << pad("plan", 15) << pad("size", 9) << rpad("batch", 6) << rpad("ms/img", 10)
        << rpad("cpu ms/img", 12) << rpad("GFLOP/s", 9) << rpad("vs nchw", 9);
    if (!r.peer_forward.empty()) out << rpad("over ORT", 10);
    out << "\n";
    for (const auto& c : r.plans) {
      const ForwardResult* plain = find_row(r.plans, "nchw", c.h, c.w, c.batch);
      out << pad(c.variant, 15) << pad(size_text(c.h, c.w), 9) << rpad(std::to_string(c.batch), 6)
          << rpad(fixed(c.ms_per_image, 1), 10) << rpad(fixed(c.cpu_ms_per_image, 1), 12)
          << rpad(fixed(c.gflops, 1), 9)
          << rpad(plain ? fixed(plain->ms_per_image / c.ms_per_image, 2) + "x" : "-", 9);
      if (!r.peer_forward.empty()) {
        const PeerForwardResult* p = find_peer(r, c.h, c.w, c.batch);
        out << rpad(p ? ratio(c.ms_per_image, p->ms_per_image) : "-", 10);
      }
      out << "\n";
    }
  }
  if (!r.layers.empty()) {
    double total = 0;
    for (const auto& l : r.layers) total += l.ms;
    out << "\nlayers of plan " << r.layers_plan << " (the fastest at the first size, batch 1; "
        << "median ms of each; a layer includes its ReLU, pooling and the upsampling of its "
           "input)\n";
    out << pad("layer", 18) << rpad("ms", 9) << rpad("share", 8) << rpad("GFLOP", 8)
        << rpad("GFLOP/s", 9) << "\n";
    for (const auto& l : r.layers) {
      out << pad(l.name, 18) << rpad(fixed(l.ms, 2), 9)
          << rpad(total > 0 ? fixed(100 * l.ms / total, 1) + "%" : "-", 8)
          << rpad(fixed(l.gflop, 2), 8) << rpad(fixed(l.gflops, 1), 9) << "\n";
    }
    out << pad("sum", 18) << rpad(fixed(total, 1), 9) << "\n";
  }
  if (!r.accuracy.empty()) {
    out << "\nevery path against the reference forward (" << r.reference << "), "
        << r.accuracy.front().images << " photo(s), [0, 1] maps\n";
    out << pad("precision", 10) << pad("plan", 15) << rpad("max |diff|", 12) << rpad("CC mean", 10)
        << rpad("CC min", 10) << "\n";
    for (const auto& a : r.accuracy) {
      out << pad(a.precision, 10) << pad(a.plan, 15) << rpad(fixed(a.max_abs_diff, 7), 12)
          << rpad(fixed(a.cc_mean, 6), 10) << rpad(fixed(a.cc_min, 6), 10) << "\n";
    }
    if (!r.int8_calibration.empty())
      out << "int8 calibrated on " << r.int8_calibration << " (not among those compared when "
          << "there are enough)\n";
  }
  if (!r.train.empty()) {
    const bool peer = r.peer.name == "torch";
    out << "\ntraining step (forward, KLD, backward, Adam; median ms; NCHW and channels-last "
           "interleaved)";
    if (peer) out << "; peer: PyTorch " << r.peer.version << " eager, run after msinet";
    out << "\n";
    out << pad("size", 9) << rpad("batch", 6) << rpad("NCHW", 9) << rpad("ch-last", 9)
        << rpad("NCHW/ch-last", 14);
    if (peer) {
      out << rpad("torch NCHW", 12) << rpad("torch ch-last", 15) << rpad("msinet/torch", 14)
          << rpad("best/best", 11);
    }
    out << "\n";
    for (const auto& t : r.train) {
      out << pad(size_text(t.h, t.w), 9) << rpad(std::to_string(t.batch), 6)
          << rpad(fixed(t.step_ms, 1), 9) << rpad(fixed(t.step_ms_channels_last, 1), 9)
          << rpad(t.step_ms_channels_last > 0 ? fixed(t.step_ms / t.step_ms_channels_last, 3) : "-",
                  14);
      if (peer) {
        const double best = std::min(t.step_ms, t.step_ms_channels_last);
        const double peer_best = std::min(t.peer_step_ms, t.peer_step_ms_channels_last);
        out << rpad(fixed(t.peer_step_ms, 1), 12)
            << rpad(fixed(t.peer_step_ms_channels_last, 1), 15)
            << rpad(t.peer_step_ms > 0 ? fixed(t.step_ms / t.peer_step_ms, 3) : "-", 14)
            << rpad(peer_best > 0 ? fixed(best / peer_best, 3) : "-", 11);
      }
      out << "\n";
    }
    if (peer) {
      out << "msinet/torch: NCHW step over NCHW step (below 1: msinet faster); best/best: each "
             "side's faster format; parameters msinet "
          << r.parameters << ", peer " << r.peer.parameters
          << (r.parameters == r.peer.parameters ? " (equal)" : " (DIFFERENT)") << "\n";
    }
  }
  for (const auto& p : r.pipeline) {
    out << "image pipeline, 1 thread, " << p.images << " photo(s) from " << p.source
        << ": decode+resize+pad " << fixed(p.preprocess_per_second, 1)
        << " img/s; restore+quantise+JPEG " << fixed(p.postprocess_per_second, 1) << " img/s\n";
  }
  for (const auto& t : r.test_job) {
    out << "test job, " << t.images << " photos, batch " << t.batch << ", " << t.precision
        << ": wall " << fixed(t.wall_seconds, 2) << " s, sum of forward passes "
        << fixed(t.forward_seconds, 2) << " s (wall/forward "
        << fixed(t.forward_seconds > 0 ? t.wall_seconds / t.forward_seconds : 0, 3)
        << "); peak RSS after it " << fixed(t.peak_rss_mb, 0) << " MiB\n";
  }
  out << "peak RSS " << fixed(r.peak_rss_mb, 0) << " MiB; bench took " << fixed(r.seconds, 1)
      << " s\n";
  return out.str();
}

std::string to_json(const BenchReport& r) {
  using nlohmann::json;
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  auto forward_list = [&](const std::vector<ForwardResult>& rows) {
    json list = json::array();
    for (const ForwardResult& f : rows) {
      list.push_back({{"variant", f.variant},
                      {"precision", f.precision},
                      {"plan", f.plan},
                      {"height", f.h},
                      {"width", f.w},
                      {"batch", f.batch},
                      {"ms_per_image", num(f.ms_per_image)},
                      {"images_per_second", num(f.images_per_second)},
                      {"cpu_ms_per_image", num(f.cpu_ms_per_image)},
                      {"gflop_per_image", num(f.gflop_per_image)},
                      {"gflops", num(f.gflops)},
                      {"peak_fraction", num(f.peak_fraction)}});
    }
    return list;
  };
  json root;
  root["device"] = r.device;
  root["threads"] = r.threads;
  root["fast_path"] = r.fast_path;
  root["machine"] = r.cpu_flags;
  root["cpu_model"] = r.cpu_model;
  root["cpu_isa"] = r.cpu_isa;
  root["parameters"] = r.parameters;
  root["load_average"] = {{"before", num(r.load_before)}, {"after", num(r.load_after)}};
  root["peak"] = {{"threads", r.peak.threads},
                  {"fp32_gflops", num(r.peak.fp32_gflops)},
                  {"bf16_gflops", num(r.peak.bf16_gflops)},
                  {"method", r.peak.method}};
  root["forward"] = forward_list(r.forward);
  root["plans"] = forward_list(r.plans);
  root["layers_plan"] = r.layers_plan;
  root["layers"] = json::array();
  for (const auto& l : r.layers) {
    root["layers"].push_back(
        {{"name", l.name}, {"ms", num(l.ms)}, {"gflop", num(l.gflop)}, {"gflops", num(l.gflops)}});
  }
  root["reference"] = r.reference;
  root["int8_calibration"] = r.int8_calibration;
  if (!r.peer_forward.empty()) {
    root["onnxruntime"] = {{"version", r.onnxruntime}, {"command", r.peer.command}};
    root["onnxruntime"]["rows"] = json::array();
    for (const auto& p : r.peer_forward) {
      json row = {{"height", p.h},
                  {"width", p.w},
                  {"batch", p.batch},
                  {"ms_per_image", num(p.ms_per_image)}};
      for (const ForwardResult& f : r.forward) {
        if (f.h == p.h && f.w == p.w && f.batch == p.batch && p.ms_per_image > 0)
          row["msinet_" + f.precision + "_over_ort"] = num(f.ms_per_image / p.ms_per_image);
      }
      root["onnxruntime"]["rows"].push_back(row);
    }
  }
  root["accuracy"] = json::array();
  for (const auto& a : r.accuracy) {
    root["accuracy"].push_back({{"precision", a.precision},
                                {"plan", a.plan},
                                {"images", a.images},
                                {"cc_mean", num(a.cc_mean)},
                                {"cc_min", num(a.cc_min)},
                                {"max_abs_diff", num(a.max_abs_diff)}});
  }
  root["train"] = json::array();
  for (const auto& t : r.train) {
    json row = {{"height", t.h},
                {"width", t.w},
                {"batch", t.batch},
                {"step_ms", num(t.step_ms)},
                {"step_ms_channels_last", num(t.step_ms_channels_last)},
                {"nchw_over_channels_last",
                 t.step_ms_channels_last > 0 ? num(t.step_ms / t.step_ms_channels_last) : json()}};
    if (r.peer.name == "torch") {
      row["peer_step_ms"] = num(t.peer_step_ms);
      row["peer_step_ms_channels_last"] = num(t.peer_step_ms_channels_last);
      row["msinet_over_peer"] = t.peer_step_ms > 0 ? num(t.step_ms / t.peer_step_ms) : json();
      row["msinet_over_peer_channels_last"] =
          t.peer_step_ms_channels_last > 0
              ? num(t.step_ms_channels_last / t.peer_step_ms_channels_last)
              : json();
    }
    root["train"].push_back(row);
  }
  if (r.peer.name == "torch") {
    root["peer"] = {{"name", r.peer.name},
                    {"torch", r.peer.version},
                    {"command", r.peer.command},
                    {"parameters", r.peer.parameters},
                    {"output_shape", r.peer.output}};
  }
  root["pipeline"] = json::array();
  for (const auto& p : r.pipeline) {
    root["pipeline"].push_back({{"images", p.images},
                                {"source", p.source},
                                {"preprocess_per_second", num(p.preprocess_per_second)},
                                {"postprocess_per_second", num(p.postprocess_per_second)}});
  }
  root["test_job"] = json::array();
  for (const auto& t : r.test_job) {
    root["test_job"].push_back({{"images", t.images},
                                {"batch", t.batch},
                                {"precision", t.precision},
                                {"wall_seconds", num(t.wall_seconds)},
                                {"forward_seconds", num(t.forward_seconds)},
                                {"peak_rss_mb", num(t.peak_rss_mb)}});
  }
  root["peak_rss_mb"] = num(r.peak_rss_mb);
  root["seconds"] = num(r.seconds);
  return root.dump(2) + "\n";
}

}  // namespace msinet::bench
