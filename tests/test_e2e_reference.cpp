// End to end against TensorFlow semantics: random full-size MSI-Net weights written as a TF.js
// model (float32, and uint8-quantized in an extensionless shard), imported with the real binary,
// run with `msinet test -d salicon --size 240x320 --format npy` on a 240x320 PNG, and compared
// with tests/tools/tf_reference_forward.py, an independent NumPy forward pass (float64) of the
// same weights and pixels. Then images of other sizes through the whole test-time pipeline
// (resize, padding, inverse resize, crop) at a small input size, compared with
// tests/tools/tf_reference_pipeline.py.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "msinet/weights/writers.h"
#include "test_support.h"
#include "tools/synthetic_photo.h"

namespace msinet {
namespace {

namespace fs = std::filesystem;
using testing::Process;
using testing::run_msinet;
using testing::TempDir;

constexpr int kHeight = 240;
constexpr int kWidth = 320;
constexpr double kTolerance = 1e-4;  // largest allowed |msinet - reference| per pixel

// (scope, kernel size, in channels, out channels): reference-semantics.md section 1.
struct Layer {
  const char* scope;
  int k, cin, cout;
};
constexpr Layer kLayers[] = {
    {"conv1/conv1_1", 3, 3, 64},    {"conv1/conv1_2", 3, 64, 64},   {"conv2/conv2_1", 3, 64, 128},
    {"conv2/conv2_2", 3, 128, 128}, {"conv3/conv3_1", 3, 128, 256}, {"conv3/conv3_2", 3, 256, 256},
    {"conv3/conv3_3", 3, 256, 256}, {"conv4/conv4_1", 3, 256, 512}, {"conv4/conv4_2", 3, 512, 512},
    {"conv4/conv4_3", 3, 512, 512}, {"conv5/conv5_1", 3, 512, 512}, {"conv5/conv5_2", 3, 512, 512},
    {"conv5/conv5_3", 3, 512, 512}, {"aspp/conv1_1", 1, 1280, 256}, {"aspp/conv1_2", 3, 1280, 256},
    {"aspp/conv1_3", 3, 1280, 256}, {"aspp/conv1_4", 3, 1280, 256}, {"aspp/conv1_5", 1, 1280, 256},
    {"aspp/conv2", 1, 1280, 256},   {"decoder/conv1", 3, 256, 128}, {"decoder/conv2", 3, 128, 64},
    {"decoder/conv3", 3, 64, 32},   {"decoder/conv4", 3, 32, 1},
};

// He-normal kernels (std sqrt(2 / fan_in)) keep activations in a sane range through all 23
// layers; small random biases. HWIO, TensorFlow names.
weights::NamedTensors random_weights(uint32_t seed) {
  std::mt19937 rng(seed);
  weights::NamedTensors out;
  for (const Layer& l : kLayers) {
    const int fan_in = l.k * l.k * l.cin;
    std::normal_distribution<float> kd(0.0f, std::sqrt(2.0f / fan_in));
    std::normal_distribution<float> bd(0.0f, 0.1f);
    weights::FloatTensor kern{{l.k, l.k, l.cin, l.cout},
                              std::vector<float>(size_t(fan_in) * l.cout)};
    for (float& v : kern.values) v = kd(rng);
    weights::FloatTensor bias{{l.cout}, std::vector<float>(size_t(l.cout))};
    for (float& v : bias.values) v = bd(rng);
    out[std::string(l.scope) + "/kernel"] = std::move(kern);
    out[std::string(l.scope) + "/bias"] = std::move(bias);
  }
  return out;
}

// A 240x320 photo (OpenCV's sample fruits.jpg, resized to cover and centre-cropped), or a
// synthetic picture where the sample is not installed. BGR, as OpenCV writes it.
cv::Mat test_picture() {
  const cv::Mat photo =
      cv::imread("/usr/share/doc/opencv-doc/examples/data/fruits.jpg", cv::IMREAD_COLOR);
  if (!photo.empty()) {
    const double s = std::max(double(kHeight) / photo.rows, double(kWidth) / photo.cols);
    cv::Mat big;
    cv::resize(photo, big,
               cv::Size(std::max(kWidth, int(std::ceil(photo.cols * s))),
                        std::max(kHeight, int(std::ceil(photo.rows * s)))),
               0, 0, cv::INTER_AREA);
    const cv::Rect crop((big.cols - kWidth) / 2, (big.rows - kHeight) / 2, kWidth, kHeight);
    return big(crop).clone();
  }
  cv::Mat img(kHeight, kWidth, CV_8UC3);
  cv::RNG rng(5);
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      img.at<cv::Vec3b>(y, x) =
          cv::Vec3b(uchar(x * 255 / kWidth), uchar(y * 255 / kHeight), uchar(rng.uniform(0, 64)));
    }
  }
  cv::circle(img, {200, 90}, 45, cv::Scalar(30, 60, 230), cv::FILLED);
  cv::rectangle(img, {40, 140}, {130, 220}, cv::Scalar(240, 240, 20), cv::FILLED);
  return img;
}

