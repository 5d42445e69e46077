// Decoding by content, encoders and map writers of the image pipeline.
// Fixture images are written at test time with OpenCV; .npy files are checked with NumPy.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "msinet/data/image.h"
#include "msinet/util/error.h"
#include "test_support.h"

namespace msinet::data {
namespace {

namespace fs = std::filesystem;

const char* const kPython = "/usr/bin/python3";

class ImageIo : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("msinet_image_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_text(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
  }

  std::string read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::vector<std::string> names() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
};

template <typename F>
void expect_error(F&& f, ErrorCode code, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    for (const auto& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "'" << e.what() << "' lacks '" << part << "'";
    }
  }
}

// A 2x3 BGR image for cv::imwrite: (0,0) pure red, (0,1) pure green, (0,2) pure blue,
// second row white, black, grey 128.
cv::Mat bgr_fixture() {
  cv::Mat m(2, 3, CV_8UC3);
  m.at<cv::Vec3b>(0, 0) = {0, 0, 255};
  m.at<cv::Vec3b>(0, 1) = {0, 255, 0};
  m.at<cv::Vec3b>(0, 2) = {255, 0, 0};
  m.at<cv::Vec3b>(1, 0) = {255, 255, 255};
  m.at<cv::Vec3b>(1, 1) = {0, 0, 0};
  m.at<cv::Vec3b>(1, 2) = {128, 128, 128};
  return m;
}

TEST_F(ImageIo, DecodesPngAsRgbFloat) {
  const fs::path p = dir_ / "red.png";
  ASSERT_TRUE(cv::imwrite(p.string(), bgr_fixture()));
  const cv::Mat rgb = decode_image(p, 3);
  ASSERT_EQ(rgb.type(), CV_32FC3);
  ASSERT_EQ(rgb.size(), cv::Size(3, 2));
  EXPECT_EQ(rgb.at<cv::Vec3f>(0, 0), cv::Vec3f(255, 0, 0));
  EXPECT_EQ(rgb.at<cv::Vec3f>(0, 1), cv::Vec3f(0, 255, 0));
  EXPECT_EQ(rgb.at<cv::Vec3f>(0, 2), cv::Vec3f(0, 0, 255));
  EXPECT_EQ(rgb.at<cv::Vec3f>(1, 2), cv::Vec3f(128, 128, 128));
  // One channel: luminance, 0.299 * 255 = 76.2 for pure red, 0.114 * 255 = 29.1 for blue.
  const cv::Mat gray = decode_image(p, 1);
  ASSERT_EQ(gray.type(), CV_32FC1);
  EXPECT_NEAR(gray.at<float>(0, 0), 76.0f, 1.0f);
  EXPECT_NEAR(gray.at<float>(0, 2), 29.0f, 1.0f);
  EXPECT_EQ(gray.at<float>(1, 0), 255.0f);
}

TEST_F(ImageIo, DecodesByContentNotExtension) {
  cv::Mat red(8, 16, CV_8UC3, cv::Scalar(0, 0, 255));
  ASSERT_TRUE(cv::imwrite((dir_ / "a.jpg").string(), red, {cv::IMWRITE_JPEG_QUALITY, 100}));
  fs::rename(dir_ / "a.jpg", dir_ / "really_a_jpeg.png");
  const cv::Mat a = decode_image(dir_ / "really_a_jpeg.png", 3);
  ASSERT_EQ(a.size(), cv::Size(16, 8));
  EXPECT_GT(a.at<cv::Vec3f>(4, 8)[0], 240.0f);  // red stays in channel 0
  EXPECT_LT(a.at<cv::Vec3f>(4, 8)[2], 15.0f);

  ASSERT_TRUE(cv::imwrite((dir_ / "b.png").string(), bgr_fixture()));
  fs::rename(dir_ / "b.png", dir_ / "really_a_png.jpg");
  EXPECT_EQ(decode_image(dir_ / "really_a_png.jpg", 3).at<cv::Vec3f>(0, 0), cv::Vec3f(255, 0, 0));
}

