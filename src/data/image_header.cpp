// What an encoded image declares before it is decoded: its size (for the pixel limit and the
// pipeline's memory budget) and, for PNG, whether libpng can read it to the end.
#include "image_header.h"

#include <png.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "msinet/data/image.h"

namespace msinet::data {

namespace {

std::atomic<int64_t> g_max_image_pixels{kDefaultMaxImagePixels};

uint32_t big_endian32(const unsigned char* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}

int clamp_to_int(uint32_t v) { return v > 0x7FFFFFFFu ? 0x7FFFFFFF : static_cast<int>(v); }

// ref: PNG specification (ISO/IEC 15948) 5.2 signature, 11.2.2 IHDR (the first chunk)
Size2 png_dimensions(std::string_view bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 24 || std::memcmp(b + 12, "IHDR", 4) != 0) return {};
  return {clamp_to_int(big_endian32(b + 20)), clamp_to_int(big_endian32(b + 16))};
}

// The first start-of-frame segment (SOF0-SOF15 but DHT C4, JPG C8, DAC CC) holds the size.
// ref: ITU T.81 (JPEG) B.2.2 frame header
Size2 jpeg_dimensions(std::string_view bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t pos = 2;  // after SOI
  while (pos + 3 < bytes.size()) {
    if (b[pos] != 0xFF) return {};
    const unsigned char marker = b[pos + 1];
    if (marker == 0xFF) {
      ++pos;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      pos += 2;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return {};  // image data before any frame header
    const size_t length = (static_cast<size_t>(b[pos + 2]) << 8) | b[pos + 3];
    const bool is_frame =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (is_frame) {
      if (pos + 8 >= bytes.size()) return {};
      return {(b[pos + 5] << 8) | b[pos + 6], (b[pos + 7] << 8) | b[pos + 8]};
    }
    pos += 2 + length;
  }
  return {};
}

// libpng reports through these instead of printing "libpng error: ..." on stderr.
struct PngCheck {
  std::string_view bytes;
  size_t pos = 0;
  std::string problem;
  std::vector<unsigned char> row;
};

void on_png_error(png_structp png, png_const_charp message) {
  static_cast<PngCheck*>(png_get_error_ptr(png))->problem = message;
  png_longjmp(png, 1);
}

void on_png_warning(png_structp /*png*/, png_const_charp /*message*/) {}

void read_png_bytes(png_structp png, png_bytep out, size_t n) {
  auto* check = static_cast<PngCheck*>(png_get_io_ptr(png));
  if (n > check->bytes.size() - check->pos) png_error(png, "the file ends before the image does");
  std::memcpy(out, check->bytes.data() + check->pos, n);
  check->pos += n;
}

}  // namespace

void set_max_image_pixels(int64_t pixels) { g_max_image_pixels = pixels; }

int64_t max_image_pixels() { return g_max_image_pixels; }

Size2 image_dimensions(std::string_view bytes) {
  switch (sniff_image_format(bytes)) {
    case ImageFormat::kPng:
      return png_dimensions(bytes);
    case ImageFormat::kJpeg:
      return jpeg_dimensions(bytes);
    case ImageFormat::kUnknown:
      break;
  }
  return {};
}

Size2 read_image_dimensions(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(256 * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  return image_dimensions(head);
}

// Reads every row (all passes when interlaced) and the end chunks, as a decoder does, keeping
// one row in memory. The state libpng's longjmp may skip over lives on the heap (`check`).
std::string png_problem(std::string_view bytes) {
  auto check = std::make_unique<PngCheck>();
  check->bytes = bytes;
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, check.get(), on_png_error, on_png_warning);
  if (png == nullptr) return "libpng could not start";
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return check->problem.empty() ? "unreadable" : check->problem;
  }
  png_set_read_fn(png, check.get(), read_png_bytes);
  png_read_info(png, info);
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  check->row.resize(png_get_rowbytes(png, info));
  const png_uint_32 height = png_get_image_height(png, info);
  for (int pass = 0; pass < passes; ++pass) {
    for (png_uint_32 y = 0; y < height; ++y) png_read_row(png, check->row.data(), nullptr);
  }
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return "";
}

}  // namespace msinet::data
