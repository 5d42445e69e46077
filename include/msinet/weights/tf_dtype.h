#pragma once
// TensorFlow element types (the DataType enum) and their conversion to float32.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace msinet::weights {

/// TensorFlow DataType numbers.
// ref: tensorflow/core/framework/types.proto DataType
enum class TfDtype : int {
  kInvalid = 0,
  kFloat = 1,
  kDouble = 2,
  kInt32 = 3,
  kUint8 = 4,
  kInt16 = 5,
  kInt8 = 6,
  kString = 7,
  kComplex64 = 8,
  kInt64 = 9,
  kBool = 10,
  kQint8 = 11,
  kQuint8 = 12,
  kQint32 = 13,
  kBfloat16 = 14,
  kQint16 = 15,
  kQuint16 = 16,
  kUint16 = 17,
  kComplex128 = 18,
  kHalf = 19,
  kResource = 20,
  kVariant = 21,
  kUint32 = 22,
  kUint64 = 23
};

/// Largest element count accepted for one tensor (4 GiB of float32).
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 30;

/// True for the DataType numbers 1..23.
bool is_known_dtype(int dtype);
/// True when the elements convert to float32 (float, double, half, bfloat16, integers, bool).
bool is_numeric_dtype(int dtype);
/// Bytes per element of a numeric dtype; 0 for the others.
size_t dtype_size(int dtype);
/// A readable name: "float32", "int64", "string", ..., or "dtype <n>" when unknown.
std::string dtype_name(int dtype);

/// Element count of `shape`; throws std::invalid_argument for a negative dimension or more
/// than kMaxTensorElements elements.
int64_t checked_num_elements(const std::vector<int64_t>& shape);
/// "[3, 3, 64]" for messages.
std::string shape_string(const std::vector<int64_t>& shape);

/// Converts little-endian elements of a numeric dtype to float32; `bytes.size()` must be a
/// multiple of dtype_size(dtype).
std::vector<float> convert_to_float(int dtype, std::string_view bytes);

/// IEEE half (binary16) bits to float.
float half_to_float(uint16_t bits);
/// Float to IEEE half bits, rounding to nearest even.
uint16_t float_to_half(float value);
/// bfloat16 bits to float.
float bfloat16_to_float(uint16_t bits);

}  // namespace msinet::weights