TEST_F(ImageIo, IgnoresExifOrientationLikeTensorFlow) {
  // An 8x16 JPEG with an Exif APP1 segment saying "rotate 90 degrees" (orientation 6), inserted
  // right after SOI: little-endian TIFF header, one IFD entry (tag 0x0112, SHORT, count 1, 6).
  std::vector<uchar> buf;
  ASSERT_TRUE(cv::imencode(".jpg", cv::Mat(8, 16, CV_8UC3, cv::Scalar(50, 100, 150)), buf));
  const unsigned char app1[] = {0xFF, 0xE1, 0x00, 0x22, 'E',  'x',  'i',  'f',  0,
                                0,    'I',  'I',  0x2A, 0x00, 0x08, 0x00, 0x00, 0x00,
                                0x01, 0x00, 0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00,
                                0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  buf.insert(buf.begin() + 2, std::begin(app1), std::end(app1));
  // OpenCV on its own would rotate it.
  ASSERT_EQ(cv::imdecode(buf, cv::IMREAD_COLOR).size(), cv::Size(8, 16));
  write_text(dir_ / "rotated.jpg", std::string(buf.begin(), buf.end()));
  EXPECT_EQ(decode_image(dir_ / "rotated.jpg", 3).size(), cv::Size(16, 8));
  EXPECT_EQ(decode_image(dir_ / "rotated.jpg", 1).size(), cv::Size(16, 8));
}

TEST_F(ImageIo, BadFilesNameThePath) {
  write_text(dir_ / "empty.jpg", "");
  expect_error([&] { decode_image(dir_ / "empty.jpg", 3); }, ErrorCode::kInput,
               {"empty.jpg", "empty"});
  write_text(dir_ / "notes.png", "this is text, not an image\n");
  expect_error([&] { decode_image(dir_ / "notes.png", 3); }, ErrorCode::kInput,
               {"notes.png", "not a JPEG or PNG file"});
  // PNG signature followed by garbage.
  write_text(dir_ / "broken.png", std::string("\x89PNG\r\n\x1a\n", 8) + std::string(64, 'x'));
  expect_error([&] { decode_image(dir_ / "broken.png", 1); }, ErrorCode::kInput,
               {"broken.png", "corrupt"});
  // A PNG cut in half.
  ASSERT_TRUE(cv::imwrite((dir_ / "whole.png").string(), cv::Mat(64, 64, CV_8UC1, 9)));
  const std::string whole = read_bytes(dir_ / "whole.png");
  write_text(dir_ / "half.png", whole.substr(0, whole.size() / 2));
  expect_error([&] { decode_image(dir_ / "half.png", 1); }, ErrorCode::kInput,
               {"half.png", "corrupt or truncated PNG"});
  // JPEG signature followed by garbage.
  write_text(dir_ / "broken.jpg", std::string("\xff\xd8\xff\xe0", 4) + std::string(64, '\0'));
  expect_error([&] { decode_image(dir_ / "broken.jpg", 3); }, ErrorCode::kInput,
               {"broken.jpg", "JPEG"});
  // Another format OpenCV could read.
  ASSERT_TRUE(cv::imwrite((dir_ / "pic.bmp").string(), bgr_fixture()));
  fs::rename(dir_ / "pic.bmp", dir_ / "pic.jpg");
  expect_error([&] { decode_image(dir_ / "pic.jpg", 3); }, ErrorCode::kInput,
               {"pic.jpg", "not a JPEG or PNG file"});
  expect_error([&] { decode_image(dir_ / "missing.jpg", 3); }, ErrorCode::kInput,
               {"missing.jpg", "no such file"});
  expect_error([&] { decode_image(dir_, 3); }, ErrorCode::kInput, {dir_.string(), "folder"});
  expect_error([&] { decode_image_bytes("x", 2, "x"); }, ErrorCode::kInternal, {"1 or 3"});
}

// libjpeg decodes a JPEG cut short with only a warning (grey below the cut); msinet refuses it.
TEST_F(ImageIo, TruncatedJpegIsAnErrorNotAGreyImage) {
  std::vector<uchar> buf;
  ASSERT_TRUE(cv::imencode(".jpg", bgr_fixture(), buf));
  const std::string whole(buf.begin(), buf.end());
  ASSERT_EQ(whole.substr(whole.size() - 2), std::string("\xff\xd9", 2));
  EXPECT_NO_THROW(decode_image_bytes(whole, 3, "whole.jpg"));
  // Bytes after the end marker (some cameras append data) are no reason to refuse.
  EXPECT_NO_THROW(decode_image_bytes(whole + std::string(100, '\x01'), 3, "trailing.jpg"));
  for (const size_t keep : {whole.size() - 2, whole.size() * 2 / 3, size_t{40}}) {
    expect_error([&] { decode_image_bytes(whole.substr(0, keep), 3, "cut.jpg"); },
                 ErrorCode::kInput, {"cut.jpg", "truncated JPEG"});
  }
  // An end marker inside a segment before the image data (an EXIF thumbnail) does not count.
  const std::string app1 = std::string("\xff\xe1\x00\x06\xff\xd9\x00\x00", 8);
  const std::string with_thumb = whole.substr(0, 2) + app1 + whole.substr(2);
  EXPECT_NO_THROW(decode_image_bytes(with_thumb, 3, "thumb.jpg"));
  expect_error(
      [&] { decode_image_bytes(with_thumb.substr(0, with_thumb.size() * 2 / 3), 3, "cut.jpg"); },
      ErrorCode::kInput, {"truncated JPEG"});
}

TEST_F(ImageIo, SniffsMagicNumbers) {
  EXPECT_EQ(sniff_image_format(std::string("\xff\xd8\xff\xdb", 4)), ImageFormat::kJpeg);
  EXPECT_EQ(sniff_image_format(std::string("\x89PNG\r\n\x1a\n", 8)), ImageFormat::kPng);
  EXPECT_EQ(sniff_image_format(std::string("\x89PNG\r\n", 6)), ImageFormat::kUnknown);
  EXPECT_EQ(sniff_image_format("GIF89a"), ImageFormat::kUnknown);
  EXPECT_EQ(sniff_image_format(""), ImageFormat::kUnknown);
}

TEST_F(ImageIo, PngRoundTripKeepsRgbOrder) {
  cv::Mat rgb(1, 2, CV_8UC3);
  rgb.at<cv::Vec3b>(0, 0) = {255, 0, 0};
  rgb.at<cv::Vec3b>(0, 1) = {1, 2, 3};
  write_png_u8(dir_ / "rgb.png", rgb);
  // OpenCV reads BGR: red must land in its last channel.
  const cv::Mat bgr = cv::imread((dir_ / "rgb.png").string(), cv::IMREAD_COLOR);
  EXPECT_EQ(bgr.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 255));
  const cv::Mat back = decode_image(dir_ / "rgb.png", 3);
  EXPECT_EQ(back.at<cv::Vec3f>(0, 0), cv::Vec3f(255, 0, 0));
  EXPECT_EQ(back.at<cv::Vec3f>(0, 1), cv::Vec3f(1, 2, 3));
  EXPECT_EQ(names(), std::vector<std::string>{"rgb.png"});
}

