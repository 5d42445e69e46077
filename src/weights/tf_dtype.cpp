#include "msinet/weights/tf_dtype.h"

#include <cstring>
#include <stdexcept>

namespace msinet::weights {
namespace {

template <typename T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

bool is_known_dtype(int dtype) { return dtype >= 1 && dtype <= 23; }

bool is_numeric_dtype(int dtype) { return dtype_size(dtype) != 0; }

size_t dtype_size(int dtype) {
  switch (static_cast<TfDtype>(dtype)) {
    case TfDtype::kFloat:
    case TfDtype::kInt32:
    case TfDtype::kUint32:
      return 4;
    case TfDtype::kDouble:
    case TfDtype::kInt64:
    case TfDtype::kUint64:
      return 8;
    case TfDtype::kHalf:
    case TfDtype::kBfloat16:
    case TfDtype::kInt16:
    case TfDtype::kUint16:
      return 2;
    case TfDtype::kInt8:
    case TfDtype::kUint8:
    case TfDtype::kBool:
      return 1;
    default:
      return 0;
  }
}

std::string dtype_name(int dtype) {
  static const char* const kNames[] = {
      "invalid",   "float32", "float64",    "int32",   "uint8",    "int16",   "int8",     "string",
      "complex64", "int64",   "bool",       "qint8",   "quint8",   "qint32",  "bfloat16", "qint16",
      "quint16",   "uint16",  "complex128", "float16", "resource", "variant", "uint32",   "uint64"};
  if (dtype >= 0 && dtype <= 23) return kNames[dtype];
  return "dtype " + std::to_string(dtype);
}

int64_t checked_num_elements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw std::invalid_argument("negative dimension in shape " + shape_string(shape));
    if (d != 0 && n > kMaxTensorElements / d) {
      throw std::invalid_argument("shape " + shape_string(shape) + " has more than 2^30 elements");
    }
    n *= d;
  }
  return n;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::vector<float> convert_to_float(int dtype, std::string_view bytes) {
  const size_t size = dtype_size(dtype);
  if (size == 0) throw std::invalid_argument(dtype_name(dtype) + " does not convert to float32");
  if (bytes.size() % size != 0) {
    throw std::invalid_argument(std::to_string(bytes.size()) + " bytes is not a whole number of " +
                                dtype_name(dtype) + " elements");
  }
  const size_t n = bytes.size() / size;
  std::vector<float> out(n);
  const char* p = bytes.data();
  switch (static_cast<TfDtype>(dtype)) {
    case TfDtype::kFloat:
      if (n) std::memcpy(out.data(), p, n * 4);
      break;
    case TfDtype::kDouble:
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(load<double>(p + 8 * i));
      break;
    case TfDtype::kInt32:
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(load<int32_t>(p + 4 * i));
      break;
    case TfDtype::kUint32:
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(load<uint32_t>(p + 4 * i));
      break;
    case TfDtype::kInt64:
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(load<int64_t>(p + 8 * i));
      break;
    case TfDtype::kUint64:
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(load<uint64_t>(p + 8 * i));
      break;
    case TfDtype::kHalf:
      for (size_t i = 0; i < n; ++i) out[i] = half_to_float(load<uint16_t>(p + 2 * i));
      break;
    case TfDtype::kBfloat16:
      for (size_t i = 0; i < n; ++i) out[i] = bfloat16_to_float(load<uint16_t>(p + 2 * i));
      break;
    case TfDtype::kInt16:
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(load<int16_t>(p + 2 * i));
      break;
    case TfDtype::kUint16:
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(load<uint16_t>(p + 2 * i));
      break;
    case TfDtype::kInt8:
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<int8_t>(p[i]));
      break;
    case TfDtype::kUint8:
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<uint8_t>(p[i]));
      break;
    case TfDtype::kBool:
      for (size_t i = 0; i < n; ++i) out[i] = p[i] != 0 ? 1.0f : 0.0f;
      break;
    default:
      break;
  }
  return out;
}

// ref: IEEE 754-2008 binary16 layout (1 sign, 5 exponent, 10 fraction bits)
float half_to_float(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1Fu;
  uint32_t mantissa = bits & 0x3FFu;
  uint32_t out;
  if (exponent == 0x1F) {
    out = sign | 0x7F800000u | (mantissa << 13);
  } else if (exponent != 0) {
    out = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    out = sign;
  } else {
    exponent = 113;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    out = sign | (exponent << 23) | ((mantissa & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &out, 4);
  return f;
}

uint16_t float_to_half(float value) {
  uint32_t x;
  std::memcpy(&x, &value, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t abs = x & 0x7FFFFFFFu;
  if (abs >= 0x7F800000u) return sign | 0x7C00u | (abs > 0x7F800000u ? 0x200u : 0u);
  if (abs >= 0x477FF000u) return sign | 0x7C00u;  // rounds to infinity
  if (abs < 0x38800000u) {                        // subnormal or zero in half
    if (abs < 0x33000000u) return sign;
    const uint32_t exponent = abs >> 23;
    const uint32_t mantissa = (abs & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126 - exponent;  // 14 + (112 - exponent) + 1 - 1
    uint32_t half = mantissa >> shift;
    const uint32_t rest = mantissa & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
    return sign | static_cast<uint16_t>(half);
  }
  uint32_t half = ((abs >> 13) - (112u << 10));
  const uint32_t rest = abs & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;
  return sign | static_cast<uint16_t>(half);
}

float bfloat16_to_float(uint16_t bits) {
  const uint32_t out = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &out, 4);
  return f;
}

}  // namespace msinet::weights
