#pragma once
// What this machine's CPU is, for reports and for keying measured choices to the machine.

#include <string>

namespace msinet::runtime {

/// The CPU, read once from /proc/cpuinfo.
struct CpuInfo {
  /// "model name", e.g. "AMD EPYC 7B13"; "unknown CPU" when not reported.
  std::string model;
  /// Which of avx2, fma, avx512f, avx512_vnni, avx_vnni, avx512_bf16, amx_tile, amx_bf16 it
  /// reports, space-separated ("none of ..." when none).
  std::string isa;
};

/// This machine's CPU.
const CpuInfo& cpu_info();

}  // namespace msinet::runtime