TEST_F(ImageIo, ParsesMapFormats) {
  EXPECT_EQ(parse_map_format("jpg"), MapFormat::kJpeg);
  EXPECT_EQ(parse_map_format("JPEG"), MapFormat::kJpeg);
  EXPECT_EQ(parse_map_format("png"), MapFormat::kPng);
  EXPECT_EQ(parse_map_format("Npy"), MapFormat::kNpy);
  expect_error([] { parse_map_format("gif"); }, ErrorCode::kUsage, {"'gif'", "jpeg", "npy"});
  EXPECT_EQ(map_file_extension(MapFormat::kJpeg), ".jpeg");
  EXPECT_EQ(map_file_extension(MapFormat::kPng), ".png");
  EXPECT_EQ(map_file_extension(MapFormat::kNpy), ".npy");
}

cv::Mat ramp_map() {
  // 2x3: 0, 51, 102 / 127.5, 204, 255.
  cv::Mat m(2, 3, CV_32FC1);
  const float v[6] = {0, 51, 102, 127.5f, 204, 255};
  for (int i = 0; i < 6; ++i) m.at<float>(i / 3, i % 3) = v[i];
  return m;
}

TEST_F(ImageIo, WritesNpyReadableByNumpy) {
  if (!fs::exists(kPython)) GTEST_SKIP() << kPython << " not installed";
  const fs::path p = dir_ / "map.npy";
  write_map(p, ramp_map(), MapFormat::kNpy);
  EXPECT_EQ(names(), std::vector<std::string>{"map.npy"});
  // NumPy checks shape, dtype, byte order and values: map / 255 in float32.
  const std::string cmd = std::string(kPython) +
                          " -c \"import sys, numpy as np; a = np.load(sys.argv[1]); "
                          "assert a.shape == (2, 3), a.shape; assert a.dtype == np.dtype('<f4'), "
                          "a.dtype; assert a[1, 0] == np.float32(0.5), a; "
                          "assert a[0, 1] == np.float32(51) / np.float32(255), a; "
                          "assert a[1, 2] == 1.0 and a[0, 0] == 0.0, a\" '" +
                          p.string() + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  // Header: magic, version 1.0, 64-byte aligned data offset.
  const std::string bytes = read_bytes(p);
  ASSERT_GT(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_len =
      static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  EXPECT_EQ(bytes.size(), 10 + header_len + 6 * 4);
}

TEST_F(ImageIo, WritesGrayscaleJpegAndPng) {
  const cv::Mat m = ramp_map();
  write_map(dir_ / "map.jpeg", m, MapFormat::kJpeg);
  write_map(dir_ / "map.png", m, MapFormat::kPng);
  EXPECT_EQ((names()), (std::vector<std::string>{"map.jpeg", "map.png"}));  // no temporaries

  const std::string jpeg = read_bytes(dir_ / "map.jpeg");
  EXPECT_EQ(sniff_image_format(jpeg), ImageFormat::kJpeg);
  const cv::Mat j = cv::imread((dir_ / "map.jpeg").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(j.type(), CV_8UC1);  // grayscale JPEG
  ASSERT_EQ(j.size(), cv::Size(3, 2));
  // Quality 100: within a couple of levels of the rounded values (127.5 -> 128 half-even).
  const int want[6] = {0, 51, 102, 128, 204, 255};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(j.at<uchar>(i / 3, i % 3), want[i], 3) << i;

  const cv::Mat p = cv::imread((dir_ / "map.png").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(p.type(), CV_8UC1);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(p.at<uchar>(i / 3, i % 3), want[i]) << i;

  // Overwriting an existing file replaces it whole.
  write_map(dir_ / "map.png", cv::Mat(4, 5, CV_32FC1, cv::Scalar(7)), MapFormat::kPng);
  EXPECT_EQ(cv::imread((dir_ / "map.png").string(), cv::IMREAD_UNCHANGED).size(), cv::Size(5, 4));
  EXPECT_EQ((names()), (std::vector<std::string>{"map.jpeg", "map.png"}));
}

TEST_F(ImageIo, WriteMapReportsUnwritablePaths) {
  write_text(dir_ / "file", "x");
  // A path below a regular file cannot be created.
  expect_error([&] { write_map(dir_ / "file" / "m.png", ramp_map(), MapFormat::kPng); },
               ErrorCode::kIo, {"file"});
}

TEST_F(ImageIo, DecodePreprocessRestoreEndToEnd) {
  // A 30x40 PNG through the whole test-time path comes back at 30x40.
  cv::Mat bgr(30, 40, CV_8UC3, cv::Scalar(10, 20, 30));
  ASSERT_TRUE(cv::imwrite((dir_ / "in.png").string(), bgr));
  const cv::Mat rgb = decode_image(dir_ / "in.png", 3);
  const cv::Mat x = preprocess_stimulus(rgb, 24, 24);
  ASSERT_EQ(x.size(), cv::Size(24, 24));
  // 30x40 into 24x24: ratio 0.6 -> 18x24, rows 3..20 hold the image, the rest is 126.
  EXPECT_EQ(x.at<cv::Vec3f>(2, 5), cv::Vec3f(126, 126, 126));
  EXPECT_NEAR(x.at<cv::Vec3f>(3, 5)[0], 30.0f, 1e-3);
  EXPECT_EQ(x.at<cv::Vec3f>(21, 5), cv::Vec3f(126, 126, 126));
  const cv::Mat pred(24, 24, CV_32FC1, cv::Scalar(0.25));
  const cv::Mat back = restore_map(pred, 30, 40);
  ASSERT_EQ(back.size(), cv::Size(40, 30));
  write_map(dir_ / "in.jpeg", back, MapFormat::kJpeg);
  const cv::Mat j = cv::imread((dir_ / "in.jpeg").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(j.size(), cv::Size(40, 30));
  EXPECT_NEAR(j.at<uchar>(15, 20), 64, 1);  // 0.25 * 255 = 63.75 -> 64
}

// Expected sizes are those the images were made with.
TEST(ImageHeader, DimensionsComeFromThePngHeaderAndTheJpegFrame) {
  const cv::Mat img(37, 53, CV_8UC3, cv::Scalar(10, 200, 30));
  const std::string png = encode_png(img);
  const std::string jpeg = encode_jpeg(img, 90);
  EXPECT_EQ(image_dimensions(png), (Size2{37, 53}));
  EXPECT_EQ(image_dimensions(jpeg), (Size2{37, 53}));
  // A 60 000-byte APP1 segment (an EXIF block) before the frame header is walked over.
  std::string app1 = "\xFF\xE1";
  app1 += static_cast<char>(60000 >> 8);
  app1 += static_cast<char>(60000 & 0xFF);
  app1 += std::string(60000 - 2, 'x');
  const std::string long_jpeg = jpeg.substr(0, 2) + app1 + jpeg.substr(2);
  EXPECT_EQ(image_dimensions(long_jpeg), (Size2{37, 53}));
  EXPECT_EQ(decode_image_bytes(long_jpeg, 3, "long.jpg").size(), cv::Size(53, 37));
  EXPECT_EQ(image_dimensions(png.substr(0, 20)), (Size2{0, 0}));
  EXPECT_EQ(image_dimensions("not an image"), (Size2{0, 0}));
}

TEST(ImageHeader, ImagesOverTheLimitAreRefusedBeforeDecoding) {
  const cv::Mat img(40, 30, CV_8UC3, cv::Scalar(1, 2, 3));  // 1200 pixels
  set_max_image_pixels(1199);
  const Error e =
      msinet::testing::thrown_error([&] { decode_image_bytes(encode_png(img), 3, "a.png"); });
  set_max_image_pixels(1200);
  EXPECT_EQ(decode_image_bytes(encode_jpeg(img, 90), 3, "a.jpg").size(), cv::Size(30, 40));
  set_max_image_pixels(kDefaultMaxImagePixels);
  EXPECT_EQ(e.code(), ErrorCode::kInput);
  EXPECT_NE(std::string(e.what()).find("'a.png': it declares 40x30 pixels (0.0 megapixels)"),
            std::string::npos)
      << e.what();
  // A JPEG frame header claiming 60000x60000 is refused at once, whatever follows it.
  std::string jpeg = encode_jpeg(img, 90);
  const size_t sof = jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  jpeg[sof + 5] = jpeg[sof + 7] = static_cast<char>(0xEA);  // 0xEA60 = 60000
  jpeg[sof + 6] = jpeg[sof + 8] = static_cast<char>(0x60);
  const Error big = msinet::testing::thrown_error([&] { decode_image_bytes(jpeg, 3, "b.jpg"); });
  EXPECT_NE(std::string(big.what())
                .find("60000x60000 pixels (3600.0 megapixels), over the limit "
                      "of 100 megapixels"),
            std::string::npos)
      << big.what();
}

// libpng's own error lines ("libpng error: ...") must not reach stderr; its reason is in ours.
TEST(ImageHeader, CorruptPngGivesLibpngsReasonAndPrintsNothing) {
  cv::Mat img(16, 16, CV_8UC3);
  cv::randu(img, 0, 255);
  const std::string png = encode_png(img);
  const size_t idat = png.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  std::string flipped = png;
  flipped[idat + 10] = static_cast<char>(flipped[idat + 10] ^ 0x5A);
  for (const std::string& bad : {png.substr(0, idat + 20), flipped}) {
    ::testing::internal::CaptureStderr();
    const Error e = msinet::testing::thrown_error([&] { decode_image_bytes(bad, 3, "bad.png"); });
    const std::string printed = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(e.code(), ErrorCode::kInput);
    EXPECT_NE(std::string(e.what()).find("'bad.png': corrupt or truncated PNG data ("),
              std::string::npos)
        << e.what();
    EXPECT_EQ(printed, "");
  }
}

}  // namespace
}  // namespace msinet::data
