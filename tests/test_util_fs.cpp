#include <gtest/gtest.h>

#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "test_support.h"

namespace msinet {
namespace {

using testing::TempDir;

TEST(UtilFs, AtomicWriteCreatesFoldersAndLeavesNoTemporaryFile) {
  TempDir tmp("fs");
  const auto path = tmp.path() / "a" / "b" / "file.txt";
  util::write_file_atomic(path, "hello");
  EXPECT_EQ(util::read_file(path), "hello");
  util::write_file_atomic(path, "replaced");
  EXPECT_EQ(util::read_file(path), "replaced");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(path.parent_path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(UtilFs, AtomicWriteIntoUnwritablePlaceNamesThePath) {
  TempDir tmp("fs");
  const auto blocker = tmp.path() / "not-a-folder";
  util::write_file_atomic(blocker, "x");
  try {
    util::write_file_atomic(blocker / "child.txt", "y");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
    EXPECT_NE(std::string(e.what()).find("not-a-folder"), std::string::npos) << e.what();
  }
}

TEST(UtilFs, ListImagesIsRecursiveCaseInsensitiveAndByteSorted) {
  TempDir tmp("fs");
  for (const char* name : {"b.JPG", "a.png", "sub/c.jpeg", "Z.jpg", "notes.txt", "sub/d.gif"}) {
    util::write_file_atomic(tmp.path() / name, "x");
  }
  const auto files = util::list_images(tmp.path());
  std::vector<std::string> rel;
  for (const auto& f : files) rel.push_back(f.lexically_relative(tmp.path()).string());
  // Byte order: upper case before lower case.
  EXPECT_EQ(rel, (std::vector<std::string>{"Z.jpg", "a.png", "b.JPG", "sub/c.jpeg"}));
  EXPECT_EQ(util::list_images(tmp.path() / "a.png").size(), 1u);
}

TEST(UtilFs, ListImagesOfMissingPathIsAnInputError) {
  try {
    util::list_images("/nonexistent/msinet/folder");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInput);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/msinet/folder"), std::string::npos);
  }
}

}  // namespace
}  // namespace msinet
