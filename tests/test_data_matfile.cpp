// MAT files through matio: v5 written by scipy.io.savemat, v7.3 written by h5py in MATLAB's
// layout (tests/tools/make_dataset_archives.py mat), compared with the values the tool wrote.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "msinet/data/matfile.h"
#include "msinet/util/error.h"
#include "test_support.h"
#include "tools/http_server.h"

namespace msinet::data {
namespace {

namespace fs = std::filesystem;
using msinet::testing::run_command;
using msinet::testing::TempDir;

// The tool's mat.json, parsed with Python into simple lines (no JSON parser needed here):
//   "<key> <dims...> | <values...>" for arrays, "osie <image> <subject> x|y <values...>".
class MatFiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("matfile");
    const auto r =
        run_command({"/usr/bin/python3",
                     std::string(MSINET_SOURCE_DIR) + "/tests/tools/make_dataset_archives.py",
                     "mat", dir_->path().string()});
    ASSERT_EQ(r.status, 0);
    const auto lines = run_command({"/usr/bin/python3", "-c", R"(
import json, sys
d = json.load(open(sys.argv[1]))
def arr(key, a):
    print(key, " ".join(map(str, a["dims"])), "|", " ".join(repr(v) for v in a["colmajor"]))
arr("dut_s", d["dut_s"]); arr("size73", d["size73"])
for i, c in enumerate(d["fix73"]): arr("fix73_%d" % i, c)
for i, img in enumerate(d["osie"]):
    for s, subj in enumerate(img):
        print("osie", i, s, "x", " ".join(repr(v) for v in subj["x"]))
        print("osie", i, s, "y", " ".join(repr(v) for v in subj["y"]))
)",
                                    (dir_->path() / "mat.json").string()});
    ASSERT_EQ(lines.status, 0);
    expected_ = new std::vector<std::string>();
    std::istringstream in(lines.out);
    for (std::string line; std::getline(in, line);) expected_->push_back(line);
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete expected_;
  }
  static fs::path file(const std::string& name) { return dir_->path() / name; }
  static void expect_array(const MatArray& a, const std::string& key) {
    for (const auto& line : *expected_) {
      if (line.rfind(key + " ", 0) != 0) continue;
      std::istringstream in(line.substr(key.size()));
      std::vector<size_t> dims;
      std::string tok;
      while (in >> tok && tok != "|") dims.push_back(std::stoul(tok));
      std::vector<double> values;
      for (double v; in >> v;) values.push_back(v);
      EXPECT_EQ(a.dims, dims) << key;
      EXPECT_EQ(a.values, values) << key;
      return;
    }
    ADD_FAILURE() << "no expectation for " << key;
  }
  static TempDir* dir_;
  static std::vector<std::string>* expected_;
};
TempDir* MatFiles::dir_ = nullptr;
std::vector<std::string>* MatFiles::expected_ = nullptr;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kData) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected an Error";
  return "";
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(MatFiles, V5IntegerMatrix) {
  MatFile mat(file("dut.mat"));
  EXPECT_FALSE(mat.is_v73());
  const MatArray s = mat.numeric("s");
  expect_array(s, "dut_s");
  ASSERT_EQ(s.rows(), 3u);
  ASSERT_EQ(s.cols(), 3u);
  EXPECT_EQ(s.at(1, 0), 40.0);  // hand-written in the tool: [[3,4,2],[40,30,0],[7,8,1]]
  EXPECT_EQ(s.at(1, 1), 30.0);
  EXPECT_EQ(s.at(2, 2), 1.0);
}

TEST_F(MatFiles, V73CellOfReferencesAndMatrix) {
  MatFile fix(file("fix73.mat"));
  EXPECT_TRUE(fix.is_v73());
  const auto cells = fix.numeric_cells("fixCell");
  ASSERT_EQ(cells.size(), 2u);
  expect_array(cells[0], "fix73_0");
  expect_array(cells[1], "fix73_1");
  EXPECT_EQ(cells[0].at(0, 0), 1.5);  // (row, col) of the first fixation, as written
  EXPECT_EQ(cells[0].at(0, 1), 2.0);
  EXPECT_EQ(cells[0].at(2, 1), 6.0);
  const MatArray sizes = MatFile(file("size73.mat")).numeric("sizeData");
  expect_array(sizes, "size73");
  EXPECT_EQ(sizes.at(1, 0), 31.0);
  EXPECT_EQ(sizes.at(1, 1), 17.0);
}