// A NumPy .npy array (little-endian <f4, <f8 or |u1, C order) as doubles, with its shape.
struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<double> values;
};

// Reports a failure and returns an empty array when the file is missing or not as expected.
NpyArray read_npy(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) {
    ADD_FAILURE() << path << ": missing or not a .npy file";
    return {};
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    start = 10;
  } else {
    for (int i = 0; i < 4; ++i)
      header_len |= size_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    start = 12;
  }
  const std::string header = bytes.substr(start, header_len);
  if (header.find("'fortran_order': False") == std::string::npos) {
    ADD_FAILURE() << path << ": Fortran order: " << header;
    return {};
  }
  NpyArray a;
  const size_t open = header.find('(', header.find("'shape'"));
  if (open == std::string::npos) {
    ADD_FAILURE() << path << ": no shape: " << header;
    return {};
  }
  std::stringstream dims(header.substr(open + 1, header.find(')', open) - open - 1));
  for (std::string d; std::getline(dims, d, ',');) {
    if (d.find_first_of("0123456789") != std::string::npos) a.shape.push_back(std::stoll(d));
  }
  size_t n = 1;
  for (int64_t d : a.shape) n *= size_t(d);
  const char* data = bytes.data() + start + header_len;
  const size_t avail = bytes.size() - start - header_len;
  a.values.resize(n);
  if (header.find("'<f4'") != std::string::npos && avail == n * 4) {
    for (size_t i = 0; i < n; ++i) {
      float v;
      std::memcpy(&v, data + 4 * i, 4);
      a.values[i] = v;
    }
  } else if (header.find("'<f8'") != std::string::npos && avail == n * 8) {
    std::memcpy(a.values.data(), data, n * 8);
  } else if (header.find("'|u1'") != std::string::npos && avail == n) {
    for (size_t i = 0; i < n; ++i) a.values[i] = static_cast<unsigned char>(data[i]);
  } else {
    ADD_FAILURE() << path << ": unexpected dtype or size: " << header;
    return {};
  }
  return a;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double max_abs_diff(const NpyArray& a, const NpyArray& b) {
  double worst = 0;
  for (size_t i = 0; i < a.values.size(); ++i)
    worst = std::max(worst, std::abs(a.values[i] - b.values[i]));
  return worst;
}

// Standard deviation of a map: a map with real structure (not constant, not a single spike)
// makes the comparison mean something.
double map_std(const NpyArray& m) {
  double mean = 0, var = 0;
  for (double v : m.values) mean += v;
  mean /= double(m.values.size());
  for (double v : m.values) var += (v - mean) * (v - mean);
  return std::sqrt(var / double(m.values.size()));
}

std::string reference_script(const std::string& name) {
  return std::string(MSINET_SOURCE_DIR) + "/tests/tools/" + name;
}

// Writes the random weights as TF.js to dir/tfjs/model.json (checking the tensor count and the
// shard bytes) and returns that path.
fs::path write_random_tfjs(const fs::path& dir, const weights::TfjsWriteOptions& options) {
  const fs::path model_json = dir / "tfjs" / "model.json";
  const weights::NamedTensors tensors = random_weights(20240611);
  size_t total = 0;
  for (const auto& kv : tensors) total += kv.second.values.size();
  EXPECT_EQ(tensors.size(), 46u);
  EXPECT_EQ(total, 24934209u);  // reference-semantics.md section 1
  weights::write_tfjs(model_json, tensors, options);
  uintmax_t shard_bytes = 0;
  for (const auto& e : fs::directory_iterator(model_json.parent_path())) {
    if (e.path() != model_json) {
      EXPECT_EQ(e.path().extension(), options.shard_extension) << e.path();
      shard_bytes += fs::file_size(e.path());
    }
  }
  const bool uint8 = options.quantization == weights::TfjsQuantization::kUint8;
  EXPECT_EQ(shard_bytes, total * (uint8 ? 1 : 4));
  return model_json;
}

