#pragma once
// CRC32C (Castagnoli) and the masking TensorFlow's table and bundle formats apply to it.

#include <cstdint>
#include <string_view>

namespace msinet::weights {

/// Extends `crc` (0 to start) over `data`; CRC32C, polynomial 0x1EDC6F41.
uint32_t crc32c_extend(uint32_t crc, std::string_view data);

/// CRC32C of `data`.
inline uint32_t crc32c(std::string_view data) { return crc32c_extend(0, data); }

/// The masked form stored in files (rotate right by 15, add a constant).
// ref: tensorflow/tsl/lib/hash/crc32c.h Mask
inline uint32_t crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

/// Inverse of crc32c_mask.
// ref: tensorflow/tsl/lib/hash/crc32c.h Unmask
inline uint32_t crc32c_unmask(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace msinet::weights
