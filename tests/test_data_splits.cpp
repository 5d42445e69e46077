// Splits: numpy's legacy permutation, the per-dataset rules, pairing checks, subsets, SALICON's
// folders, user datasets described by YAML, and the validation list.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "msinet/data/dataset.h"
#include "msinet/data/splits.h"
#include "msinet/util/error.h"
#include "msinet/util/size.h"
#include "test_support.h"
#include "tools/http_server.h"

namespace msinet::data {
namespace {

using msinet::testing::run_command;
using msinet::testing::TempDir;

std::vector<std::vector<int64_t>> python_lists(const std::string& code,
                                               const std::vector<std::string>& args = {}) {
  std::vector<std::string> argv = {"/usr/bin/python3", "-c", code};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run_command(argv);
  EXPECT_EQ(r.status, 0) << code;
  std::vector<std::vector<int64_t>> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream in(line);
    std::vector<int64_t> v;
    for (int64_t x; in >> x;) v.push_back(x);
    out.push_back(v);
  }
  return out;
}

void touch(const fs::path& file) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << "x";
}

std::string error_of(const std::function<void()>& fn, ErrorCode expected_code) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), expected_code) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected an Error";
  return "";
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> stems(const std::vector<FilePair>& pairs) {
  std::vector<std::string> out;
  for (const auto& p : pairs) out.push_back(p.first.stem().string());
  return out;
}

TEST(LegacyPermutation, FirstValuesOfEveryPublishedSplit) {
  const std::vector<std::pair<int64_t, std::vector<int64_t>>> known = {
      {1003, {626, 629, 847, 514, 365}},   {100, {83, 53, 70, 45, 44}},
      {700, {158, 500, 396, 155, 321}},    {5168, {1564, 2916, 3414, 3159, 1397}},
      {850, {512, 357, 110, 684, 39}},     {149, {73, 18, 117, 78, 76}},
      {2000, {1860, 353, 1333, 905, 1289}}};
  for (const auto& [n, first] : known) {
    const auto p = legacy_permutation(n);
    ASSERT_EQ(static_cast<int64_t>(p.size()), n);
    EXPECT_EQ(std::vector<int64_t>(p.begin(), p.begin() + 5), first) << "P(" << n << ")";
  }
}

TEST(LegacyPermutation, EqualsNumpyRandomStateShuffle) {
  const std::vector<std::pair<int64_t, uint32_t>> cases = {
      {0, 42},    {1, 42},     {2, 42}, {3, 42},  {1003, 42},
      {5168, 42}, {70000, 42}, {10, 0}, {257, 7}, {1000, 4294967295u}};
  std::string ns;
  std::string seeds;
  for (const auto& [n, s] : cases) {
    ns += std::to_string(n) + ",";
    seeds += std::to_string(s) + ",";
  }
  const auto expected = python_lists(R"(
import sys, numpy as np
for n, s in zip(sys.argv[1].split(",")[:-1], sys.argv[2].split(",")[:-1]):
    a = np.arange(int(n))
    np.random.RandomState(int(s)).shuffle(a)
    print(" ".join(map(str, a)))
)",
                                     {ns, seeds});
  ASSERT_EQ(expected.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(legacy_permutation(cases[i].first, cases[i].second), expected[i])
        << "n " << cases[i].first << " seed " << cases[i].second;
  }
}

TEST(BuiltinDatasets, SizesAndUnknownName) {
  EXPECT_EQ(builtin_datasets().size(), 7u);
  const auto& cat = builtin_dataset("cat2000");
  EXPECT_EQ(cat.height, 216);
  EXPECT_EQ(cat.width, 384);
  EXPECT_EQ(cat.total, 2000);
  EXPECT_EQ(builtin_dataset("salicon").rule, SplitRule::kFolders);
  EXPECT_EQ(builtin_spec("osie").height, 240);
  const std::string msg = error_of([] { builtin_dataset("mit300"); }, ErrorCode::kUsage);
  EXPECT_TRUE(has(msg, "mit300") && has(msg, "salicon") && has(msg, "fiwi")) << msg;
  const util::Size s = util::parse_size("48x64", "--size", ErrorCode::kConfig);
  EXPECT_EQ(s.h, 48);
  EXPECT_EQ(s.w, 64);
  EXPECT_TRUE(has(error_of([&] { util::parse_size("50x64", "--size", ErrorCode::kConfig); },
                           ErrorCode::kConfig),
                  "multiples of 8"));
  EXPECT_TRUE(has(
      error_of([&] { util::parse_size("48", "--size", ErrorCode::kConfig); }, ErrorCode::kConfig),
      "HxW"));
}

