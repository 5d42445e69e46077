// `msinet submit`: packages for each benchmark made from tiny stimuli and maps written here, read
// back with Python's zipfile (tests/tools/read_zip.py), and every refusal with its message.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <limits>
#include <set>

#include "msinet/data/image.h"
#include "msinet/eval/map_io.h"
#include "msinet/submit/map_check.h"
#include "msinet/submit/pairing.h"
#include "msinet/submit/submit.h"
#include "msinet/util/fs.h"
#include "test_support.h"

namespace ms = msinet::submit;
namespace fs = std::filesystem;
using msinet::Error;
using msinet::ErrorCode;
using msinet::testing::read_file_bytes;
using msinet::testing::run_msinet;
using msinet::testing::TempDir;
using msinet::testing::thrown_error;

namespace {

const char* const kPython = "/usr/bin/python3";

bool have_numpy() {
  static const bool have = [] {
    if (!fs::exists(kPython)) return false;
    TempDir dir("submit-np");
    msinet::testing::Process p({kPython, "-c", "import numpy"}, dir.path());
    return p.wait() == 0;
  }();
  return have;
}

/// A colour stimulus of h x w (a JPEG or PNG by the file's extension).
void write_stimulus(const fs::path& path, int h, int w) {
  cv::Mat rgb(h, w, CV_8UC3);
  cv::randu(rgb, 0, 255);
  fs::create_directories(path.parent_path());
  if (path.extension() == ".png") {
    msinet::data::write_png_u8(path, rgb);
  } else {
    msinet::data::write_jpeg_u8(path, rgb, /*quality=*/90);
  }
}

/// A grayscale ramp of levels 0..255.
cv::Mat gray_levels(int h, int w) {
  cv::Mat g(h, w, CV_8UC1);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) g.at<uint8_t>(y, x) = static_cast<uint8_t>((y * w + x) * 7 % 256);
  }
  return g;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  msinet::util::write_file_atomic(path, bytes);
}

void write_gray_jpeg(const fs::path& path, int h, int w) {
  write_bytes(path, msinet::data::encode_jpeg(gray_levels(h, w), /*quality=*/95));
}

/// A normalised float32 log-density of h x w (log of a ramp divided by its sum).
cv::Mat log_density(int h, int w) {
  cv::Mat d(h, w, CV_64FC1);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) d.at<double>(y, x) = 1.0 + y + 2.0 * x;
  }
  d /= cv::sum(d)[0];
  cv::Mat l;
  cv::log(d, l);
  cv::Mat f;
  l.convertTo(f, CV_32F);
  return f;
}

/// The float32 [0, 1] map `msinet test --format npy` writes.
cv::Mat unit_map(int h, int w) {
  cv::Mat f;
  gray_levels(h, w).convertTo(f, CV_32F, 1.0 / 255);
  return f;
}

/// Runs read_zip.py; the parsed JSON, members extracted into `extract`.
nlohmann::json read_zip(const fs::path& archive, const fs::path& extract) {
  const std::string script = std::string(MSINET_SOURCE_DIR) + "/tests/tools/read_zip.py";
  msinet::testing::Process p({kPython, script, archive.string(), extract.string()},
                             extract.parent_path());
  EXPECT_EQ(p.wait(), 0) << p.output();
  const std::string out = p.output();
  return nlohmann::json::parse(out.substr(out.find('{')));
}

std::set<std::string> names_of(const nlohmann::json& listing) {
  std::set<std::string> names;
  for (const auto& e : listing["entries"]) names.insert(e["name"].get<std::string>());
  return names;
}

const nlohmann::json& entry(const nlohmann::json& listing, const std::string& name) {
  for (const auto& e : listing["entries"]) {
    if (e["name"] == name) return e;
  }
  static const nlohmann::json none;
  ADD_FAILURE() << "no member " << name;
  return none;
}

/// Files of `dir` (recursively), as paths below it.
std::set<std::string> files_below(const fs::path& dir) {
  std::set<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.insert(e.path().lexically_relative(dir).generic_string());
  }
  return out;
}

double max_abs_difference(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat da, db;
  a.convertTo(da, CV_64F);
  b.convertTo(db, CV_64F);
  return cv::norm(da, db, cv::NORM_INF);
}

