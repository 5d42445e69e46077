// Reading prediction and ground-truth maps: .npy files written by NumPy, images, bad input.

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <fstream>

#include "msinet/eval/map_io.h"
#include "msinet/util/error.h"
#include "test_support.h"

namespace me = msinet::eval;
namespace fs = std::filesystem;

namespace {

const char* const kPython = "/usr/bin/python3";

bool run_python(const std::string& code, const fs::path& dir, std::string* output = nullptr) {
  msinet::testing::Process p({kPython, "-c", code}, dir);
  const int rc = p.wait();
  if (output) *output = p.output();
  return rc == 0;
}

bool have_numpy(const fs::path& dir) {
  return fs::exists(kPython) && run_python("import numpy", dir);
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

std::string read_error(const fs::path& p) {
  try {
    me::read_map(p);
  } catch (const msinet::Error& e) {
    EXPECT_EQ(e.code(), msinet::ErrorCode::kInput);
    return e.what();
  }
  ADD_FAILURE() << "no error for " << p;
  return {};
}

}  // namespace

TEST(EvalNpy, ReadsWhatNumpyWrites) {
  msinet::testing::TempDir dir("eval-npy");
  if (!have_numpy(dir.path())) GTEST_SKIP() << "needs /usr/bin/python3 with numpy";
  // Each file holds a[y, x] = 10 * y + x (+ 0.5 for floats) for a 3 x 4 array.
  const std::string code =
      "import numpy as np\n"
      "a = np.add.outer(10 * np.arange(3), np.arange(4))\n"
      "np.save('f4.npy', (a + 0.5).astype('<f4'))\n"
      "np.save('f8_fortran.npy', np.asfortranarray((a + 0.5).astype('<f8')))\n"
      "np.save('u1.npy', a.astype(np.uint8))\n"
      "np.save('b1.npy', a % 2 == 1)\n"
      "np.save('hw1.npy', (a + 0.5).astype('<f4')[:, :, None])\n";
  ASSERT_TRUE(
      run_python("import os; os.chdir('" + dir.path().string() + "')\n" + code, dir.path()));
  for (const char* name : {"f4.npy", "f8_fortran.npy", "hw1.npy", "u1.npy", "b1.npy"}) {
    SCOPED_TRACE(name);
    const cv::Mat m = me::read_map(dir.path() / name);
    ASSERT_EQ(m.type(), CV_64FC1);
    ASSERT_EQ(m.size(), cv::Size(4, 3));
    const bool is_float = name[0] == 'f' || name[0] == 'h';
    for (int y = 0; y < 3; ++y) {
      for (int x = 0; x < 4; ++x) {
        const double v = 10.0 * y + x;
        const double expected = name[0] == 'b' ? static_cast<int>(v) % 2 : is_float ? v + 0.5 : v;
        EXPECT_EQ(m.at<double>(y, x), expected) << y << "," << x;
      }
    }
  }
}

TEST(EvalNpy, NumpyReadsWhatWeWrite) {
  msinet::testing::TempDir dir("eval-npyw");
  if (!have_numpy(dir.path())) GTEST_SKIP() << "needs /usr/bin/python3 with numpy";
  cv::Mat f(2, 3, CV_32FC1);
  cv::Mat d(3, 2, CV_64FC1);
  for (int i = 0; i < 6; ++i) {
    f.at<float>(i / 3, i % 3) = 0.25f * i;
    d.at<double>(i / 2, i % 2) = 1.0 / (i + 1);
  }
  me::write_npy(dir.path() / "f.npy", f);
  me::write_npy(dir.path() / "d.npy", d);
  const std::string code =
      "import numpy as np\n"
      "f = np.load('" +
      (dir.path() / "f.npy").string() +
      "')\n"
      "d = np.load('" +
      (dir.path() / "d.npy").string() +
      "')\n"
      "assert f.dtype == np.float32 and f.shape == (2, 3), (f.dtype, f.shape)\n"
      "assert d.dtype == np.float64 and d.shape == (3, 2), (d.dtype, d.shape)\n"
      "assert (f.ravel() == 0.25 * np.arange(6)).all(), f\n"
      "assert (d.ravel() == 1.0 / np.arange(1, 7)).all(), d\n";
  std::string out;
  EXPECT_TRUE(run_python(code, dir.path(), &out)) << out;
}

TEST(EvalNpy, RejectsBadFilesWithClearMessages) {
  msinet::testing::TempDir dir("eval-npybad");
  cv::Mat m(2, 2, CV_64FC1, cv::Scalar(1.0));
  const std::string good = me::encode_npy(m);
  write_bytes(dir.path() / "truncated.npy", good.substr(0, good.size() - 3));
  write_bytes(dir.path() / "magic.npy", "not numpy at all");
  std::string big = good;
  big.replace(big.find("<f8"), 3, ">f8");
  write_bytes(dir.path() / "big.npy", big);
  std::string i8 = good;
  i8.replace(i8.find("<f8"), 3, "<i8");
  write_bytes(dir.path() / "i8.npy", i8);
  std::string three = good;
  three.replace(three.find("(2, 2), "), 8, "(1,2,2),");
  write_bytes(dir.path() / "three_ok.npy", three);
  std::string cube = good;
  cube.replace(cube.find("(2, 2), "), 8, "(2,1,2),");
  write_bytes(dir.path() / "cube.npy", cube);
  cv::Mat nan(1, 2, CV_64FC1, cv::Scalar(NAN));
  me::write_npy(dir.path() / "nan.npy", nan);

  EXPECT_NE(read_error(dir.path() / "truncated.npy").find("does not match shape 2x2"),
            std::string::npos);
  EXPECT_NE(read_error(dir.path() / "magic.npy").find("not a .npy file"), std::string::npos);
  EXPECT_NE(read_error(dir.path() / "big.npy").find("big-endian"), std::string::npos);
  EXPECT_NE(read_error(dir.path() / "i8.npy").find("unsupported .npy dtype '<i8'"),
            std::string::npos);
  EXPECT_NE(read_error(dir.path() / "cube.npy").find("expected a 2-D array"), std::string::npos);
  EXPECT_NE(read_error(dir.path() / "nan.npy").find("NaN or infinite"), std::string::npos);
  EXPECT_NE(read_error(dir.path() / "magic.npy").find("magic.npy"), std::string::npos);
  EXPECT_EQ(me::read_map(dir.path() / "three_ok.npy").size(), cv::Size(2, 2));
}

TEST(EvalReadMap, ImagesAsGrayscaleDoubles) {
  msinet::testing::TempDir dir("eval-img");
  cv::Mat g8(3, 5, CV_8UC1);
  cv::Mat g16(3, 5, CV_16UC1);
  for (int i = 0; i < 15; ++i) {
    g8.at<uint8_t>(i / 5, i % 5) = static_cast<uint8_t>(17 * i);
    g16.at<uint16_t>(i / 5, i % 5) = static_cast<uint16_t>(4000 * i);
  }
  ASSERT_TRUE(cv::imwrite((dir.path() / "g8.png").string(), g8));
  ASSERT_TRUE(cv::imwrite((dir.path() / "g16.PNG").string(), g16));
  ASSERT_TRUE(
      cv::imwrite((dir.path() / "flat.jpeg").string(), cv::Mat(4, 4, CV_8UC1, cv::Scalar(200))));
  const cv::Mat a = me::read_map(dir.path() / "g8.png");
  const cv::Mat b = me::read_map(dir.path() / "g16.PNG");
  ASSERT_EQ(a.type(), CV_64FC1);
  for (int i = 0; i < 15; ++i) {
    EXPECT_EQ(a.at<double>(i / 5, i % 5), 17.0 * i);
    EXPECT_EQ(b.at<double>(i / 5, i % 5), 4000.0 * i);
  }
  const cv::Mat j = me::read_map(dir.path() / "flat.jpeg");
  EXPECT_EQ(j.size(), cv::Size(4, 4));
  EXPECT_NEAR(j.at<double>(2, 2), 200.0, 1.0);
}

TEST(EvalReadMap, BadImagesAndPaths) {
  msinet::testing::TempDir dir("eval-imgbad");
  write_bytes(dir.path() / "garbage.png", "\x89PNG but not really");
  write_bytes(dir.path() / "empty.jpg", "");
  write_bytes(dir.path() / "map.bmp", "BM");
  EXPECT_NE(read_error(dir.path() / "garbage.png").find("not a valid JPEG or PNG image"),
            std::string::npos);
  EXPECT_NE(read_error(dir.path() / "empty.jpg").find("empty.jpg"), std::string::npos);
  EXPECT_NE(read_error(dir.path() / "map.bmp").find("use .png, .jpg, .jpeg or .npy"),
            std::string::npos);
  EXPECT_NE(read_error(dir.path() / "missing.png").find("missing.png"), std::string::npos);
  EXPECT_TRUE(me::has_map_extension("x.NPY"));
  EXPECT_FALSE(me::has_map_extension("x.bmp"));
}