TEST(Pairing, StemsIgnoreFixMapAndFixPtsSuffixes) {
  EXPECT_EQ(pairing_stem("a/i1000978_fixMap.jpg"), "i1000978");
  EXPECT_EQ(pairing_stem("b/i1000978_fixPts.jpg"), "i1000978");
  EXPECT_EQ(pairing_stem("c/i1000978.jpeg"), "i1000978");
  const auto pairs = pair_files({"s/a.jpeg", "s/b.jpeg"}, {"m/a_fixMap.jpg", "m/b_fixMap.jpg"});
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[1].second, fs::path("m/b_fixMap.jpg"));
}

TEST(Pairing, MismatchNamesTheFirstOffendingPair) {
  std::string msg = error_of(
      [] {
        pair_files({"s/a.jpg", "s/b.jpg", "s/c.jpg"}, {"m/a.png", "m/bb.png", "m/c.png"});
      },
      ErrorCode::kInput);
  EXPECT_TRUE(has(msg, "s/b.jpg") && has(msg, "m/bb.png") && has(msg, "pair 2")) << msg;
  EXPECT_FALSE(has(msg, "c.jpg")) << msg;
  msg = error_of(
      [] {
        pair_files({"s/a.jpg", "s/b.jpg", "s/c.jpg"}, {"m/a.png", "m/c.png"});
      },
      ErrorCode::kInput);
  EXPECT_TRUE(has(msg, "s/b.jpg") && has(msg, "m/c.png")) << msg;
  msg = error_of([] { pair_files({"s/a.jpg", "s/b.jpg"}, {"m/a.png"}); }, ErrorCode::kInput);
  EXPECT_TRUE(has(msg, "2 stimuli but 1 saliency maps") && has(msg, "s/b.jpg")) << msg;
}

TEST(MakeSplit, PermutationRuleWithThePublishedCount) {
  TempDir dir("split-fiwi");
  const fs::path ds = dir.path() / "fiwi";
  for (int i = 0; i < 149; ++i) {
    touch(ds / "stimuli" / (std::to_string(i) + ".png"));
    touch(ds / "saliency" / (std::to_string(i) + ".png"));
  }
  const Split split = make_split(builtin_spec("fiwi"), ds);
  EXPECT_TRUE(split.warnings.empty());
  ASSERT_EQ(split.train.size(), 99u);
  ASSERT_EQ(split.valid.size(), 50u);
  // The sorted list is "0", "1", "10", "100", ...: index i of the list, not file i.
  const auto expected = python_lists(R"(
import numpy as np
names = sorted("%d.png" % i for i in range(149))
idx = np.arange(149); np.random.RandomState(42).shuffle(idx)
print(" ".join(names[i][:-4] for i in idx[:99]))
print(" ".join(names[i][:-4] for i in idx[99:]))
)");
  ASSERT_EQ(expected.size(), 2u);
  std::vector<int64_t> train;
  std::vector<int64_t> valid;
  for (const auto& s : stems(split.train)) train.push_back(std::stoll(s));
  for (const auto& s : stems(split.valid)) valid.push_back(std::stoll(s));
  EXPECT_EQ(train, expected[0]);
  EXPECT_EQ(valid, expected[1]);
  EXPECT_EQ(split.train[0].second, ds / "saliency" / (std::to_string(train[0]) + ".png"));
}

TEST(MakeSplit, Cat2000PerCategoryRule) {
  TempDir dir("split-cat");
  const fs::path ds = dir.path() / "cat2000";
  const std::vector<std::string> cats = {
      "Action",        "Affective", "Art",      "BlackWhite",     "Cartoon",
      "Fractal",       "Indoor",    "Inverted", "Jumbled",        "LineDrawing",
      "LowResolution", "Noisy",     "Object",   "OutdoorManMade", "OutdoorNatural",
      "Pattern",       "Random",    "Satelite", "Sketch",         "Social"};
  ASSERT_EQ(cats.size(), 20u);
  for (const auto& c : cats) {
    for (int i = 1; i <= 100; ++i) {
      char name[16];
      std::snprintf(name, sizeof name, "%03d.jpg", i);
      touch(ds / "stimuli" / c / name);
      touch(ds / "saliency" / c / name);
    }
  }
  const Split split = make_split(builtin_spec("cat2000"), ds);
  EXPECT_TRUE(split.warnings.empty());
  ASSERT_EQ(split.train.size(), 1600u);
  ASSERT_EQ(split.valid.size(), 400u);
  // ref: saliency/data.py CAT2000.load_data, transcribed: indices into the sorted list.
  const auto expected = python_lists(R"(
import numpy as np
indices = np.arange(100); np.random.RandomState(42).shuffle(indices)
ratio = 1600 * 100 // 2000
ex = np.tile(indices[:ratio], 20)
for i, _ in enumerate(ex): ex[i] = ex[i] + i // ratio * 100
print(" ".join(map(str, ex)))
ratio = 400 * 100 // 2000
ex = np.tile(indices[-ratio:], 20)
for i, _ in enumerate(ex): ex[i] = ex[i] + i // ratio * 100
print(" ".join(map(str, ex)))
)");
  ASSERT_EQ(expected.size(), 2u);
  const auto position = [&](const fs::path& p) {
    const std::string cat = p.parent_path().filename().string();
    const auto c = std::find(cats.begin(), cats.end(), cat) - cats.begin();
    return static_cast<int64_t>(c * 100 + std::stoll(p.stem().string()) - 1);
  };
  std::vector<int64_t> train;
  std::vector<int64_t> valid;
  for (const auto& p : split.train) train.push_back(position(p.first));
  for (const auto& p : split.valid) valid.push_back(position(p.first));
  EXPECT_EQ(train, expected[0]);
  EXPECT_EQ(valid, expected[1]);
}

