#pragma once
// Image pipeline: decoding, TF1-exact resizing, padding, test-time restoration and map writing.
//
// Conventions: images are cv::Mat float32 (CV_32FC3 in RGB order, CV_32FC1 for maps), values
// 0..255, height x width. 3-channel matrices handed to the encoders below are RGB as well.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <opencv2/core.hpp>

namespace msinet::data {

/// A height x width pair.
struct Size2 {
  int h = 0;  ///< rows
  int w = 0;  ///< columns
  /// Member-wise equality.
  bool operator==(const Size2& o) const { return h == o.h && w == o.w; }
  /// Member-wise inequality.
  bool operator!=(const Size2& o) const { return !(*this == o); }
};

/// Container formats recognised by their leading bytes.
enum class ImageFormat { kUnknown, kJpeg, kPng };

/// The format of encoded image bytes, from the magic number alone.
ImageFormat sniff_image_format(std::string_view bytes);

/// Default of the largest image decoding accepts: 100 megapixels, 2 GB while being prepared.
inline constexpr int64_t kDefaultMaxImagePixels = 100'000'000;

/// Sets the largest image (height x width) decode_image_bytes accepts, for the whole process
/// (the `max_image_megapixels` configuration key).
void set_max_image_pixels(int64_t pixels);

/// The current limit (kDefaultMaxImagePixels unless set).
int64_t max_image_pixels();

/// The size JPEG or PNG bytes declare in their header (PNG IHDR, JPEG start of frame), without
/// decoding; {0, 0} when it cannot be read from these bytes.
Size2 image_dimensions(std::string_view bytes);

/// image_dimensions() of a file, from its first 256 KiB; {0, 0} when unreadable or unknown.
Size2 read_image_dimensions(const std::filesystem::path& path);

/// Decodes JPEG or PNG bytes (by content); `name` is used in error messages. `channels` 3 gives
/// CV_32FC3 in RGB order, 1 gives CV_32FC1; values 0..255; EXIF orientation is ignored.
/// Throws Error(kInput) naming `name` for empty, unrecognised or corrupt data, including a JPEG
/// cut short (no end-of-image marker after its image data), which libjpeg would decode silently,
/// and PNG data libpng cannot read (with its reason; nothing is printed). An image over
/// max_image_pixels() is refused from its header, before any decoding, with Error(kInput)
/// naming its size and the key that raises the limit.
cv::Mat decode_image_bytes(std::string_view bytes, int channels, const std::string& name);

/// Reads and decodes an image file by content (see decode_image_bytes).
cv::Mat decode_image(const std::filesystem::path& path, int channels);

/// TF1 `resize_area(align_corners=True)` on float data with any channel count; returns float32.
cv::Mat resize_area_tf(const cv::Mat& src, int out_h, int out_w);

/// TF1 legacy `resize_bicubic(align_corners=True)` (A = -0.75, 1025-entry table); float32.
cv::Mat resize_bicubic_tf(const cv::Mat& src, int out_h, int out_w);

/// Aspect-preserving size of an h x w image for a th x tw target: ratio min (max if
/// `overfull`) of th/h and tw/w in double, sides rounded half to even. Throws Error(kInput)
/// when a side would become 0.
Size2 aspect_size(int h, int w, int th, int tw, bool overfull);

/// Resizes to aspect_size(): area when shrinking either side, bicubic otherwise; clips to [0, 255].
cv::Mat aspect_resize(const cv::Mat& src, int th, int tw, bool overfull);

/// Pads to th x tw with `value`: top = floor((th - h) / 2), bottom gets the rest; left/right alike.
cv::Mat pad_to(const cv::Mat& src, int th, int tw, float value);

/// Training and test input: aspect_resize + pad with 126; returns th x tw CV_32FC3.
cv::Mat preprocess_stimulus(const cv::Mat& rgb, int th, int tw);

/// Training target: aspect_resize + pad with 0; returns th x tw CV_32FC1.
cv::Mat preprocess_map(const cv::Mat& map, int th, int tw);

/// Undoes preprocessing of a prediction (values [0, 1]): *255, overfull aspect_resize, centre crop
/// to orig_h x orig_w. Returns CV_32FC1 in [0, 255], not yet rounded.
cv::Mat restore_map(const cv::Mat& pred01, int orig_h, int orig_w);

/// Rounds half to even, clamps to [0, 255] (NaN becomes 0); returns CV_8UC1.
cv::Mat quantize_u8(const cv::Mat& map255);

/// Output format of saliency maps.
enum class MapFormat { kJpeg, kPng, kNpy };

/// Parses "jpg"/"jpeg", "png" or "npy" (case-insensitive); throws Error(kUsage) otherwise.
MapFormat parse_map_format(const std::string& s);

/// The file extension of a format: ".jpeg", ".png" or ".npy".
std::string map_file_extension(MapFormat format);

/// A map (CV_32FC1, 0..255) as float32 values in [0, 1], exactly as kNpy files store it.
cv::Mat unit_map(const cv::Mat& map255);

/// Writes a map (CV_32FC1, 0..255) atomically: kJpeg grayscale quality 100 and kPng 8-bit
/// grayscale of quantize_u8(map255); kNpy float32 (h, w) array of map255 / 255.
void write_map(const std::filesystem::path& path, const cv::Mat& map255, MapFormat format);

/// Float32 C-order little-endian NumPy (.npy v1.0) bytes of a 1-channel matrix, shape (h, w).
std::string encode_npy(const cv::Mat& map);

/// PNG bytes of an 8- or 16-bit 1- or 3-channel (RGB) matrix.
std::string encode_png(const cv::Mat& img);

/// JPEG bytes (baseline, given quality) of an 8-bit 1- or 3-channel (RGB) matrix.
std::string encode_jpeg(const cv::Mat& img, int quality);

/// Writes encode_png(img) atomically.
void write_png_u8(const std::filesystem::path& path, const cv::Mat& img);

/// Writes encode_jpeg(img, quality) atomically.
void write_jpeg_u8(const std::filesystem::path& path, const cv::Mat& img, int quality);

}  // namespace msinet::data
