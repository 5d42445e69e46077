#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>

#include "msinet/config/config.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/util/size.h"
#include "test_support.h"

namespace msinet {
namespace {

using config::Config;
using config::Source;
using testing::TempDir;

std::string error_of(const std::function<void()>& f, ErrorCode* code = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (code) *code = e.code();
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsAreTheOriginalParams) {
  Config c;
  EXPECT_EQ(c.get_int("epochs"), 10);
  EXPECT_EQ(c.get_int("batch_size"), 1);
  EXPECT_DOUBLE_EQ(c.get_double("learning_rate"), 1e-5);
  EXPECT_EQ(c.source("epochs"), Source::kDefault);
}

TEST(Config, ShippedDefaultYamlMatchesTheBuiltInDefaults) {
  const YAML::Node n = YAML::LoadFile(std::string(MSINET_SOURCE_DIR) + "/configs/default.yaml");
  Config c;
  for (const auto& k : config::known_keys()) {
    ASSERT_TRUE(n[k.key]) << "configs/default.yaml lacks " << k.key;
    EXPECT_EQ(n[k.key].as<std::string>(), c.get(k.key)) << k.key;
  }
  EXPECT_EQ(n.size(), config::known_keys().size());
}

TEST(Config, MirrorIsAKeyShownWithItsSource) {
  Config c;
  ::setenv("MSINET_MIRROR", "http://127.0.0.1:8080/m", 1);
  c.load_environment();
  ::unsetenv("MSINET_MIRROR");
  EXPECT_EQ(c.get("mirror"), "http://127.0.0.1:8080/m");
  const std::string d = c.describe();
  EXPECT_NE(d.find("mirror: http://127.0.0.1:8080/m  # environment (MSINET_MIRROR)"),
            std::string::npos)
      << d;
  EXPECT_THROW(c.set("mirror", "ftp://x", Source::kFlag), Error);
  c.set("mirror", "", Source::kFlag);
  EXPECT_EQ(c.get("mirror"), "");
}

TEST(Config, UnknownEnvironmentVariableWarnsNamingTheClosestKey) {
  Config c;
  ::setenv("MSINET_EPOHCS", "3", 1);
  ::setenv("MSINET_BUILD_DIR", "build", 1);  // a script variable: no warning
  c.load_environment();
  ::unsetenv("MSINET_EPOHCS");
  ::unsetenv("MSINET_BUILD_DIR");
  ASSERT_EQ(c.warnings().size(), 1u);
  EXPECT_NE(c.warnings()[0].find("MSINET_EPOHCS"), std::string::npos) << c.warnings()[0];
  EXPECT_NE(c.warnings()[0].find("did you mean MSINET_EPOCHS?"), std::string::npos)
      << c.warnings()[0];
  EXPECT_EQ(c.get("epochs"), "10");
  EXPECT_EQ(config::closest_key("batchsize"), "batch_size");
  EXPECT_EQ(config::closest_key("mirorr"), "mirror");
}

TEST(Config, PrecedenceIsDefaultFileEnvironmentFlag) {
  TempDir tmp("cfg");
  const auto file = tmp.path() / "c.yaml";
  util::write_file_atomic(file, "epochs: 3\nbatch_size: 4\nlearning_rate: 0.001\n");
  Config c;
  c.load_yaml(file);
  ::setenv("MSINET_BATCH_SIZE", "5", 1);
  ::setenv("MSINET_LEARNING_RATE", "0.01", 1);
  c.load_environment();
  ::unsetenv("MSINET_BATCH_SIZE");
  ::unsetenv("MSINET_LEARNING_RATE");
  c.set("learning_rate", "0.5", Source::kFlag);
  EXPECT_EQ(c.get_int("epochs"), 3);
  EXPECT_EQ(c.source("epochs"), Source::kFile);
  EXPECT_EQ(c.get_int("batch_size"), 5);
  EXPECT_EQ(c.source("batch_size"), Source::kEnvironment);
  EXPECT_DOUBLE_EQ(c.get_double("learning_rate"), 0.5);
  EXPECT_EQ(c.source("learning_rate"), Source::kFlag);
  const std::string d = c.describe();
  EXPECT_NE(d.find("epochs: 3  # file (" + file.string() + ")"), std::string::npos) << d;
  EXPECT_NE(d.find("batch_size: 5  # environment (MSINET_BATCH_SIZE)"), std::string::npos) << d;
  EXPECT_NE(d.find("seed: 42  # default"), std::string::npos) << d;
}

TEST(Config, UnknownKeyInFileNamesKeyAndFile) {
  TempDir tmp("cfg");
  const auto file = tmp.path() / "bad.yaml";
  util::write_file_atomic(file, "epochs: 2\nepoch_count: 3\n");
  Config c;
  ErrorCode code{};
  const std::string msg = error_of([&] { c.load_yaml(file); }, &code);
  EXPECT_EQ(code, ErrorCode::kConfig);
  EXPECT_NE(msg.find("epoch_count"), std::string::npos) << msg;
  EXPECT_NE(msg.find("bad.yaml"), std::string::npos) << msg;
}

TEST(Config, BadValuesAreRejectedWithKeyValueAndSource) {
  Config c;
  ErrorCode code{};
  std::string msg = error_of([&] { c.set("epochs", "0", Source::kFlag); }, &code);
  EXPECT_EQ(code, ErrorCode::kConfig);
  EXPECT_NE(msg.find("'0'"), std::string::npos);
  EXPECT_NE(msg.find("epochs"), std::string::npos);
  msg = error_of([&] { c.set("device", "tpu", Source::kEnvironment, "MSINET_DEVICE"); });
  EXPECT_NE(msg.find("auto|cpu|cuda"), std::string::npos) << msg;
  EXPECT_NE(msg.find("MSINET_DEVICE"), std::string::npos) << msg;
  msg = error_of([&] { c.set("size", "100x100", Source::kFlag); });
  EXPECT_NE(msg.find("multiples of 8"), std::string::npos) << msg;
  msg = error_of([&] { c.set("size", "9000x9000", Source::kFlag); });
  EXPECT_NE(msg.find("multiples of 8 up to 8192"), std::string::npos) << msg;
  msg = error_of([&] { c.set("learning_rate", "fast", Source::kFlag); });
  EXPECT_NE(msg.find("learning_rate"), std::string::npos) << msg;
  EXPECT_EQ(c.get_int("epochs"), 10);  // unchanged after the failures
}

TEST(Config, SyntaxErrorNamesTheFile) {
  TempDir tmp("cfg");
  const auto file = tmp.path() / "broken.yaml";
  util::write_file_atomic(file, "epochs: [1, 2\n");
  Config c;
  ErrorCode code{};
  const std::string msg = error_of([&] { c.load_yaml(file); }, &code);
  EXPECT_EQ(code, ErrorCode::kConfig);
  EXPECT_NE(msg.find("broken.yaml"), std::string::npos) << msg;
}

// A key that is a list or a mapping, at the top or under urls: (found by fuzz_config_yaml: a
// yaml-cpp conversion error escaped) is refused naming the file.
TEST(Config, KeyThatIsNotANameIsRefusedNamingTheFile) {
  TempDir tmp("cfg");
  for (const char* text : {"[epochs, 2]: 3\n", "urls:\n  ? [osie]\n  : https://example.org/x\n"}) {
    const auto file = tmp.path() / "odd.yaml";
    util::write_file_atomic(file, text);
    Config c;
    ErrorCode code{};
    const std::string msg = error_of([&] { c.load_yaml(file); }, &code);
    EXPECT_EQ(code, ErrorCode::kConfig) << text;
    EXPECT_NE(msg.find("odd.yaml"), std::string::npos) << msg;
    EXPECT_NE(msg.find("key that is not"), std::string::npos) << msg;
  }
}

TEST(Config, ParseSize) {
  const auto s = util::parse_size("240x320", "--size");
  EXPECT_EQ(s.h, 240);
  EXPECT_EQ(s.w, 320);
  EXPECT_THROW(util::parse_size("241x320", "--size"), Error);
  EXPECT_THROW(util::parse_size("240", "--size"), Error);
  EXPECT_THROW(util::parse_size("-8x8", "--size"), Error);
}

}  // namespace
}  // namespace msinet

namespace msinet {
namespace {

TEST(Config, UrlOverridesComeFromAUrlsMapping) {
  testing::TempDir tmp("cfg");
  const auto file = tmp.path() / "urls.yaml";
  util::write_file_atomic(
      file,
      "urls:\n  osie.archive: http://127.0.0.1:9/osie.zip\n  mit1003.stimuli: file:///srv/a.zip\n");
  config::Config c;
  c.load_yaml(file);
  const auto urls = c.urls();
  ASSERT_EQ(urls.size(), 2u);
  EXPECT_EQ(urls.at("osie.archive"), "http://127.0.0.1:9/osie.zip");
  EXPECT_EQ(urls.at("mit1003.stimuli"), "file:///srv/a.zip");
  EXPECT_NE(c.describe().find("url.osie.archive: http://127.0.0.1:9/osie.zip  # file"),
            std::string::npos);
  util::write_file_atomic(file, "urls:\n  osie.archive: ftp://x/y.zip\n");
  config::Config d;
  try {
    d.load_yaml(file);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("url.osie.archive"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace msinet
