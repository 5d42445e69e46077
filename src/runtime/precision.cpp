#include "msinet/runtime/precision.h"

#include <ATen/Context.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "msinet/util/error.h"

namespace msinet::runtime {
namespace {

bool os_supports_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;  // OSXSAVE
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  (void)hi;
  return (lo & 0xE6u) == 0xE6u;  // SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM state
#else
  return false;
#endif
}

}  // namespace

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::kFloat32;
  if (name == "bf16") return Precision::kBFloat16;
  if (name == "fp16") return Precision::kFloat16;
  if (name == "int8") return Precision::kInt8;
  throw Error(ErrorCode::kUsage, "unknown precision '" + name + "': use fp32, bf16, fp16 or int8");
}

std::string precision_name(Precision precision) {
  switch (precision) {
    case Precision::kFloat32:
      return "fp32";
    case Precision::kBFloat16:
      return "bf16";
    case Precision::kFloat16:
      return "fp16";
    case Precision::kInt8:
      return "int8";
  }
  return "?";
}

torch::ScalarType precision_dtype(Precision precision) {
  switch (precision) {
    case Precision::kBFloat16:
      return torch::kBFloat16;
    case Precision::kFloat16:
      return torch::kFloat16;
    case Precision::kFloat32:
    case Precision::kInt8:
      break;
  }
  return torch::kFloat32;
}

bool cpu_has_bf16() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 0, a, b, c, d);
  const bool amx_bf16 = (d & (1u << 22)) != 0;
  __cpuid_count(7, 1, a, b, c, d);
  const bool avx512_bf16 = (a & (1u << 5)) != 0;
  return (avx512_bf16 && os_supports_avx512()) || amx_bf16;
#else
  return false;
#endif
}

std::string precision_unsupported_reason(Precision precision, const torch::Device& device) {
  if (precision == Precision::kFloat32) return {};
  const std::string name = precision_name(precision);
  if (precision == Precision::kInt8) {
    if (device.is_cpu()) return {};
    return "precision int8 runs on the CPU only (oneDNN int8 convolutions); on " + device.str() +
           " use fp32, bf16 or fp16";
  }
  if (device.is_cuda()) return {};
  if (!device.is_cpu())
    return "precision " + name + " is not supported on " + device.str() + "; use fp32";
  if (precision == Precision::kFloat16) {
    return "precision fp16 runs on CUDA only; on the CPU use fp32, or bf16 where the CPU has "
           "AVX512_BF16 or AMX";
  }
  if (!cpu_has_bf16()) {
    return "precision bf16 needs a CPU with bfloat16 instructions (AVX512_BF16 or AMX-BF16), "
           "which this CPU does not report; use --precision fp32";
  }
  if (!at::hasMKLDNN()) {
    return "precision bf16 on the CPU needs LibTorch built with oneDNN (MKL-DNN), which this "
           "build lacks; use --precision fp32";
  }
  return {};
}

void check_precision(Precision precision, const torch::Device& device) {
  const std::string why = precision_unsupported_reason(precision, device);
  if (!why.empty()) throw Error(ErrorCode::kUsage, why);
}

}  // namespace msinet::runtime
