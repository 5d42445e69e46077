#include "msinet/runtime/cpu_info.h"

#include <fstream>

namespace msinet::runtime {
namespace {

CpuInfo read_cpu_info() {
  CpuInfo info;
  std::ifstream in("/proc/cpuinfo");
  std::string line, flags;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name" && info.model.empty()) info.model = value;
    if (key == "flags" && flags.empty()) flags = " " + value + " ";
  }
  if (info.model.empty()) info.model = "unknown CPU";
  const char* const known[] = {"avx2",     "fma",         "avx512f",  "avx512_vnni",
                               "avx_vnni", "avx512_bf16", "amx_tile", "amx_bf16"};
  for (const char* f : known) {
    if (flags.find(std::string(" ") + f + " ") != std::string::npos)
      info.isa += (info.isa.empty() ? "" : " ") + std::string(f);
  }
  if (info.isa.empty()) info.isa = "none of avx2, fma, avx512f, vnni, bf16, amx";
  return info;
}

}  // namespace

const CpuInfo& cpu_info() {
  static const CpuInfo info = read_cpu_info();
  return info;
}

}  // namespace msinet::runtime
