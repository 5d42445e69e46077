// Every fixture truncated at several points and with flipped bytes: the readers give a clean
// msinet::Error naming the damaged file, or (where the format has nothing to detect it with)
// values that are provably not silently wrong.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include "msinet/weights/proto_wire.h"
#include "msinet/weights/readers.h"
#include "test_support.h"
#include "tools/weights_test_util.h"

namespace {

namespace w = msinet::weights;
namespace fs = std::filesystem;
using msinet::testing::slurp;
using msinet::testing::spit;
using msinet::testing::tf_fixture;

// What a damaged file may lead to.
enum class Expect {
  kError,            // always an Error
  kErrorOrSame,      // an Error, or exactly the undamaged tensors
  kErrorOrSubset,    // an Error, or some of the undamaged tensors, unchanged (protobuf has no
                     // length or checksum: a cut at a field boundary is a shorter valid message)
  kErrorOrAnything,  // no checksum covers these bytes: only no crash and no foreign exception
  kOneElement,       // raw unchecked data: no Error, and exactly one element differs
};

struct Outcome {
  bool error = false;
  std::string message;
  w::NamedTensors tensors;
};

Outcome attempt(const fs::path& src) {
  Outcome o;
  try {
    o.tensors = w::read_weights(src);
  } catch (const msinet::Error& e) {
    o.error = true;
    o.message = e.what();
    EXPECT_EQ(e.code(), msinet::ErrorCode::kWeights) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "foreign exception: " << e.what();
    o.error = true;
  }
  return o;
}

size_t differing_elements(const w::NamedTensors& a, const w::NamedTensors& b) {
  size_t n = 0;
  for (const auto& [name, t] : a) {
    const auto& u = b.at(name).values;
    for (size_t i = 0; i < t.values.size(); ++i) {
      n += msinet::testing::bits_of(t.values[i]) != msinet::testing::bits_of(u[i]);
    }
  }
  return n;
}

void check(const Outcome& o, Expect expect, const w::NamedTensors& original, const fs::path& file,
           const std::string& what) {
  SCOPED_TRACE(file.filename().string() + " " + what);
  if (o.error) {
    EXPECT_NE(expect, Expect::kOneElement) << o.message;
    // The message names the damaged file (a data file's index names it too).
    const std::string stem = file.filename().string();
    const bool named = o.message.find(stem) != std::string::npos ||
                       o.message.find(file.parent_path().filename().string()) != std::string::npos;
    EXPECT_TRUE(named) << o.message;
    EXPECT_NE(o.message.find(file.parent_path().string()), std::string::npos) << o.message;
    return;
  }
  switch (expect) {
    case Expect::kError:
      ADD_FAILURE() << "no error";
      break;
    case Expect::kErrorOrSame:
      EXPECT_TRUE(msinet::testing::same_tensors(o.tensors, original));
      break;
    case Expect::kErrorOrSubset:
      for (const auto& [name, t] : o.tensors) {
        ASSERT_TRUE(original.count(name)) << name;
        EXPECT_TRUE(msinet::testing::same_tensors({{name, t}}, {{name, original.at(name)}}))
            << name;
      }
      break;
    case Expect::kErrorOrAnything:
      break;
    case Expect::kOneElement:
      ASSERT_EQ(o.tensors.size(), original.size());
      EXPECT_EQ(differing_elements(original, o.tensors), 1u);
      break;
  }
}

// Byte positions to damage: all of a small file, an even sample of a large one.
std::vector<size_t> positions(size_t size) {
  std::vector<size_t> out;
  const size_t step = size <= 1024 ? 1 : size / 97;
  for (size_t i = 0; i < size; i += step) out.push_back(i);
  if (size) out.push_back(size - 1);
  return out;
}

std::vector<size_t> cuts(size_t size) {
  std::set<size_t> s = {0, 1, size / 4, size / 3, size / 2, 3 * size / 4, size - 1};
  if (size > 48) s.insert({size - 48, size - 49, size - 8});
  std::vector<size_t> out;
  for (size_t c : s) {
    if (c < size) out.push_back(c);
  }
  return out;
}

struct Target {
  std::string file;  // relative to the copied fixture
  Expect truncated;
  Expect flipped;
  // Bytes at or past this offset from the end flip with `flipped_tail` instead (a table footer's
  // padding is read by no one).
  size_t tail = 0;
  Expect flipped_tail = Expect::kErrorOrSame;
};

void damage(const std::string& fixture, const std::string& read_as,
            const std::vector<Target>& targets) {
  msinet::testing::ScratchFolder tmp("weights-corrupt");
  const fs::path root = tmp.path() / "copy";
  msinet::testing::copy_tree(tf_fixture(fixture), root);
  const fs::path src = read_as.empty() ? root : root / read_as;
  const w::NamedTensors original = w::read_weights(src);
  for (const Target& t : targets) {
    const fs::path file = root / t.file;
    const std::string bytes = slurp(file);
    ASSERT_FALSE(bytes.empty()) << file;
    for (size_t cut : cuts(bytes.size())) {
      spit(file, bytes.substr(0, cut));
      check(attempt(src), t.truncated, original, file, "cut at " + std::to_string(cut));
    }
    for (size_t pos : positions(bytes.size())) {
      for (unsigned char mask : {0x01, 0x80}) {
        std::string bad = bytes;
        bad[pos] = static_cast<char>(bad[pos] ^ mask);
        spit(file, bad);
        const bool in_tail = t.tail && pos + t.tail >= bytes.size();
        check(attempt(src), in_tail ? t.flipped_tail : t.flipped, original, file,
              "flip at " + std::to_string(pos));
      }
    }
    spit(file, bytes);
  }
}

// A checkpoint .index: every block byte is under a CRC, the footer's handles and magic are
// checked, only its zero padding (bytes 48..8 from the end, after the handles) is read by no one.
Target index_target(const std::string& file) {
  return {file, Expect::kError, Expect::kError, 48, Expect::kErrorOrSame};
}

TEST(WeightsCorruption, RegressionCheckpoint) {
  damage(
      "tensorflow-onnx/regression/checkpoint", "model",
      {index_target("model.index"), {"model.data-00000-of-00001", Expect::kError, Expect::kError}});
}

TEST(WeightsCorruption, RegressionFrozenGraph) {
  damage("tensorflow-onnx/regression/graphdef", "frozen.pb",
         {{"frozen.pb", Expect::kErrorOrSubset, Expect::kErrorOrAnything}});
}

TEST(WeightsCorruption, RegressionSavedModel) {
  damage("tensorflow-onnx/regression/saved_model", "",
         {{"saved_model.pb", Expect::kErrorOrSubset, Expect::kErrorOrAnything},
          index_target("variables/variables.index"),
          {"variables/variables.data-00000-of-00001", Expect::kError, Expect::kError}});
}

TEST(WeightsCorruption, FcLayersFrozenGraph) {
  damage("tensorflow-onnx/fc-layers", "frozen.pb",
         {{"frozen.pb", Expect::kErrorOrSubset, Expect::kErrorOrAnything}});
}

TEST(WeightsCorruption, SnappyAndUncompressedBundles) {
  for (const char* d : {"saved_model_half_plus_two_cpu", "saved_model_half_plus_two_gpu",
                        "saved_model_half_plus_two_mkl"}) {
    SCOPED_TRACE(d);
    damage(std::string("tensorflow-serving/") + d, "",
           {index_target("variables/variables.index"),
            {"variables/variables.data-00000-of-00001", Expect::kError, Expect::kError}});
  }
}

TEST(WeightsCorruption, Tf2BundleWithObjectGraph) {
  // The data file also holds the object graph (a string entry that is not read), so a damaged
  // byte there changes nothing; the float entries are CRC-checked.
  damage("tensorflow-serving/saved_model_half_plus_two_tf2_cpu/variables", "variables",
         {index_target("variables.index"),
          {"variables.data-00000-of-00001", Expect::kErrorOrSame, Expect::kErrorOrSame}});
  damage("msi-net-hf/variables", "variables", {index_target("variables.index")});
}

TEST(WeightsCorruption, TfjsManifestsAndShards) {
  for (const char* stem : {"tiny_face_detector_model", "mtcnn_model"}) {
    SCOPED_TRACE(stem);
    const std::string json = std::string(stem) + "-weights_manifest.json";
    damage("face-api.js", json,
           {{json, Expect::kErrorOrSame, Expect::kErrorOrAnything},
            {std::string(stem) + "-shard1", Expect::kError, Expect::kOneElement}});
  }
}

TEST(WeightsCorruption, MissingCompanionFilesAreNamed) {
  msinet::testing::TempDir tmp("weights-missing");
  msinet::testing::copy_tree(tf_fixture("tensorflow-onnx/regression/checkpoint"),
                             tmp.path() / "ckpt");
  fs::remove(tmp.path() / "ckpt" / "model.data-00000-of-00001");
  const std::string m =
      msinet::testing::expect_error([&] { w::read_weights(tmp.path() / "ckpt" / "model"); });
  EXPECT_NE(m.find("model.data-00000-of-00001"), std::string::npos) << m;
  EXPECT_NE(m.find("missing"), std::string::npos) << m;

  msinet::testing::copy_tree(tf_fixture("face-api.js/mtcnn_model-weights_manifest.json"),
                             tmp.path() / "tfjs" / "m.json");
  const std::string t =
      msinet::testing::expect_error([&] { w::read_weights(tmp.path() / "tfjs" / "m.json"); });
  EXPECT_NE(t.find("mtcnn_model-shard1"), std::string::npos) << t;

  const std::string n =
      msinet::testing::expect_error([&] { w::read_weights(tmp.path() / "nothing"); });
  EXPECT_NE(n.find("not found"), std::string::npos) << n;
}

// Reads `file` under an address-space limit of 1 GiB above what the process maps, then exits:
// 0 for an Error naming tensor 'w' and its shape's 2^30 values, 3 for std::bad_alloc.
[[noreturn]] void read_onnx_in_1gib_more(const fs::path& file) {
  msinet::testing::limit_address_space_to_current_plus(rlim_t{1} << 30);
  try {
    w::read_onnx(file);
  } catch (const msinet::Error& e) {
    const std::string m = e.what();
    const bool named = m.find("'w'") != std::string::npos &&
                       m.find("its shape needs 1073741824") != std::string::npos;
    std::_Exit(named ? 0 : 2);
  } catch (const std::bad_alloc&) {
    std::_Exit(3);
  }
  std::_Exit(4);
}

// An ONNX initializer whose shape claims 2^30 float32 values but holds one is refused before
// anything is set aside for the shape (the reader used to reserve 4 GB first).
TEST(WeightsCorruption, OnnxShapeBeyondItsDataAllocatesNothing) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer maps terabytes of shadow memory; an address-space limit "
                  "cannot be tested under it";
#endif
  namespace wire = w::wire;
  // ref: onnx/onnx.proto (ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto dims = 1,
  // data_type = 2 (FLOAT = 1), name = 8, raw_data = 9)
  std::string tensor;
  wire::put_varint_field(tensor, 1, 32768);
  wire::put_varint_field(tensor, 1, 32768);
  wire::put_varint_field(tensor, 2, 1);
  wire::put_bytes_field(tensor, 8, "w");
  wire::put_bytes_field(tensor, 9, std::string(4, '\0'));
  std::string graph, model;
  wire::put_bytes_field(graph, 5, tensor);
  wire::put_bytes_field(model, 7, graph);
  msinet::testing::TempDir tmp("onnx-shape");
  const fs::path file = tmp.path() / "model.onnx";
  spit(file, model);
  EXPECT_EXIT(read_onnx_in_1gib_more(file), ::testing::ExitedWithCode(0), "");
}

}  // namespace