TEST(MakeSplit, SubsetOfABuiltinDatasetWarnsAndKeepsTheProportion) {
  TempDir dir("split-subset");
  const fs::path ds = dir.path() / "osie";
  for (int i = 1001; i < 1011; ++i) {
    touch(ds / "stimuli" / (std::to_string(i) + ".jpg"));
    touch(ds / "saliency" / (std::to_string(i) + ".png"));
  }
  const Split split = make_split(builtin_spec("osie"), ds);
  ASSERT_EQ(split.warnings.size(), 1u);
  EXPECT_TRUE(has(split.warnings[0], "found 10") && has(split.warnings[0], "700") &&
              has(split.warnings[0], "subset"))
      << split.warnings[0];
  // round(10 * 200 / 700) = 3 validate, drawn from P(10).
  const auto p = legacy_permutation(10);
  ASSERT_EQ(split.train.size(), 7u);
  ASSERT_EQ(split.valid.size(), 3u);
  EXPECT_EQ(split.valid[0].first.stem().string(), std::to_string(1001 + p[7]));
  EXPECT_EQ(split.train[0].first.stem().string(), std::to_string(1001 + p[0]));
}

TEST(MakeSplit, Cat2000SubsetSplitsEachCategoryFolder) {
  TempDir dir("split-cat-subset");
  const fs::path ds = dir.path() / "cat2000";
  for (const char* c : {"Action", "Art"}) {
    for (int i = 1; i <= 10; ++i) {
      touch(ds / "stimuli" / c / (std::to_string(i) + ".jpg"));
      touch(ds / "saliency" / c / (std::to_string(i) + ".jpg"));
    }
  }
  const Split split = make_split(builtin_spec("cat2000"), ds);
  ASSERT_EQ(split.warnings.size(), 1u);
  EXPECT_EQ(split.train.size(), 16u);
  EXPECT_EQ(split.valid.size(), 4u);
  size_t action_valid = 0;
  for (const auto& p : split.valid) action_valid += p.first.parent_path().filename() == "Action";
  EXPECT_EQ(action_valid, 2u);
}

TEST(MakeSplit, SaliconUsesItsTrainAndValFolders) {
  TempDir dir("split-salicon");
  const fs::path ds = dir.path() / "salicon";
  for (const char* n : {"COCO_train2014_000000000009", "COCO_train2014_000000000025"}) {
    touch(ds / "stimuli" / "train" / (std::string(n) + ".jpg"));
    touch(ds / "saliency" / "train" / (std::string(n) + ".png"));
  }
  touch(ds / "stimuli" / "val" / "COCO_val2014_000000000042.jpg");
  touch(ds / "saliency" / "val" / "COCO_val2014_000000000042.png");
  const Split split = make_split(builtin_spec("salicon"), ds);
  ASSERT_EQ(split.train.size(), 2u);
  ASSERT_EQ(split.valid.size(), 1u);
  EXPECT_EQ(split.train[0].first, ds / "stimuli" / "train" / "COCO_train2014_000000000009.jpg");
  EXPECT_EQ(split.valid[0].second, ds / "saliency" / "val" / "COCO_val2014_000000000042.png");
  ASSERT_EQ(split.warnings.size(), 1u);
  EXPECT_TRUE(has(split.warnings[0], "10000") && has(split.warnings[0], "5000"));
  fs::remove_all(ds / "saliency" / "val");
  const std::string msg =
      error_of([&] { make_split(builtin_spec("salicon"), ds); }, ErrorCode::kInput);
  EXPECT_TRUE(has(msg, (ds / "saliency" / "val").string())) << msg;
}