TEST_F(MatFiles, OsieCellOfStructs) {
  const auto images = read_osie_fixations(file("osie.mat"));
  ASSERT_EQ(images.size(), 3u);
  size_t checked = 0;
  for (const auto& line : *expected_) {
    if (line.rfind("osie ", 0) != 0) continue;
    std::istringstream in(line.substr(5));
    size_t image = 0;
    size_t subject = 0;
    std::string axis;
    in >> image >> subject >> axis;
    std::vector<double> values;
    for (double v; in >> v;) values.push_back(v);
    ASSERT_LT(image, images.size());
    ASSERT_EQ(images[image].size(), 15u);
    EXPECT_EQ(axis == "x" ? images[image][subject].x : images[image][subject].y, values);
    ++checked;
  }
  EXPECT_EQ(checked, 3u * 15u * 2u);
}

TEST_F(MatFiles, ErrorsNameTheFileAndTheVariable) {
  std::string msg = error_of([] { MatFile(file("dut.mat")).numeric("fixations"); });
  EXPECT_TRUE(has(msg, "dut.mat") && has(msg, "'fixations'") && has(msg, "missing")) << msg;
  msg = error_of([] { MatFile(file("dut.mat")).numeric("name"); });
  EXPECT_TRUE(has(msg, "'name'") && has(msg, "not a numeric array")) << msg;
  msg = error_of([] { MatFile(file("dut.mat")).numeric_cells("s"); });
  EXPECT_TRUE(has(msg, "'s'") && has(msg, "not a cell")) << msg;
  msg = error_of([] { MatFile(file("size73.mat")).numeric_cells("fixCell"); });
  EXPECT_TRUE(has(msg, "size73.mat") && has(msg, "'fixCell'")) << msg;
  msg = error_of([] { read_osie_fixations(file("dut.mat")); });
  EXPECT_TRUE(has(msg, "'fixations'")) << msg;
  msg = error_of([] { MatFile m(file("garbage.mat")); });
  EXPECT_TRUE(has(msg, "garbage.mat") && has(msg, "not a readable")) << msg;
  msg = error_of([] { MatFile m(file("absent.mat")); });
  EXPECT_TRUE(has(msg, "absent.mat")) << msg;
}

// Reads OSIE fixations from `file` under an address-space limit of 1 GiB above what the process
// maps (so that matio's allocations for declared sizes fail as where memory is short), then
// exits: 0 for an Error of kind kData naming the file, 2 for another Error.
[[noreturn]] void read_osie_in_1gib_more(const fs::path& file) {
  msinet::testing::limit_address_space_to_current_plus(rlim_t{1} << 30);
  try {
    read_osie_fixations(file);
  } catch (const Error& e) {
    const bool named = e.code() == ErrorCode::kData && has(e.what(), file.filename().string());
    std::_Exit(named ? 0 : 2);
  }
  std::_Exit(3);
}

// A damaged OSIE file whose struct array declares 12 GB of fields (found by fuzz_matfile): matio
// cannot allocate them and leaves the struct without its field pointers, which it would then
// read through; msinet reports the variable instead.
TEST(MatFileDamage, StructWithoutItsFieldsIsAnError) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer maps terabytes of shadow memory; an address-space limit "
                  "cannot be tested under it";
#endif
  const fs::path bad = fs::path(MSINET_SOURCE_DIR) / "tests" / "fuzz" / "regressions" / "matfile" /
                       "struct-fields-not-allocated.mat";
  ASSERT_TRUE(fs::is_regular_file(bad)) << bad;
  EXPECT_EXIT(read_osie_in_1gib_more(bad), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace msinet::data