// Writes the weights as TF.js, imports them, runs `msinet test` on the imported checkpoint and
// on the TF.js file directly, runs the NumPy reference, and compares. Returns the max |diff|.
double check_against_reference(const weights::TfjsWriteOptions& options, const std::string& tag) {
  const auto t0 = std::chrono::steady_clock::now();
  TempDir tmp("e2e-" + tag);
  const fs::path dir = tmp.path();
  const fs::path model_json = write_random_tfjs(dir, options);

  const fs::path png = dir / "images" / "img.png";
  fs::create_directories(png.parent_path());
  const cv::Mat bgr = test_picture();
  EXPECT_TRUE(cv::imwrite(png.string(), bgr));

  // The reference runs in the background while the binary works.
  const std::string script = reference_script("tf_reference_forward.py");
  const fs::path ref_npy = dir / "reference.npy", pixels_npy = dir / "pixels.npy";
  Process reference({"/usr/bin/python3", script, "--weights-json", model_json.string(), "--image",
                     png.string(), "--out", ref_npy.string(), "--pixels-out", pixels_npy.string()},
                    dir);

  std::string out;
  const fs::path imported = dir / "imported.msinet";
  EXPECT_EQ(run_msinet({"import", model_json.string(), "-o", imported.string()}, dir, &out), 0)
      << out;
  const auto run_test = [&](const fs::path& weights, const fs::path& outdir) {
    const int rc = run_msinet(
        {"test", "-d", "salicon", "--size", "240x320", "--weights", weights.string(), "--format",
         "npy", "-p", png.string(), "-o", outdir.string(), "--device", "cpu"},
        dir, &out);
    EXPECT_EQ(rc, 0) << out;
    return read_npy(outdir / "img.npy");
  };
  const NpyArray ours = run_test(imported, dir / "maps-imported");
  const NpyArray direct = run_test(model_json, dir / "maps-direct");
  const double binary_s = seconds_since(t0);

  const int ref_rc = reference.wait();
  EXPECT_EQ(ref_rc, 0) << reference.output();
  if (ref_rc != 0) return INFINITY;
  const NpyArray ref = read_npy(ref_npy);

  // The reference decoded the PNG to the pixels OpenCV wrote.
  const NpyArray pixels = read_npy(pixels_npy);
  EXPECT_EQ(pixels.shape, (std::vector<int64_t>{kHeight, kWidth, 3}));
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  size_t pixel_mismatches = 0;
  for (size_t i = 0; i < pixels.values.size() && i < rgb.total() * 3; ++i) {
    pixel_mismatches += pixels.values[i] != rgb.data[i];
  }
  EXPECT_EQ(pixel_mismatches, 0u);

  const std::vector<int64_t> shape = {kHeight, kWidth};
  EXPECT_EQ(ours.shape, shape);
  EXPECT_EQ(direct.shape, shape);
  EXPECT_EQ(ref.shape, shape);
  if (ours.shape != shape || direct.shape != shape || ref.shape != shape) return INFINITY;

  // TF.js read directly gives the identical map.
  EXPECT_EQ(max_abs_diff(ours, direct), 0.0);

  const double sd = map_std(ref);
  EXPECT_GT(sd, 0.05) << "degenerate reference map";

  const double diff = max_abs_diff(ours, ref);
  EXPECT_LE(diff, kTolerance);
  std::cout << tag << ": max |msinet - reference| = " << diff << ", reference map std " << sd
            << "; binary " << binary_s << " s, total " << seconds_since(t0) << " s\n"
            << "  reference: " << reference.output();
  ::testing::Test::RecordProperty("max_abs_diff_" + tag, std::to_string(diff));
  return diff;
}

TEST(EndToEndReference, Float32TfjsImportMatchesTensorFlowSemantics) {
  ASSERT_TRUE(fs::exists(testing::msinet_binary())) << "build the msinet target first";
  check_against_reference({}, "float32");
}

TEST(EndToEndReference, Uint8TfjsImportMatchesTensorFlowSemantics) {
  ASSERT_TRUE(fs::exists(testing::msinet_binary())) << "build the msinet target first";
  weights::TfjsWriteOptions o;
  o.quantization = weights::TfjsQuantization::kUint8;
  o.shard_extension = "";
  o.shard_prefix = "group1-shard";
  check_against_reference(o, "uint8");
}