TEST(MakeSplit, MissingOrEmptyFolders) {
  TempDir dir("split-missing");
  std::string msg = error_of([&] { make_split(builtin_spec("mit1003"), dir.path() / "mit1003"); },
                             ErrorCode::kInput);
  EXPECT_TRUE(has(msg, "stimuli") && has(msg, "msinet download")) << msg;
  fs::create_directories(dir.path() / "mit1003" / "stimuli");
  fs::create_directories(dir.path() / "mit1003" / "saliency");
  msg = error_of([&] { make_split(builtin_spec("mit1003"), dir.path() / "mit1003"); },
                 ErrorCode::kInput);
  EXPECT_TRUE(has(msg, "no .png/.jpg/.jpeg images")) << msg;
}

TEST(ResolveDatasetDir, ParentFolderOrTheDatasetItself) {
  TempDir dir("resolve");
  EXPECT_EQ(resolve_dataset_dir(dir.path(), "osie"), dir.path() / "osie");
  fs::create_directories(dir.path() / "mine" / "stimuli");
  fs::create_directories(dir.path() / "mine" / "saliency");
  EXPECT_EQ(resolve_dataset_dir(dir.path() / "mine", "osie"), dir.path() / "mine");
}

TEST(WriteValidationList, OnePathPerLine) {
  TempDir dir("vlist");
  Split split;
  split.train = {{"s/a.jpg", "m/a.png"}};
  split.valid = {{"s/b.jpg", "m/b.png"}, {"s/c d.jpg", "m/c d.png"}};
  const fs::path file = dir.path() / "run" / "validation_files.txt";
  write_validation_list(split, file);
  EXPECT_EQ(msinet::testing::read_lines(file), (std::vector<std::string>{"s/b.jpg", "s/c d.jpg"}));
}

// --- user datasets ----------------------------------------------------------------------------

class UserDataset : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 10; ++i) {
      touch(root() / "images" / ("img" + std::to_string(i) + ".jpg"));
      touch(root() / "maps" / ("img" + std::to_string(i) + "_fixMap.png"));
    }
  }
  fs::path root() const { return dir_.path(); }
  fs::path yaml(const std::string& text, const std::string& name = "mydata.yaml") {
    const fs::path file = root() / name;
    std::ofstream(file) << text;
    return file;
  }
  TempDir dir_{"user-ds"};
};

TEST_F(UserDataset, FractionAndSeed) {
  const fs::path file =
      yaml("stimuli: images\nsaliency: maps\nsize: 240x320\nvalid_fraction: 0.3\nseed: 7\n");
  const DatasetSpec spec = dataset_spec_from_arg(file.string());
  EXPECT_FALSE(spec.builtin);
  EXPECT_EQ(spec.name, "mydata");
  EXPECT_EQ(spec.height, 240);
  EXPECT_EQ(spec.width, 320);
  EXPECT_EQ(spec.stimuli_dir, root() / "images");
  const Split split = make_split(spec, "/nonexistent");
  ASSERT_EQ(split.train.size(), 7u);
  ASSERT_EQ(split.valid.size(), 3u);
  const auto expected = python_lists(R"(
import numpy as np
a = np.arange(10); np.random.RandomState(7).shuffle(a); print(" ".join(map(str, a)))
)");
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(split.train[i].first.filename().string(),
              "img" + std::to_string(expected[0][i]) + ".jpg");
  }
  EXPECT_EQ(split.valid[2].second.filename().string(),
            "img" + std::to_string(expected[0][9]) + "_fixMap.png");
}

TEST_F(UserDataset, ExplicitListsInlineAndFromAFile) {
  std::ofstream(root() / "train.txt") << "# training images\nimg0.jpg\n\nimg1.jpg\nimg2.jpg\n";
  const fs::path file = yaml(
      "name: faces\nstimuli: images\nsaliency: maps\nfixations: images\nsize: [64, 96]\n"
      "train: train.txt\nvalid: [img3.jpg, img4.jpg]\n");
  const DatasetSpec spec = load_dataset_yaml(file);
  EXPECT_EQ(spec.name, "faces");
  EXPECT_EQ(spec.height, 64);
  EXPECT_EQ(spec.width, 96);
  EXPECT_EQ(spec.fixations_dir, root() / "images");
  const Split split = make_split(spec, {});
  EXPECT_EQ(stems(split.train), (std::vector<std::string>{"img0", "img1", "img2"}));
  EXPECT_EQ(stems(split.valid), (std::vector<std::string>{"img3", "img4"}));
  ASSERT_EQ(split.warnings.size(), 1u);
  EXPECT_TRUE(has(split.warnings[0], "5 image pairs are in neither")) << split.warnings[0];

  const Split only_valid =
      make_split(load_dataset_yaml(yaml("stimuli: images\nsaliency: maps\nsize: 64x64\n"
                                        "valid: [img9.jpg]\n")),
                 {});
  EXPECT_EQ(only_valid.train.size(), 9u);
  EXPECT_EQ(stems(only_valid.valid), (std::vector<std::string>{"img9"}));
}