class Submit : public ::testing::Test {
 protected:
  fs::path stimuli() const { return dir_.path() / "stimuli"; }
  fs::path maps() const { return dir_.path() / "maps"; }
  fs::path out_dir() const { return dir_.path() / "out"; }
  ms::SubmitOptions options(ms::Benchmark b, const std::string& zip = "model.zip") const {
    ms::SubmitOptions o;
    o.benchmark = b;
    o.maps_dir = maps();
    o.stimuli_dir = stimuli();
    o.output = out_dir() / zip;
    return o;
  }
  /// The refusal run_submit throws for `o`, after checking that nothing was written.
  Error refusal(const ms::SubmitOptions& o) {
    const Error e = thrown_error([&] { ms::run_submit(o); });
    EXPECT_TRUE(files_below(out_dir()).empty()) << "written on refusal";
    return e;
  }
  TempDir dir_{"submit"};
};

TEST_F(Submit, Mit300PackagesJpegsAsTheyAreAndConvertsPngAndNpyMaps) {
  if (!have_numpy()) GTEST_SKIP() << "needs /usr/bin/python3 with numpy to read the zip back";
  write_stimulus(stimuli() / "i1.jpg", 6, 8);
  write_stimulus(stimuli() / "i2.png", 5, 7);
  write_stimulus(stimuli() / "i3.jpeg", 4, 9);
  write_gray_jpeg(maps() / "i1.jpg", 6, 8);
  write_bytes(maps() / "i2.png", msinet::data::encode_png(gray_levels(5, 7)));
  msinet::eval::write_npy(maps() / "i3.npy", unit_map(4, 9));

  std::string log;
  ASSERT_EQ(run_msinet({"submit", "mit300", "-p", maps().string(), "--stimuli", stimuli().string(),
                        "-o", (out_dir() / "mymodel.zip").string()},
                       dir_.path(), &log),
            0)
      << log;
  EXPECT_NE(log.find("submit mit300: packaged 3 maps as mymodel/<image>.jpg in "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("converted 2 of 3: encoded as grayscale JPEG, quality 100"), std::string::npos)
      << log;
  const fs::path zip = out_dir() / "mymodel.zip";
  EXPECT_NE(log.find("(" + std::to_string(fs::file_size(zip)) + " bytes;"), std::string::npos)
      << log;
  EXPECT_EQ(files_below(out_dir()), std::set<std::string>{"mymodel.zip"}) << "a temporary is left";

  const nlohmann::json z = read_zip(zip, dir_.path() / "x");
  EXPECT_TRUE(z["ok"].get<bool>());
  EXPECT_EQ(names_of(z),
            (std::set<std::string>{"mymodel/i1.jpg", "mymodel/i2.jpg", "mymodel/i3.jpg"}));
  EXPECT_EQ(entry(z, "mymodel/i1.jpg")["jpeg"], nlohmann::json::parse("[6, 8, 1]"));
  EXPECT_EQ(entry(z, "mymodel/i2.jpg")["jpeg"], nlohmann::json::parse("[5, 7, 1]"));
  EXPECT_EQ(entry(z, "mymodel/i3.jpg")["jpeg"], nlohmann::json::parse("[4, 9, 1]"));
  EXPECT_TRUE(entry(z, "mymodel/i1.jpg")["stored"].get<bool>());
  // A JPEG map goes in byte for byte; the converted ones hold the same levels, to JPEG's error.
  EXPECT_EQ(read_file_bytes(dir_.path() / "x/mymodel/i1.jpg"), read_file_bytes(maps() / "i1.jpg"));
  const cv::Mat i2 = cv::imread((dir_.path() / "x/mymodel/i2.jpg").string(), cv::IMREAD_UNCHANGED);
  const cv::Mat i3 = cv::imread((dir_.path() / "x/mymodel/i3.jpg").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(i2.type(), CV_8UC1);
  ASSERT_EQ(i3.type(), CV_8UC1);
  EXPECT_LE(max_abs_difference(i2, gray_levels(5, 7)), 3);
  EXPECT_LE(max_abs_difference(i3, gray_levels(4, 9)), 3);
}

TEST_F(Submit, Cat2000KeepsTheCategoryFolders) {
  if (!have_numpy()) GTEST_SKIP() << "needs /usr/bin/python3 with numpy to read the zip back";
  write_stimulus(stimuli() / "Action/001.jpg", 6, 8);
  write_stimulus(stimuli() / "Action/002.jpg", 6, 8);
  write_stimulus(stimuli() / "Art/001.jpg", 7, 5);
  write_gray_jpeg(maps() / "Action/001.jpg", 6, 8);
  write_gray_jpeg(maps() / "Action/002.jpg", 6, 8);
  write_gray_jpeg(maps() / "Art/001.jpg", 7, 5);
  ms::SubmitOptions o = options(ms::Benchmark::kCat2000);
  o.name = "msinet";
  const ms::SubmitResult r = ms::run_submit(o);
  EXPECT_EQ(r.maps, 3u);
  EXPECT_EQ(r.converted, 0u);
  EXPECT_EQ(r.layout, "msinet/<category>/<image>.jpg");
  EXPECT_EQ(r.archive_bytes, fs::file_size(o.output));
  const nlohmann::json z = read_zip(o.output, dir_.path() / "x");
  EXPECT_EQ(names_of(z), (std::set<std::string>{"msinet/Action/001.jpg", "msinet/Action/002.jpg",
                                                "msinet/Art/001.jpg"}));
  EXPECT_EQ(entry(z, "msinet/Art/001.jpg")["jpeg"], nlohmann::json::parse("[7, 5, 1]"));
  EXPECT_EQ(read_file_bytes(dir_.path() / "x/msinet/Art/001.jpg"),
            read_file_bytes(maps() / "Art/001.jpg"));
}

TEST_F(Submit, TuebingenPackagesTwoDimensionalLogDensitiesNamedAsTheStimuli) {
  if (!have_numpy()) GTEST_SKIP() << "needs /usr/bin/python3 with numpy to read the zip back";
  write_stimulus(stimuli() / "a.jpg", 5, 6);
  write_stimulus(stimuli() / "b.png", 7, 3);
  const cv::Mat a = log_density(5, 6);
  msinet::eval::write_npy(maps() / "a.npy", a);
  // b: float64 stored in Fortran order with shape (7, 3, 1), which the benchmark's loader would
  // not take as (7, 3): re-encoded, values unchanged.
  cv::Mat b;
  log_density(7, 3).convertTo(b, CV_64F);
  std::string header = "{'descr': '<f8', 'fortran_order': True, 'shape': (7, 3, 1), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header.push_back('\n');
  std::string npy = std::string("\x93NUMPY\x01\x00", 8);
  npy.push_back(static_cast<char>(header.size()));
  npy.push_back('\0');
  npy += header;
  const cv::Mat bt = b.t();
  const cv::Mat btc = bt.clone();
  npy.append(reinterpret_cast<const char*>(btc.data), btc.total() * btc.elemSize());
  write_bytes(maps() / "b.npy", npy);

  const ms::SubmitResult r = ms::run_submit(options(ms::Benchmark::kTuebingen));
  EXPECT_EQ(r.maps, 2u);
  EXPECT_EQ(r.converted, 1u);
  EXPECT_EQ(r.layout, "<image>.npy");
  const nlohmann::json z = read_zip(out_dir() / "model.zip", dir_.path() / "x");
  EXPECT_EQ(names_of(z), (std::set<std::string>{"a.npy", "b.npy"}));
  EXPECT_EQ(entry(z, "a.npy")["shape"], nlohmann::json::parse("[5, 6]"));
  EXPECT_EQ(entry(z, "a.npy")["dtype"], "float32");
  EXPECT_EQ(entry(z, "b.npy")["shape"], nlohmann::json::parse("[7, 3]"));
  EXPECT_EQ(entry(z, "b.npy")["dtype"], "float64");
  EXPECT_FALSE(entry(z, "b.npy")["fortran_order"].get<bool>());
  EXPECT_NEAR(entry(z, "a.npy")["logsumexp"].get<double>(), 0.0, 1e-6);
  EXPECT_NEAR(entry(z, "b.npy")["logsumexp"].get<double>(), 0.0, 1e-6);
  EXPECT_FALSE(entry(z, "a.npy")["stored"].get<bool>());
  EXPECT_EQ(read_file_bytes(dir_.path() / "x/a.npy"), read_file_bytes(maps() / "a.npy"));
  const cv::Mat back = msinet::eval::decode_npy(read_file_bytes(dir_.path() / "x/b.npy"), "b");
  EXPECT_EQ(max_abs_difference(back, b), 0.0);
}

TEST_F(Submit, TuebingenFollowsCategoryFolders) {
  if (!have_numpy()) GTEST_SKIP() << "needs /usr/bin/python3 with numpy to read the zip back";
  write_stimulus(stimuli() / "Action/001.jpg", 4, 5);
  write_stimulus(stimuli() / "Art/001.jpg", 5, 4);
  msinet::eval::write_npy(maps() / "Action/001.npy", log_density(4, 5));
  msinet::eval::write_npy(maps() / "Art/001.npy", log_density(5, 4));
  const ms::SubmitResult r = ms::run_submit(options(ms::Benchmark::kTuebingen));
  EXPECT_EQ(r.layout, "<category>/<image>.npy");
  const nlohmann::json z = read_zip(out_dir() / "model.zip", dir_.path() / "x");
  EXPECT_EQ(names_of(z), (std::set<std::string>{"Action/001.npy", "Art/001.npy"}));
}

TEST_F(Submit, AnExistingOutputThatIsNoInputIsReplaced) {
  write_stimulus(stimuli() / "i1.jpg", 6, 8);
  write_gray_jpeg(maps() / "i1.jpg", 6, 8);
  const ms::SubmitOptions o = options(ms::Benchmark::kMit300);
  write_bytes(o.output, "an old file");
  ms::run_submit(o);
  EXPECT_EQ(read_file_bytes(o.output).substr(0, 2), "PK");
}

TEST_F(Submit, Mit300RefusesListingEveryProblemOfTheMaps) {
  write_stimulus(stimuli() / "ok.jpg", 6, 8);
  write_gray_jpeg(maps() / "ok.jpg", 6, 8);
  write_stimulus(stimuli() / "missing.jpg", 6, 8);
  write_stimulus(stimuli() / "small.jpg", 6, 8);
  write_gray_jpeg(maps() / "small.jpg", 5, 8);
  write_stimulus(stimuli() / "colour.jpg", 6, 8);
  cv::Mat rgb(6, 8, CV_8UC3, cv::Scalar(10, 200, 30));
  write_bytes(maps() / "colour.jpg", msinet::data::encode_jpeg(rgb, 95));
  write_stimulus(stimuli() / "fake.jpg", 6, 8);
  write_bytes(maps() / "fake.jpg", msinet::data::encode_png(gray_levels(6, 8)));
  write_stimulus(stimuli() / "logd.jpg", 6, 8);
  msinet::eval::write_npy(maps() / "logd.npy", log_density(6, 8));
  write_stimulus(stimuli() / "dens.jpg", 6, 8);
  cv::Mat dens;
  cv::exp(log_density(6, 8), dens);
  msinet::eval::write_npy(maps() / "dens.npy", dens);
  write_stimulus(stimuli() / "range.jpg", 6, 8);  // levels up to 252: values up to 252 / 255 x 3
  msinet::eval::write_npy(maps() / "range.npy", unit_map(6, 8) * 3);
  write_stimulus(stimuli() / "nan.jpg", 6, 8);
  cv::Mat nan = unit_map(6, 8);
  nan.at<float>(2, 3) = std::numeric_limits<float>::quiet_NaN();
  msinet::eval::write_npy(maps() / "nan.npy", nan);
  write_stimulus(stimuli() / "twice.jpg", 6, 8);
  write_gray_jpeg(maps() / "twice.jpg", 6, 8);
  msinet::eval::write_npy(maps() / "twice.npy", unit_map(6, 8));
  write_stimulus(stimuli() / "cut.jpg", 6, 8);
  const std::string jpeg = msinet::data::encode_jpeg(gray_levels(6, 8), 95);
  write_bytes(maps() / "cut.jpg", jpeg.substr(0, jpeg.size() - 40));
  write_gray_jpeg(maps() / "extra.jpg", 6, 8);
  write_bytes(maps() / "notes.txt", "hello");
  write_gray_jpeg(maps() / "sub/x.jpg", 6, 8);

  const Error e = refusal(options(ms::Benchmark::kMit300));
  const std::string m = e.what();
  EXPECT_EQ(e.code(), ErrorCode::kInput) << m;
  EXPECT_NE(m.find("submit mit300: nothing written; 13 problems:"), std::string::npos) << m;
  const std::string s = stimuli().string();
  const std::string p = maps().string();
  for (const std::string& want : {
           "no map for stimulus '" + s + "/missing.jpg' (expected " + p +
               "/missing.jpg, .jpeg, .png or .npy)",
           "'" + p + "/small.jpg' is 5x8 (height x width) but its stimulus is 6x8",
           "'" + p + "/colour.jpg' is a colour image; a saliency map is grayscale",
           "'" + p + "/fake.jpg' is named .jpg but does not hold JPEG data",
           "'" + p + "/logd.npy' is a log-density (its log-sum-exp is 0)",
           "'" + p + "/dens.npy' sums to 1 like a density",
           "'" + p +
               "/range.npy' holds values in [0, 2.96471]; a .npy map to be written as a JPEG "
               "must lie in [0, 1]",
           "'" + p + "/nan.npy' holds NaN or infinite values",
           "two maps for stimulus '" + s + "/twice.jpg': '" + p + "/twice.jpg' and '" + p +
               "/twice.npy'; keep one",
           "cannot read image '" + p + "/cut.jpg': truncated JPEG data",
           "extra file '" + p + "/extra.jpg': no stimulus 'extra' in '" + s + "'; remove it",
           "extra file '" + p + "/notes.txt': not a map (.jpg, .jpeg, .png or .npy); remove it",
           "extra folder '" + p + "/sub' (1 file): the maps must be one flat folder; remove it",
       }) {
    EXPECT_NE(m.find(want), std::string::npos) << "missing: " << want << "\nin:\n" << m;
  }
  EXPECT_EQ(m.find("ok.jpg"), std::string::npos) << m;
}

TEST_F(Submit, Mit300RefusesCategoryFoldersAndCat2000AFlatFolder) {
  write_stimulus(stimuli() / "Action/001.jpg", 4, 4);
  write_gray_jpeg(maps() / "Action/001.jpg", 4, 4);
  const Error flat = refusal(options(ms::Benchmark::kMit300));
  EXPECT_NE(std::string(flat.what())
                .find("'" + (stimuli() / "Action").string() +
                      "' holds 1 image in a folder; the stimuli must be one flat folder"),
            std::string::npos)
      << flat.what();
  write_stimulus(stimuli() / "top.jpg", 4, 4);
  write_gray_jpeg(maps() / "top.jpg", 4, 4);
  const Error cat = refusal(options(ms::Benchmark::kCat2000));
  EXPECT_NE(std::string(cat.what())
                .find("1 image lie directly in '" + stimuli().string() +
                      "', but the stimuli must be in category folders"),
            std::string::npos)
      << cat.what();
  const Error either = refusal(options(ms::Benchmark::kTuebingen));
  EXPECT_NE(std::string(either.what()).find("holds 1 image directly and 1 image in folders"),
            std::string::npos)
      << either.what();
}

TEST_F(Submit, Cat2000RefusesMissingAndExtraFolders) {
  write_stimulus(stimuli() / "Action/001.jpg", 4, 4);
  write_stimulus(stimuli() / "Action/002.jpg", 4, 4);
  write_stimulus(stimuli() / "Art/001.jpg", 4, 4);
  write_gray_jpeg(maps() / "Art/001.jpg", 4, 4);
  write_gray_jpeg(maps() / "Cartoon/001.jpg", 4, 4);
  write_gray_jpeg(maps() / "Art/deeper/001.jpg", 4, 4);
  const Error e = refusal(options(ms::Benchmark::kCat2000));
  const std::string m = e.what();
  EXPECT_EQ(e.code(), ErrorCode::kInput);
  EXPECT_NE(m.find("3 problems:"), std::string::npos) << m;
  EXPECT_NE(m.find("missing folder '" + (maps() / "Action").string() + "' for the 2 stimuli of '" +
                   (stimuli() / "Action").string() + "'"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("extra folder '" + (maps() / "Cartoon").string() +
                   "' (1 file): no category 'Cartoon' in '" + stimuli().string() + "'"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("extra file '" + (maps() / "Art/deeper/001.jpg").string() + "'"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("no map for stimulus"), std::string::npos) << "listed per map as well: " << m;
}

TEST_F(Submit, TuebingenRefusesWhatIsNoNormalisedLogDensity) {
  write_stimulus(stimuli() / "png.jpg", 4, 5);
  write_bytes(maps() / "png.png", msinet::data::encode_png(gray_levels(4, 5)));
  write_stimulus(stimuli() / "minmax.jpg", 4, 5);
  msinet::eval::write_npy(maps() / "minmax.npy", unit_map(4, 5));
  write_stimulus(stimuli() / "inf.jpg", 4, 5);
  cv::Mat inf = log_density(4, 5);
  inf.at<float>(0, 0) = -std::numeric_limits<float>::infinity();
  msinet::eval::write_npy(maps() / "inf.npy", inf);
  write_stimulus(stimuli() / "size.jpg", 4, 5);
  msinet::eval::write_npy(maps() / "size.npy", log_density(5, 4));
  write_stimulus(stimuli() / "u8.jpg", 4, 5);
  std::string header = "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 5), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header.push_back('\n');
  std::string npy = std::string("\x93NUMPY\x01\x00", 8);
  npy.push_back(static_cast<char>(header.size()));
  npy.push_back('\0');
  write_bytes(maps() / "u8.npy", npy + header + std::string(20, '\1'));
  write_stimulus(stimuli() / "ok.jpg", 4, 5);
  msinet::eval::write_npy(maps() / "ok.npy", log_density(4, 5));

  const Error e = refusal(options(ms::Benchmark::kTuebingen));
  const std::string m = e.what();
  EXPECT_EQ(e.code(), ErrorCode::kInput);
  EXPECT_NE(m.find("submit tuebingen: nothing written; 5 problems:"), std::string::npos) << m;
  const std::string p = maps().string();
  // log(sum) of the minmax map: computed here from its levels.
  double sum = 0;
  const cv::Mat g = gray_levels(4, 5);
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 5; ++x) sum += std::exp(g.at<uint8_t>(y, x) / 255.0f);
  }
  char lse[32];
  std::snprintf(lse, sizeof lse, "%.6g", std::log(sum));
  for (const std::string& want : {
           "'" + p +
               "/png.png' is a .png image; the MIT/Tuebingen benchmark takes log-densities as "
               ".npy files",
           "'" + p + "/minmax.npy' has log-sum-exp " + std::string(lse) +
               ", not within 1e-3 of 0: not a normalised log-density",
           "'" + p + "/inf.npy' holds NaN or infinite values (a density of 0 gives log -inf",
           "'" + p + "/size.npy' is 5x4 (height x width) but its stimulus is 4x5",
           "'" + p + "/u8.npy' holds 8-bit integers; a log-density is float32 or float64",
       }) {
    EXPECT_NE(m.find(want), std::string::npos) << "missing: " << want << "\nin:\n" << m;
  }
}

TEST_F(Submit, TuebingenRefusesNamesItsLoaderCouldNotTellApart) {
  write_stimulus(stimuli() / "1.jpg", 4, 4);
  write_stimulus(stimuli() / "11.jpg", 4, 4);
  write_stimulus(stimuli() / "211.jpg", 4, 4);
  for (const char* n : {"1.npy", "11.npy", "211.npy"}) {
    msinet::eval::write_npy(maps() / n, log_density(4, 4));
  }
  const Error e = refusal(options(ms::Benchmark::kTuebingen));
  const std::string m = e.what();
  EXPECT_NE(m.find("2 problems:"), std::string::npos) << m;
  EXPECT_NE(m.find("for stimulus '1' the one file whose name ends with '1', but '11', '211' end "
                   "with it too"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("for stimulus '11' the one file whose name ends with '11', but '211' ends"),
            std::string::npos)
      << m;
}

TEST_F(Submit, RefusesAnOutputInsideOrEqualToAnInput) {
  write_stimulus(stimuli() / "i1.jpg", 4, 4);
  write_gray_jpeg(maps() / "i1.jpg", 4, 4);
  ms::SubmitOptions in_maps = options(ms::Benchmark::kMit300);
  in_maps.output = maps() / "model.zip";
  Error e = thrown_error([&] { ms::run_submit(in_maps); });
  EXPECT_EQ(e.code(), ErrorCode::kUsage);
  EXPECT_NE(std::string(e.what()).find("the output '" + in_maps.output.string() +
                                       "' lies in the maps folder '" + maps().string() +
                                       "'; write it elsewhere"),
            std::string::npos)
      << e.what();
  EXPECT_FALSE(fs::exists(in_maps.output));

  ms::SubmitOptions is_stimulus = options(ms::Benchmark::kMit300);
  is_stimulus.output = stimuli() / "i1.jpg";
  const std::string before = read_file_bytes(is_stimulus.output);
  e = thrown_error([&] { ms::run_submit(is_stimulus); });
  EXPECT_EQ(e.code(), ErrorCode::kUsage);
  const std::string m = e.what();
  EXPECT_NE(m.find("2 problems:"), std::string::npos) << m;
  EXPECT_NE(m.find("the output '" + is_stimulus.output.string() + "' must be a .zip file"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("lies in the stimuli folder"), std::string::npos) << m;
  EXPECT_EQ(read_file_bytes(is_stimulus.output), before);

  ms::SubmitOptions overlap = options(ms::Benchmark::kMit300);
  overlap.maps_dir = stimuli();
  e = thrown_error([&] { ms::run_submit(overlap); });
  EXPECT_EQ(e.code(), ErrorCode::kUsage);
  EXPECT_NE(std::string(e.what()).find("overlap; keep the maps in a folder of their own"),
            std::string::npos)
      << e.what();
}

TEST_F(Submit, RefusesMissingFoldersAndPackagesOverTheLimits) {
  ms::SubmitOptions none = options(ms::Benchmark::kMit300);
  Error e = refusal(none);
  EXPECT_EQ(e.code(), ErrorCode::kInput);
  EXPECT_NE(std::string(e.what()).find("the maps folder '" + maps().string() + "' does not exist"),
            std::string::npos)
      << e.what();
  EXPECT_NE(
      std::string(e.what()).find("the stimuli folder '" + stimuli().string() + "' does not exist"),
      std::string::npos)
      << e.what();

  for (const char* n : {"a", "b", "c"}) {
    write_stimulus(stimuli() / (std::string(n) + ".jpg"), 4, 4);
    write_gray_jpeg(maps() / (std::string(n) + ".jpg"), 4, 4);
  }
  ms::SubmitOptions few = options(ms::Benchmark::kMit300);
  few.max_stimuli = 2;
  e = refusal(few);
  EXPECT_NE(std::string(e.what()).find("holds 3 stimuli, more than the 2 accepted"),
            std::string::npos)
      << e.what();
  ms::SubmitOptions small = options(ms::Benchmark::kMit300);
  small.max_bytes = 100;
  e = refusal(small);
  EXPECT_NE(std::string(e.what()).find("bytes, over the package limit of 100 bytes (--max-mb 0)"),
            std::string::npos)
      << e.what();
  write_bytes(stimuli() / "d.jpg", "not an image");
  write_gray_jpeg(maps() / "d.jpg", 4, 4);
  e = refusal(options(ms::Benchmark::kMit300));
  EXPECT_NE(std::string(e.what()).find("cannot read the size of stimulus '" +
                                       (stimuli() / "d.jpg").string() + "' from its header"),
            std::string::npos)
      << e.what();
}

TEST_F(Submit, TheCommandExitsWithTheInputAndUsageCodes) {
  write_stimulus(stimuli() / "i1.jpg", 4, 4);
  write_stimulus(stimuli() / "i2.jpg", 4, 4);
  write_gray_jpeg(maps() / "i1.jpg", 4, 4);
  std::string log;
  EXPECT_EQ(run_msinet({"submit", "mit300", "-p", maps().string(), "--stimuli", stimuli().string(),
                        "-o", (out_dir() / "m.zip").string()},
                       dir_.path(), &log),
            static_cast<int>(ErrorCode::kInput))
      << log;
  EXPECT_NE(log.find("no map for stimulus '" + (stimuli() / "i2.jpg").string()), std::string::npos)
      << log;
  EXPECT_TRUE(files_below(out_dir()).empty());
  EXPECT_EQ(run_msinet({"submit", "mit300", "-p", maps().string(), "--stimuli", stimuli().string(),
                        "-o", (maps() / "m.zip").string()},
                       dir_.path(), &log),
            static_cast<int>(ErrorCode::kUsage))
      << log;
  EXPECT_NE(log.find("lies in the maps folder"), std::string::npos) << log;
}

TEST(SubmitMath, LogSumExpIsStableAndExact) {
  cv::Mat m(1, 3, CV_64FC1);
  m.at<double>(0, 0) = -1000.0;
  m.at<double>(0, 1) = -1000.0;
  m.at<double>(0, 2) = -1000.0 + std::log(2.0);
  // log(e^-1000 (1 + 1 + 2)) = -1000 + log 4
  EXPECT_NEAR(ms::log_sum_exp(m), -1000.0 + std::log(4.0), 1e-12);
}

}  // namespace