// Images of several sizes and shapes at a small input size, so that every step of the test-time
// pipeline acts: shrinking (area) and enlarging (bicubic) on the way in, padding with 126 (an
// odd amount too), the inverse resize (overfull, area and bicubic), the centre crop (an odd
// remainder too), and sizes h * ratio = k + 0.5 that round half to even. The folder goes through
// `msinet test` once while the reference maps each image.
TEST(EndToEndReference, TestTimePipelineMatchesTensorFlowSemantics) {
  ASSERT_TRUE(fs::exists(testing::msinet_binary())) << "build the msinet target first";
  const auto t0 = std::chrono::steady_clock::now();
  TempDir tmp("e2e-pipeline");
  const fs::path dir = tmp.path();
  const fs::path model_json = write_random_tfjs(dir, {});
  const std::string size = "48x64";
  // h x w, and what the pipeline does with it at 48x64 (reference-semantics.md section 2).
  struct Case {
    int h, w;
    const char* steps;
  };
  constexpr Case kCases[] = {
      {37, 91, "area to 26x64, 11 + 11 rows of padding; bicubic to 68x91, crop at row 15"},
      {150, 64, "area to 48x20, 22 + 22 columns of padding; bicubic to 150x200, crop at column 68"},
      {61, 61, "area to 48x48, 8 + 8 columns of padding; bicubic to 61x81, crop at column 10"},
      {300, 200, "area to 48x32; bicubic to 300x400, crop at column 100"},
      {20, 30,
       "bicubic to 43x64, 2 + 3 rows of padding; area to 22x30 (22.5 rounds to 22), crop at row 1"},
      {21, 128, "area to 10x64 (10.5 rounds to 10); bicubic to 96x128, crop at row 37 (75 / 2)"},
  };
  std::vector<std::string> ref_args = {
      "/usr/bin/python3", reference_script("tf_reference_pipeline.py"),
      "--weights-json",   model_json.string(),
      "--size",           size};
  cv::RNG rng(11);
  fs::create_directories(dir / "images");
  fs::create_directories(dir / "reference");
  for (const Case& c : kCases) {
    const std::string stem = std::to_string(c.h) + "x" + std::to_string(c.w);
    const fs::path png = dir / "images" / (stem + ".png");
    cv::Point centre;
    EXPECT_TRUE(cv::imwrite(png.string(), testing::synthetic_photo(c.h, c.w, rng, &centre)));
    ref_args.insert(ref_args.end(), {"--image", png.string(), "--out",
                                     (dir / "reference" / (stem + ".npy")).string()});
  }
  Process reference(ref_args, dir);

  std::string out;
  EXPECT_EQ(
      run_msinet({"test", "--size", size, "--weights", model_json.string(), "--format", "npy", "-p",
                  (dir / "images").string(), "-o", (dir / "maps").string(), "--device", "cpu"},
                 dir, &out),
      0)
      << out;
  const double binary_s = seconds_since(t0);
  const int ref_rc = reference.wait();
  ASSERT_EQ(ref_rc, 0) << reference.output();

  for (const Case& c : kCases) {
    const std::string stem = std::to_string(c.h) + "x" + std::to_string(c.w);
    const NpyArray ours = read_npy(dir / "maps" / (stem + ".npy"));
    const NpyArray ref = read_npy(dir / "reference" / (stem + ".npy"));
    const std::vector<int64_t> shape = {c.h, c.w};
    EXPECT_EQ(ours.shape, shape) << stem;
    EXPECT_EQ(ref.shape, shape) << stem;
    if (ours.shape != shape || ref.shape != shape) continue;
    const double sd = map_std(ref);
    EXPECT_GT(sd, 0.05) << stem << ": degenerate reference map";
    const double diff = max_abs_diff(ours, ref);
    EXPECT_LE(diff, kTolerance) << stem << ": " << c.steps;
    std::cout << stem << " (" << c.steps << "): max |msinet - reference| = " << diff
              << ", reference map std " << sd << "\n";
    ::testing::Test::RecordProperty("max_abs_diff_" + stem, std::to_string(diff));
  }
  std::cout << "binary " << binary_s << " s, total " << seconds_since(t0) << " s\n"
            << "  reference:\n"
            << reference.output();
}

TEST(EndToEndReference, ReferenceOpsPassTheirSelfTest) {
  TempDir tmp("e2e-selftest");
  for (const char* script : {"tf_reference_forward.py", "tf_reference_pipeline.py"}) {
    Process p({"/usr/bin/python3", reference_script(script), "--self-test"}, tmp.path());
    EXPECT_EQ(p.wait(), 0) << script << ": " << p.output();
    EXPECT_NE(p.output().find("self-test: 0 checks failed"), std::string::npos)
        << script << ": " << p.output();
  }
}

}  // namespace
}  // namespace msinet