TEST_F(UserDataset, ErrorsNameTheKeyAndTheFile) {
  const auto check = [&](const std::string& text, const std::string& key, const std::string& part) {
    const fs::path file = yaml(text, "bad.yaml");
    const std::string msg = error_of([&] { load_dataset_yaml(file); }, ErrorCode::kConfig);
    EXPECT_TRUE(has(msg, file.string()) && has(msg, "'" + key + "'") && has(msg, part))
        << text << " -> " << msg;
  };
  check("stimuli: images\nsaliency: maps\nsize: 64x64\nshuffle: true\n", "shuffle", "unknown key");
  check("stimuli: images\nsaliency: maps\nsize: 60x64\n", "size", "multiples of 8");
  check("stimuli: images\nsaliency: maps\nsize: big\n", "size", "HxW");
  check("saliency: maps\nsize: 64x64\n", "stimuli", "missing");
  check("stimuli: images\nsaliency: maps\n", "size", "missing");
  check("stimuli: images\nsaliency: maps\nsize: 64x64\nvalid_fraction: 1.5\n", "valid_fraction",
        "between 0 and 1");
  check("stimuli: images\nsaliency: maps\nsize: 64x64\nvalid_fraction: lots\n", "valid_fraction",
        "not a number");
  check("stimuli: images\nsaliency: maps\nsize: 64x64\nseed: -3\n", "seed", "integer");
  check("stimuli: images\nsaliency: maps\nsize: 64x64\nvalid: [a.jpg]\nseed: 3\n", "seed",
        "cannot be combined");
  const fs::path file = yaml("stimuli: images\nsaliency: maps\nsize: 64x64\nvalid: [nope.jpg]\n");
  const DatasetSpec spec = load_dataset_yaml(file);
  const std::string msg = error_of([&] { make_split(spec, {}); }, ErrorCode::kConfig);
  EXPECT_TRUE(has(msg, "nope.jpg") && has(msg, "'valid'") && has(msg, file.string())) << msg;
  const std::string not_yaml = error_of(
      [&] { load_dataset_yaml(yaml("stimuli: [unclosed\n", "broken.yaml")); }, ErrorCode::kConfig);
  EXPECT_TRUE(has(not_yaml, "broken.yaml") && has(not_yaml, "not valid YAML")) << not_yaml;
}

TEST_F(UserDataset, MissingFilesAndFoldersAreInputErrors) {
  const auto check = [&](const std::string& text, const std::string& key, const std::string& part) {
    const fs::path file = yaml(text, "missing.yaml");
    const std::string msg = error_of([&] { load_dataset_yaml(file); }, ErrorCode::kInput);
    EXPECT_TRUE(has(msg, file.string()) && has(msg, "'" + key + "'") && has(msg, part))
        << text << " -> " << msg;
  };
  check("stimuli: pictures\nsaliency: maps\nsize: 64x64\n", "stimuli", "does not exist");
  check("stimuli: images\nsaliency: nothere\nsize: 64x64\n", "saliency", "does not exist");
  check("stimuli: images\nsaliency: maps\nsize: 64x64\ntrain: missing.txt\n", "train",
        "cannot read list file");
  EXPECT_TRUE(has(error_of([&] { load_dataset_yaml(root() / "absent.yaml"); }, ErrorCode::kInput),
                  "absent.yaml"));
}

TEST(DatasetSpecFromArg, BuiltinNameOrYamlFile) {
  EXPECT_TRUE(dataset_spec_from_arg("mit1003").builtin);
  EXPECT_TRUE(is_dataset_yaml("x/my.YAML"));
  EXPECT_TRUE(is_dataset_yaml("my.yml"));
  EXPECT_FALSE(is_dataset_yaml("osie"));
  EXPECT_EQ(
      error_of([] { dataset_spec_from_arg("imagenet"); }, ErrorCode::kUsage).find("imagenet") !=
          std::string::npos,
      true);
}

}  // namespace
}  // namespace msinet::data
