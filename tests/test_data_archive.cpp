#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "msinet/fetch/archive.h"
#include "msinet/util/error.h"
#include "test_support.h"
#include "tools/http_server.h"

namespace fs = std::filesystem;
using msinet::Error;
using msinet::ErrorCode;
using msinet::fetch::extract_zip;
using msinet::testing::thrown_error;

namespace {

// Builds the test archives with Python's zipfile module (independent of libzip).
constexpr const char* kMakeZips = R"PY(
import stat, struct, sys, zipfile
out = sys.argv[1]

def info(name, mode=0o644, kind=stat.S_IFREG):
    zi = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    zi.create_system = 3
    zi.external_attr = (kind | mode) << 16
    return zi

with zipfile.ZipFile(out + "/normal.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("top/", "")
    z.writestr("top/a.txt", "hello")
    z.writestr("top/sub/b.bin", bytes(range(256)) * 40)
    z.writestr("top/sub/deeper/c.txt", "c" * 1000)
    z.writestr("top/test/skip.txt", "skipped")
    z.writestr("top/./d.txt", "dot")

with zipfile.ZipFile(out + "/dotdot.zip", "w") as z:
    z.writestr("ok.txt", "fine")
    z.writestr("../evil.txt", "evil")

with zipfile.ZipFile(out + "/nested_dotdot.zip", "w") as z:
    z.writestr("a/b/../../../evil.txt", "evil")

with zipfile.ZipFile(out + "/abs.zip", "w") as z:
    z.writestr("ok.txt", "fine")
    zi = info("x")
    zi.filename = "/abs.txt"  # zipfile strips leading slashes from names it is given
    z.writestr(zi, "abs")

with zipfile.ZipFile(out + "/backslash.zip", "w") as z:
    zi = info("x")
    zi.filename = "..\\evil2.txt"
    z.writestr(zi, "evil")

with zipfile.ZipFile(out + "/symlink.zip", "w") as z:
    z.writestr("ok.txt", "fine")
    z.writestr(info("link", 0o777, stat.S_IFLNK), "../../outside.txt")

with zipfile.ZipFile(out + "/skipped_symlink.zip", "w") as z:
    z.writestr("ok.txt", "fine")
    z.writestr(info("extras/link", 0o777, stat.S_IFLNK), "../../outside.txt")

# A link standing for a folder, then a file "inside" it: unpacked by a tool that follows the
# link, the file would land where the link points.
with zipfile.ZipFile(out + "/folder_symlink.zip", "w") as z:
    z.writestr(info("data/stimuli", 0o777, stat.S_IFLNK), sys.argv[2])
    z.writestr("data/stimuli/a.jpg", "jpeg")

# One stored entry whose data is flipped: the CRC no longer matches.
payload = b"0123456789abcdef" * 64
with zipfile.ZipFile(out + "/crc.zip", "w", zipfile.ZIP_STORED) as z:
    z.writestr("first.txt", "intact")
    z.writestr("data.bin", payload)
raw = bytearray(open(out + "/crc.zip", "rb").read())
at = raw.find(payload)
raw[at + 100] ^= 0xFF
open(out + "/crc.zip", "wb").write(raw)

normal = open(out + "/normal.zip", "rb").read()
open(out + "/truncated.zip", "wb").write(normal[: len(normal) // 2])
open(out + "/notzip.zip", "wb").write(b"<html>not a zip</html>" * 10)

with zipfile.ZipFile(out + "/big.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("zeros.bin", bytes(1 << 20))

# Sizes in both headers claim 100 bytes; the data inflates to 1 MiB.
with zipfile.ZipFile(out + "/liar.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("zeros.bin", bytes(1 << 20))
raw = bytearray(open(out + "/liar.zip", "rb").read())
lh = raw.find(b"PK\x03\x04")
struct.pack_into("<I", raw, lh + 22, 100)
cd = raw.find(b"PK\x01\x02")
struct.pack_into("<I", raw, cd + 24, 100)
open(out + "/liar.zip", "wb").write(raw)

with zipfile.ZipFile(out + "/many.zip", "w") as z:
    for i in range(20):
        z.writestr("f%02d.txt" % i, str(i))
)PY";

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

size_t count_files(const fs::path& dir) {
  size_t n = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_directory()) ++n;
  }
  return n;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class Archive : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/msinet_archive_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "zips");
    std::ofstream(dir_ / "make_zips.py") << kMakeZips;
    const auto r =
        msinet::testing::run_command({"/usr/bin/python3", (dir_ / "make_zips.py").string(),
                                      (dir_ / "zips").string(), (dir_ / "outside").string()});
    ASSERT_EQ(r.status, 0) << "building the test archives failed";
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    box_ = dir_ / "out" / name;
    dest_ = box_ / "dest";
    fs::create_directories(box_);
  }
  static fs::path zip(const std::string& name) { return dir_ / "zips" / name; }

  // Extraction must be refused naming `entry`, and nothing may appear in or beside dest.
  void expect_refused(const std::string& zip_name, const std::string& entry,
                      const std::string& reason) {
    const auto e = thrown_error([&] { extract_zip(zip(zip_name), dest_); });
    EXPECT_EQ(e.code(), ErrorCode::kData);
    EXPECT_TRUE(contains(e.what(), "refusing entry '" + entry + "'")) << e.what();
    EXPECT_TRUE(contains(e.what(), reason)) << e.what();
    EXPECT_TRUE(contains(e.what(), zip(zip_name).string())) << e.what();
    EXPECT_EQ(count_files(box_), 0u);
    EXPECT_FALSE(fs::exists(dir_ / "out" / "evil.txt"));
    EXPECT_FALSE(fs::exists(dir_ / "outside.txt"));
  }

  static inline fs::path dir_;
  fs::path box_;
  fs::path dest_;
};

TEST_F(Archive, ExtractsNestedFilesAndSkipsDirectoryEntries) {
  EXPECT_EQ(extract_zip(zip("normal.zip"), dest_), 5u);
  EXPECT_EQ(read_bytes(dest_ / "top/a.txt"), "hello");
  std::string expected;
  for (int r = 0; r < 40; ++r) {
    for (int i = 0; i < 256; ++i) expected += static_cast<char>(i);
  }
  EXPECT_EQ(read_bytes(dest_ / "top/sub/b.bin"), expected);
  EXPECT_EQ(read_bytes(dest_ / "top/sub/deeper/c.txt"), std::string(1000, 'c'));
  EXPECT_EQ(read_bytes(dest_ / "top/test/skip.txt"), "skipped");
  EXPECT_EQ(read_bytes(dest_ / "top/d.txt"), "dot");
  EXPECT_EQ(count_files(dest_), 5u);
}

TEST_F(Archive, MapperRenamesAndSkipsEntries) {
  const auto map = [](const std::string& name) -> std::string {
    if (name.find("test") != std::string::npos) return "";
    std::string rel = name.substr(name.find('/') + 1);  // drop "top/"
    if (rel.rfind("sub/", 0) == 0) rel = "renamed/" + rel.substr(4);
    return rel;
  };
  EXPECT_EQ(extract_zip(zip("normal.zip"), dest_, map), 4u);
  EXPECT_EQ(read_bytes(dest_ / "a.txt"), "hello");
  EXPECT_EQ(read_bytes(dest_ / "renamed/deeper/c.txt"), std::string(1000, 'c'));
  EXPECT_TRUE(fs::exists(dest_ / "renamed/b.bin"));
  EXPECT_TRUE(fs::exists(dest_ / "d.txt"));
  EXPECT_FALSE(fs::exists(dest_ / "test"));
  EXPECT_FALSE(fs::exists(dest_ / "top"));
  EXPECT_EQ(count_files(dest_), 4u);
}

TEST_F(Archive, MapperLeadingOutsideIsRefused) {
  const auto e = thrown_error([&] {
    extract_zip(zip("normal.zip"), dest_, [](const std::string& n) { return "../" + n; });
  });
  EXPECT_EQ(e.code(), ErrorCode::kData);
  EXPECT_TRUE(contains(e.what(), "destination '../top/a.txt' is unsafe")) << e.what();
  EXPECT_EQ(count_files(box_), 0u);
}

TEST_F(Archive, DotDotEntryIsRefused) {
  expect_refused("dotdot.zip", "../evil.txt", "'..' component");
}

TEST_F(Archive, NestedDotDotEntryIsRefused) {
  expect_refused("nested_dotdot.zip", "a/b/../../../evil.txt", "'..' component");
}

TEST_F(Archive, AbsoluteEntryIsRefused) { expect_refused("abs.zip", "/abs.txt", "absolute path"); }

TEST_F(Archive, BackslashesAreSeparators) {
  expect_refused("backslash.zip", "..\\evil2.txt", "'..' component");
}

TEST_F(Archive, SymlinkEntryIsRefused) { expect_refused("symlink.zip", "link", "symbolic link"); }

TEST_F(Archive, SymlinkEntrySkippedByTheMapperIsStillRefused) {
  const auto map = [](const std::string& n) { return n.rfind("extras/", 0) == 0 ? "" : n; };
  const auto e = thrown_error([&] { extract_zip(zip("skipped_symlink.zip"), dest_, map); });
  EXPECT_EQ(e.code(), ErrorCode::kData);
  EXPECT_TRUE(contains(e.what(), "refusing entry 'extras/link' (a symbolic link)")) << e.what();
  EXPECT_EQ(count_files(box_), 0u);
}

TEST_F(Archive, FolderSymlinkWithFilesThroughItIsRefused) {
  // The mapper of a recipe keeps only the .jpg files under data/stimuli, as OSIE's does.
  const auto map = [](const std::string& n) {
    return n.size() > 4 && n.compare(n.size() - 4, 4, ".jpg") == 0 ? "stimuli/a.jpg" : "";
  };
  fs::create_directories(dir_ / "outside");
  const auto e = thrown_error([&] { extract_zip(zip("folder_symlink.zip"), dest_, map); });
  EXPECT_EQ(e.code(), ErrorCode::kData);
  EXPECT_TRUE(contains(e.what(), "refusing entry 'data/stimuli' (a symbolic link)")) << e.what();
  EXPECT_TRUE(contains(e.what(), "nothing was extracted")) << e.what();
  EXPECT_EQ(count_files(box_), 0u);
  EXPECT_EQ(count_files(dir_ / "outside"), 0u);
  // The same without the mapper (every entry kept) is refused as well.
  EXPECT_EQ(thrown_error([&] { extract_zip(zip("folder_symlink.zip"), dest_); }).code(),
            ErrorCode::kData);
  EXPECT_EQ(count_files(dir_ / "outside"), 0u);
}

TEST_F(Archive, CrcErrorIsADataErrorAndLeavesNoPartialFile) {
  const auto e = thrown_error([&] { extract_zip(zip("crc.zip"), dest_); });
  EXPECT_EQ(e.code(), ErrorCode::kData);
  EXPECT_TRUE(contains(e.what(), zip("crc.zip").string())) << e.what();
  EXPECT_TRUE(contains(e.what(), "entry 'data.bin' is corrupt")) << e.what();
  EXPECT_TRUE(contains(e.what(), "CRC")) << e.what();
  EXPECT_FALSE(fs::exists(dest_ / "data.bin"));
}

TEST_F(Archive, TruncatedZipIsADataError) {
  const auto e = thrown_error([&] { extract_zip(zip("truncated.zip"), dest_); });
  EXPECT_EQ(e.code(), ErrorCode::kData);
  EXPECT_TRUE(contains(e.what(), "cannot open archive '" + zip("truncated.zip").string() + "'"))
      << e.what();
  EXPECT_TRUE(contains(e.what(), "download it again")) << e.what();
  EXPECT_EQ(count_files(box_), 0u);
}

TEST_F(Archive, NonZipIsADataError) {
  const auto e = thrown_error([&] { extract_zip(zip("notzip.zip"), dest_); });
  EXPECT_EQ(e.code(), ErrorCode::kData);
  EXPECT_TRUE(contains(e.what(), zip("notzip.zip").string())) << e.what();
}

TEST_F(Archive, MissingArchiveIsAnInputError) {
  const auto e = thrown_error([&] { extract_zip(zip("absent.zip"), dest_); });
  EXPECT_EQ(e.code(), ErrorCode::kInput);
  EXPECT_TRUE(contains(e.what(), zip("absent.zip").string())) << e.what();
}

TEST_F(Archive, DeclaredSizeOverTheCapIsRefusedBeforeWriting) {
  msinet::fetch::ExtractLimits limits;
  limits.max_total_bytes = (1 << 20) - 1;
  const auto e = thrown_error([&] { extract_zip(zip("big.zip"), dest_, {}, limits); });
  EXPECT_EQ(e.code(), ErrorCode::kData);
  EXPECT_TRUE(contains(e.what(), "unpacks to more than 1048575 bytes, over the limit")) << e.what();
  EXPECT_EQ(count_files(box_), 0u);
  limits.max_total_bytes = 1 << 20;
  EXPECT_EQ(extract_zip(zip("big.zip"), dest_, {}, limits), 1u);
  EXPECT_EQ(fs::file_size(dest_ / "zeros.bin"), 1u << 20);
}

TEST_F(Archive, DataLargerThanDeclaredIsADataError) {
  msinet::fetch::ExtractLimits limits;
  limits.max_total_bytes = 1000;
  const auto e = thrown_error([&] { extract_zip(zip("liar.zip"), dest_, {}, limits); });
  EXPECT_EQ(e.code(), ErrorCode::kData);
  EXPECT_TRUE(contains(e.what(), zip("liar.zip").string())) << e.what();
  EXPECT_TRUE(
      contains(e.what(), "entry 'zeros.bin' unpacks to more than the 100 bytes it declares"))
      << e.what();
  EXPECT_FALSE(fs::exists(dest_ / "zeros.bin"));
}

TEST_F(Archive, TooManyEntriesIsRefused) {
  msinet::fetch::ExtractLimits limits;
  limits.max_entries = 19;
  const auto e = thrown_error([&] { extract_zip(zip("many.zip"), dest_, {}, limits); });
  EXPECT_EQ(e.code(), ErrorCode::kData);
  EXPECT_TRUE(contains(e.what(), "20 entries, over the limit of 19")) << e.what();
  limits.max_entries = 20;
  EXPECT_EQ(extract_zip(zip("many.zip"), dest_, {}, limits), 20u);
  EXPECT_EQ(read_bytes(dest_ / "f07.txt"), "7");
}

TEST_F(Archive, LinkInsideTheTargetCannotRedirectFiles) {
  fs::create_directories(dest_);
  fs::create_directories(box_ / "elsewhere");
  fs::create_directory_symlink(box_ / "elsewhere", dest_ / "top");
  const auto e = thrown_error([&] { extract_zip(zip("normal.zip"), dest_); });
  EXPECT_EQ(e.code(), ErrorCode::kData);
  EXPECT_TRUE(contains(e.what(), "resolves outside")) << e.what();
  EXPECT_EQ(count_files(box_ / "elsewhere"), 0u);
}

}  // namespace
