// Building blocks of the readers on hand-made input: CRC32C, varints, half floats, JSON,
// TensorProto fields, tables, and the writers read back (TF.js also decoded by NumPy).
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "msinet/weights/crc32c.h"
#include "msinet/weights/proto_wire.h"
#include "msinet/weights/readers.h"
#include "msinet/weights/table.h"
#include "msinet/weights/tf_dtype.h"
#include "msinet/weights/tf_proto.h"
#include "msinet/weights/writers.h"
#include "tools/http_server.h"
#include "tools/weights_test_util.h"

namespace {

namespace w = msinet::weights;
namespace fs = std::filesystem;
using msinet::testing::bits_of;
using msinet::testing::expect_error;
using msinet::testing::from_bits;
using msinet::testing::slurp;
using msinet::testing::spit;

std::string hex(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

std::string le32(float f) {
  const uint32_t u = bits_of(f);
  return hex({int(u & 0xFF), int((u >> 8) & 0xFF), int((u >> 16) & 0xFF), int(u >> 24)});
}

// --- CRC32C -------------------------------------------------------------------------------

TEST(WeightsCrc32c, KnownVectors) {
  // RFC 3720 appendix B.4 and the common "123456789" check value.
  EXPECT_EQ(w::crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(w::crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string inc;
  for (int i = 0; i < 32; ++i) inc.push_back(static_cast<char>(i));
  EXPECT_EQ(w::crc32c(inc), 0x46DD794Eu);
  std::string dec;
  for (int i = 31; i >= 0; --i) dec.push_back(static_cast<char>(i));
  EXPECT_EQ(w::crc32c(dec), 0x113FDB5Cu);
  EXPECT_EQ(w::crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(w::crc32c_extend(w::crc32c("12345"), "6789"), 0xE3069283u);
}

TEST(WeightsCrc32c, MaskRoundTripsAndDiffers) {
  for (uint32_t c : {0u, 1u, 0xE3069283u, 0xFFFFFFFFu}) {
    EXPECT_EQ(w::crc32c_unmask(w::crc32c_mask(c)), c);
    EXPECT_NE(w::crc32c_mask(c), c);
  }
  // rotate right by 15 then add 0xa282ead8: 1 -> 0x00020000 + 0xa282ead8.
  EXPECT_EQ(w::crc32c_mask(1u), 0xa284ead8u);
}

// --- wire format --------------------------------------------------------------------------

TEST(WeightsWire, Varints) {
  std::string_view v = "\x96\x01rest";  // 150, the protobuf encoding guide's example
  EXPECT_EQ(w::wire::read_varint(v), 150u);
  EXPECT_EQ(v, "rest");
  const std::string max = hex({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});
  std::string_view m = max;
  EXPECT_EQ(w::wire::read_varint(m), UINT64_MAX);
  const std::string too_long =
      hex({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});
  std::string_view t = too_long;
  EXPECT_THROW(w::wire::read_varint(t), w::wire::WireError);
  std::string_view cut = "\x80\x80";
  EXPECT_THROW(w::wire::read_varint(cut), w::wire::WireError);
  std::string out;
  w::wire::put_varint(out, 300);
  EXPECT_EQ(out, hex({0xAC, 0x02}));
}

TEST(WeightsWire, ReaderRefusesOverlongFieldsAndBadTags) {
  const std::string overlong = hex({0x0A, 0x05, 'a', 'b'});  // field 1: 5 bytes announced, 2 there
  const std::string field_zero = hex({0x02, 0x00});
  const std::string wire_type_6 = hex({0x0E});
  w::wire::Reader r(overlong);
  uint32_t field;
  w::wire::WireType type;
  ASSERT_TRUE(r.next(field, type));
  EXPECT_EQ(field, 1u);
  EXPECT_THROW(r.bytes(), w::wire::WireError);
  w::wire::Reader zero(field_zero);
  EXPECT_THROW(zero.next(field, type), w::wire::WireError);
  w::wire::Reader bad_type(wire_type_6);
  EXPECT_THROW(bad_type.next(field, type), w::wire::WireError);
}

// --- half floats ---------------------------------------------------------------------------

TEST(WeightsDtype, HalfFloatValues) {
  EXPECT_EQ(w::half_to_float(0x3C00), 1.0f);
  EXPECT_EQ(w::half_to_float(0xC000), -2.0f);
  EXPECT_EQ(w::half_to_float(0x7BFF), 65504.0f);
  EXPECT_EQ(w::half_to_float(0x0400), std::ldexp(1.0f, -14));
  EXPECT_EQ(w::half_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(w::half_to_float(0x3555), 0.333251953125f);
  EXPECT_TRUE(std::isinf(w::half_to_float(0x7C00)));
  EXPECT_TRUE(std::isnan(w::half_to_float(0x7E00)));
  EXPECT_EQ(bits_of(w::half_to_float(0x8000)), 0x80000000u);
  EXPECT_EQ(w::bfloat16_to_float(0x3F80), 1.0f);
  // Every finite half survives half -> float -> half.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7C00) == 0x7C00) continue;
    ASSERT_EQ(w::float_to_half(w::half_to_float(static_cast<uint16_t>(h))), h) << h;
  }
  // Ties round to even; overflow goes to infinity.
  EXPECT_EQ(w::float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3C00);
  EXPECT_EQ(w::float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);
  EXPECT_EQ(w::float_to_half(70000.0f), 0x7C00);
  EXPECT_EQ(w::float_to_half(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(w::float_to_half(std::ldexp(1.5f, -25)), 0x0001);
}

TEST(WeightsDtype, RawConversions) {
  const std::string i64 = hex({0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
  EXPECT_EQ(w::convert_to_float(static_cast<int>(w::TfDtype::kInt64), i64),
            std::vector<float>{-2.0f});
  EXPECT_EQ(w::convert_to_float(static_cast<int>(w::TfDtype::kUint8), hex({0, 255})),
            (std::vector<float>{0.0f, 255.0f}));
  EXPECT_EQ(w::convert_to_float(static_cast<int>(w::TfDtype::kInt8), hex({0x80})),
            std::vector<float>{-128.0f});
  EXPECT_EQ(w::convert_to_float(static_cast<int>(w::TfDtype::kHalf), hex({0x00, 0x3C})),
            std::vector<float>{1.0f});
  EXPECT_THROW(w::convert_to_float(static_cast<int>(w::TfDtype::kFloat), "abc"),
               std::invalid_argument);
  EXPECT_THROW(w::checked_num_elements({-1, 3}), std::invalid_argument);
  EXPECT_THROW(w::checked_num_elements({1 << 20, 1 << 20}), std::invalid_argument);
  EXPECT_EQ(w::checked_num_elements({}), 1);
  EXPECT_EQ(w::dtype_name(19), "float16");
  EXPECT_EQ(w::dtype_name(99), "dtype 99");
}

// --- TensorProto -------------------------------------------------------------------------

// TensorProto fields (tensor.proto): dtype 1, tensor_shape 2 (dim 2 {size 1}), tensor_content 4,
// float_val 5, double_val 6, int_val 7, int64_val 10, half_val 13.
const std::string kShape23 = hex({0x12, 0x08, 0x12, 0x02, 0x08, 0x02, 0x12, 0x02, 0x08, 0x03});

TEST(WeightsTensorProto, ScalarFloatValUnpacked) {
  const w::DecodedTensor t =
      w::parse_tensor_proto(hex({0x08, 0x01, 0x12, 0x00, 0x2D}) + le32(0.25f));
  EXPECT_TRUE(t.numeric);
  EXPECT_TRUE(t.shape.empty());
  EXPECT_EQ(t.values, std::vector<float>{0.25f});
}

TEST(WeightsTensorProto, SingleValueFillsTheShape) {
  const w::DecodedTensor t =
      w::parse_tensor_proto(hex({0x08, 0x01}) + kShape23 + hex({0x2A, 0x04}) + le32(-1.5f));
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(t.values, std::vector<float>(6, -1.5f));
}

TEST(WeightsTensorProto, FewerValuesRepeatTheLast) {
  const w::DecodedTensor t = w::parse_tensor_proto(hex({0x08, 0x01}) + kShape23 +
                                                   hex({0x2A, 0x08}) + le32(1.0f) + le32(2.0f));
  EXPECT_EQ(t.values, (std::vector<float>{1, 2, 2, 2, 2, 2}));
}

TEST(WeightsTensorProto, IntegerHalfDoubleFields) {
  // int32 [2]: int_val packed {-1 (ten-byte varint), 5}.
  const w::DecodedTensor i =
      w::parse_tensor_proto(hex({0x08, 0x03, 0x12, 0x04, 0x12, 0x02, 0x08, 0x02, 0x3A, 0x0B, 0xFF,
                                 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x05}));
  EXPECT_EQ(i.values, (std::vector<float>{-1.0f, 5.0f}));
  // int64 scalar 2^40 (varint 80 80 80 80 80 20).
  const w::DecodedTensor l =
      w::parse_tensor_proto(hex({0x08, 0x09, 0x50, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20}));
  EXPECT_EQ(l.values, std::vector<float>{1099511627776.0f});
  // half scalar 0x3C00 = 1.0 as half_val (varint 80 78).
  const w::DecodedTensor h = w::parse_tensor_proto(hex({0x08, 0x13, 0x68, 0x80, 0x78}));
  EXPECT_EQ(h.values, std::vector<float>{1.0f});
  // double scalar 0.1 (fixed64, field 6 -> tag 0x31).
  const w::DecodedTensor d = w::parse_tensor_proto(
      hex({0x08, 0x02, 0x31, 0x9A, 0x99, 0x99, 0x99, 0x99, 0x99, 0xB9, 0x3F}));
  EXPECT_EQ(d.values, std::vector<float>{0.1f});
  // uint8 [2] from tensor_content.
  const w::DecodedTensor u = w::parse_tensor_proto(
      hex({0x08, 0x04, 0x12, 0x04, 0x12, 0x02, 0x08, 0x02, 0x22, 0x02, 0x07, 0xFF}));
  EXPECT_EQ(u.values, (std::vector<float>{7.0f, 255.0f}));
  // No values at all: zeros, as TensorFlow fills them.
  const w::DecodedTensor z = w::parse_tensor_proto(hex({0x08, 0x01}) + kShape23);
  EXPECT_EQ(z.values, std::vector<float>(6, 0.0f));
}

TEST(WeightsTensorProto, StrictAboutDtypeAndSizes) {
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([] { w::parse_tensor_proto(hex({0x08, 0x63})); }), "unknown dtype 99");
  EXPECT_NE(message([] {
              w::parse_tensor_proto(hex({0x08, 0x01}) + kShape23 + hex({0x22, 0x04, 1, 2, 3, 4}));
            }).find("tensor_content has 4 bytes; shape [2, 3] of float32 needs 24"),
            std::string::npos);
  EXPECT_NE(message([] {
              w::parse_tensor_proto(hex({0x08, 0x01, 0x38, 0x05}));
            }).find("another type"),
            std::string::npos);
  EXPECT_NE(message([] {
              w::parse_tensor_proto(hex({0x08, 0x01, 0x2A, 0x08}) + le32(1) + le32(2));
            }).find("2 values for 1 elements"),
            std::string::npos);
  EXPECT_NE(message([] {
              w::parse_tensor_proto(hex({0x08, 0x01, 0x12, 0x0D, 0x12, 0x0B, 0x08, 0xFF, 0xFF, 0xFF,
                                         0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
            }).find("unknown dimension"),
            std::string::npos);
  const w::DecodedTensor s = w::parse_tensor_proto(hex({0x08, 0x07, 0x42, 0x01, 'x'}));
  EXPECT_FALSE(s.numeric);
}

// A GraphDef with Const nodes, built field by field (graph.proto, node_def.proto,
// attr_value.proto, function.proto).
std::string const_node(const std::string& name, const std::string& tensor) {
  std::string attr_value, entry, node;
  w::wire::put_bytes_field(attr_value, 8, tensor);
  w::wire::put_bytes_field(entry, 1, "value");
  w::wire::put_bytes_field(entry, 2, attr_value);
  w::wire::put_bytes_field(node, 1, name);
  w::wire::put_bytes_field(node, 2, "Const");
  w::wire::put_bytes_field(node, 5, entry);
  return node;
}

std::string function_def(const std::string& name, const std::vector<std::string>& nodes) {
  std::string sig, f;
  w::wire::put_bytes_field(sig, 1, name);
  w::wire::put_bytes_field(f, 1, sig);
  for (const std::string& n : nodes) w::wire::put_bytes_field(f, 3, n);
  return f;
}

std::string scalar(float v) { return hex({0x08, 0x01, 0x2D}) + le32(v); }

TEST(WeightsGraphDef, FunctionLibraryConstsAreFoundAndDisambiguated) {
  msinet::testing::ScratchFolder tmp("weights-graph");
  std::string lib, graph;
  w::wire::put_bytes_field(
      lib, 1,
      function_def("__inference_a", {const_node("w", scalar(1)), const_node("x", scalar(5))}));
  w::wire::put_bytes_field(
      lib, 1,
      function_def("__inference_b", {const_node("w", scalar(1)), const_node("x", scalar(6))}));
  w::wire::put_bytes_field(graph, 1, const_node("top", scalar(2)));
  w::wire::put_bytes_field(graph, 2, lib);
  spit(tmp.path() / "g.pb", graph);
  const w::WeightFile f = w::read_frozen_graph(tmp.path() / "g.pb");
  std::vector<std::string> names;
  for (const auto& kv : f.tensors) names.push_back(kv.first);
  // "w" agrees everywhere: one tensor. "x" differs: both kept, qualified by function.
  EXPECT_EQ(names, (std::vector<std::string>{"__inference_a/x", "__inference_b/x", "top", "w"}));
  EXPECT_EQ(f.tensors.at("__inference_b/x").values, std::vector<float>{6.0f});

  // The same GraphDef inside a SavedModel (saved_model.proto: meta_graphs 2 {graph_def 2}).
  std::string meta, saved;
  w::wire::put_varint_field(saved, 1, 1);
  w::wire::put_bytes_field(meta, 2, graph);
  w::wire::put_bytes_field(saved, 2, meta);
  spit(tmp.path() / "sm" / "saved_model.pb", saved);
  EXPECT_TRUE(msinet::testing::same_tensors(w::read_weights(tmp.path() / "sm"), f.tensors));
}

TEST(WeightsGraphDef, ErrorsNameTheFileAndTheNode) {
  msinet::testing::ScratchFolder tmp("weights-graph-bad");
  std::string graph;
  w::wire::put_bytes_field(graph, 1, const_node("conv1/conv1_1/kernel", hex({0x08, 0x63})));
  spit(tmp.path() / "bad.pb", graph);
  std::string m = expect_error([&] { w::read_weights(tmp.path() / "bad.pb"); });
  EXPECT_NE(m.find("bad.pb"), std::string::npos) << m;
  EXPECT_NE(m.find("conv1/conv1_1/kernel"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown dtype 99"), std::string::npos) << m;

  std::string big;
  w::wire::put_bytes_field(big, 1, const_node("decoder/conv4/kernel", scalar(1)));
  spit(tmp.path() / "cut.pb", big.substr(0, big.size() - 2));
  m = expect_error([&] { w::read_weights(tmp.path() / "cut.pb"); });
  EXPECT_NE(m.find("node 'decoder/conv4/kernel' is cut short"), std::string::npos) << m;
}

// --- TF.js manifests (JSON through nlohmann-json) ------------------------------------------

TEST(WeightsTfjs, MalformedManifestIsACleanErrorNamingTheFile) {
  msinet::testing::ScratchFolder tmp("weights-tfjs-json");
  const fs::path file = tmp.path() / "bad-weights_manifest.json";
  auto error_for = [&](const std::string& text) {
    spit(file, text);
    const std::string m = expect_error([&] { w::read_weights(file); });
    EXPECT_NE(m.find(file.string()), std::string::npos) << m;
    EXPECT_NE(m.find("not valid JSON"), std::string::npos) << m;
    return m;
  };
  for (const char* bad :
       {"", "[1,]", "{\"a\" 1}", "[01]", "[1.]", "\"abc", "[\"\\x\"]", "tru", "[1] [2]",
        "{\"a\":1,}", "\"\\ud800\"", "[1e999]", "\"a\tb\"", "[\"\xff\"]", "// comment\n[]"}) {
    SCOPED_TRACE(bad);
    error_for(bad);
  }
  const std::string m = error_for("[1,\n 2,,]");
  EXPECT_NE(m.find("line 2, column 4"), std::string::npos) << m;
  EXPECT_NE(m.find("at byte 8"), std::string::npos) << m;
  error_for(std::string(100000, '['));
  const std::string deep = error_for(std::string(300, '[') + std::string(300, ']'));
  EXPECT_NE(deep.find("nested deeper than 256 levels"), std::string::npos) << deep;

  // A manifest is bounded in size (a sparse file: nothing is written).
  spit(file, "[]");
  fs::resize_file(file, (size_t{64} << 20) + 1);
  const std::string big = expect_error([&] { w::read_weights(file); });
  EXPECT_NE(big.find(file.string()), std::string::npos) << big;
  EXPECT_NE(big.find("more than the 67108864"), std::string::npos) << big;
}

TEST(WeightsTfjs, ManifestEscapesNumbersAndOtherMembers) {
  msinet::testing::ScratchFolder tmp("weights-tfjs-escapes");
  spit(tmp.path() / "w.bin", hex({0, 8}));
  spit(tmp.path() / "model.json", R"( {"format": "graph-model",
    "modelTopology": {"a": [1, -2.5e3, 0.125, true, false, null], "o": {}},
    "weightsManifest": [{"paths": ["w.bin"], "weights": [
      {"name": "x\"\\\/\n\u00e9\ud83d\ude00", "shape": [1, 2e0], "dtype": "float32",
       "quantization": {"dtype": "uint8", "scale": 0.125, "min": -2.5e3}}]}]} )");
  const w::WeightFile f = w::read_weight_file(tmp.path());
  const std::string name = "x\"\\/\n\xC3\xA9\xF0\x9F\x98\x80";
  ASSERT_EQ(f.tensors.count(name), 1u);
  EXPECT_EQ(f.tensors.at(name).shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(f.tensors.at(name).values, (std::vector<float>{-2500.0f, -2499.0f}));
  EXPECT_EQ(f.dtypes.at(name), "uint8-quantized float32");
}

TEST(WeightsTfjs, WriterManifestRoundTripsNamesAndNumbers) {
  msinet::testing::ScratchFolder tmp("weights-tfjs-manifest");
  const std::string name = "a\"b\\\x01/\xC3\xA9";
  w::NamedTensors t;
  t[name] = w::FloatTensor{{3}, {0.1f, 0.7f, -0.3f}};
  w::TfjsWriteOptions o;
  o.quantization = w::TfjsQuantization::kUint16;
  w::write_tfjs(tmp.path() / "model.json", t, o);
  const nlohmann::json doc = nlohmann::json::parse(slurp(tmp.path() / "model.json"));
  const nlohmann::json& entry = doc.at("weightsManifest").at(0).at("weights").at(0);
  EXPECT_EQ(entry.at("name").get<std::string>(), name);
  const double lo = -0.3f, hi = 0.7f;
  EXPECT_EQ(entry.at("quantization").at("min").get<double>(), lo);
  EXPECT_EQ(entry.at("quantization").at("scale").get<double>(), (hi - lo) / 65535.0);
  EXPECT_EQ(w::read_tfjs(tmp.path() / "model.json").tensors.count(name), 1u);

  w::NamedTensors bad;
  bad["not-utf8-\xff"] = w::FloatTensor{{1}, {1.0f}};
  const std::string m = expect_error([&] { w::write_tfjs(tmp.path() / "bad.json", bad); });
  EXPECT_NE(m.find("not valid UTF-8"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(tmp.path() / "bad.json"));
}

// --- tables and checkpoints ----------------------------------------------------------------

TEST(WeightsTable, ManyBlocksRoundTripRawAndSnappy) {
  std::vector<w::TableEntry> entries;
  for (int i = 0; i < 1500; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "layer%05d/kernel", i);
    entries.push_back(
        {key, std::string(static_cast<size_t>(i % 37), static_cast<char>('a' + i % 26))});
  }
  for (bool snappy : {false, true}) {
    w::TableOptions o;
    o.block_size = 200;
    o.restart_interval = 5;
    o.snappy = snappy;
    const std::string file = w::build_table(entries, o);
    const std::vector<w::TableEntry> back = w::read_table(file, "t.index");
    ASSERT_EQ(back.size(), entries.size());
    for (size_t i = 0; i < back.size(); ++i) {
      ASSERT_EQ(back[i].key, entries[i].key);
      ASSERT_EQ(back[i].value, entries[i].value);
    }
    // The footer ends with the table magic (format.h: 0xdb4775248b80fb57, little-endian).
    EXPECT_EQ(file.substr(file.size() - 8), hex({0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb}));
  }
}

TEST(WeightsCheckpoint, WriterRoundTripsThroughManyIndexBlocks) {
  msinet::testing::ScratchFolder tmp("weights-ckpt");
  w::NamedTensors t;
  for (int i = 0; i < 120; ++i) {
    w::FloatTensor x{{3, i % 4 + 1}, {}};
    for (int k = 0; k < 3 * (i % 4 + 1); ++k)
      x.values.push_back(static_cast<float>(i * 100 + k) / 7.0f);
    t["conv" + std::to_string(i) + "/weights"] = x;
  }
  t["scalar"] = w::FloatTensor{{}, {42.0f}};
  t["empty"] = w::FloatTensor{{0, 3}, {}};
  w::TableOptions o;
  o.block_size = 128;
  o.snappy = true;
  w::write_checkpoint(tmp.path() / "model.ckpt", t, o);
  EXPECT_EQ(w::detect_weight_format(tmp.path() / "model.ckpt"), w::WeightFormat::kCheckpoint);
  EXPECT_TRUE(msinet::testing::same_tensors(w::read_weights(tmp.path() / "model.ckpt"), t));
  EXPECT_TRUE(msinet::testing::same_tensors(w::read_weights(tmp.path()), t));  // single .index
  // A second checkpoint in the folder makes the folder ambiguous.
  w::write_checkpoint(tmp.path() / "other.ckpt", t);
  const std::string m = expect_error([&] { w::read_weights(tmp.path()); });
  EXPECT_NE(m.find("2 checkpoint .index files"), std::string::npos) << m;
  // A 'checkpoint' state file resolves it.
  spit(tmp.path() / "checkpoint",
       "model_checkpoint_path: \"other.ckpt\"\nall_model_checkpoint_paths: \"other.ckpt\"\n");
  EXPECT_EQ(w::read_weight_file(tmp.path()).source, tmp.path() / "other.ckpt");
}

// --- TF.js ----------------------------------------------------------------------------------

w::NamedTensors small_tensors() {
  w::NamedTensors t;
  t["a/kernel"] = w::FloatTensor{{2, 3}, {-1.0f, 0.5f, 0.25f, 3.0f, -0.125f, 2.0f}};
  t["b/bias"] = w::FloatTensor{{1}, {7.5f}};
  t["c/const"] = w::FloatTensor{{3}, {4.0f, 4.0f, 4.0f}};
  return t;
}

TEST(WeightsTfjs, WriterOutputDecodesTheSameInNumpy) {
  msinet::testing::ScratchFolder tmp("weights-tfjs");
  const w::NamedTensors t = small_tensors();
  for (auto q : {w::TfjsQuantization::kNone, w::TfjsQuantization::kUint8,
                 w::TfjsQuantization::kUint16, w::TfjsQuantization::kFloat16}) {
    const fs::path dir = tmp.path() / std::to_string(static_cast<int>(q));
    w::TfjsWriteOptions o;
    o.quantization = q;
    o.shard_bytes = 7;  // several shards, cutting through tensors
    o.shard_extension = "";
    w::write_tfjs(dir / "model.json", t, o);
    EXPECT_TRUE(fs::exists(dir / "group1-shard1of1") || fs::exists(dir / "group1-shard1of2") ||
                fs::exists(dir / "group1-shard1of3") || fs::exists(dir / "group1-shard1of4") ||
                fs::exists(dir / "group1-shard1of5") || fs::exists(dir / "group1-shard1of6") ||
                fs::exists(dir / "group1-shard1of8"));
    const w::WeightFile f = w::read_tfjs(dir / "model.json");
    const auto r = msinet::testing::run_command(
        {"/usr/bin/python3", std::string(MSINET_SOURCE_DIR) + "/tests/tools/weights_reference.py",
         "tfjs", (dir / "model.json").string(), dir.string()});
    ASSERT_EQ(r.status, 0);
    std::istringstream lines(r.out);
    std::string line;
    size_t n = 0;
    while (std::getline(lines, line)) {
      std::istringstream ls(line);
      size_t k, count;
      std::string name;
      ls >> k >> name >> count;
      const std::string raw = slurp(dir / (std::to_string(k) + ".f32"));
      ASSERT_EQ(raw.size(), count * 4);
      EXPECT_EQ(std::memcmp(raw.data(), f.tensors.at(name).values.data(), raw.size()), 0) << name;
      ++n;
    }
    EXPECT_EQ(n, t.size());
    for (const auto& [name, x] : t) {
      const auto& y = f.tensors.at(name).values;
      float lo = x.values[0], hi = x.values[0];
      for (float v : x.values) lo = std::min(lo, v), hi = std::max(hi, v);
      const double step = q == w::TfjsQuantization::kUint8    ? (hi - lo) / 255.0
                          : q == w::TfjsQuantization::kUint16 ? (hi - lo) / 65535.0
                                                              : 0.0;
      for (size_t i = 0; i < y.size(); ++i) {
        if (q == w::TfjsQuantization::kNone || q == w::TfjsQuantization::kFloat16) {
          EXPECT_EQ(y[i], x.values[i]) << name;  // all values here are exact in half precision
        } else {
          EXPECT_LE(std::abs(double(y[i]) - x.values[i]), step / 2 + 1e-6) << name;
        }
      }
    }
  }
}

TEST(WeightsTfjs, ReaderDtypesAndStrictness) {
  msinet::testing::ScratchFolder tmp("weights-tfjs-read");
  // int32 [2] = {-3, 9}, bool [2] = {1, 0}, a string entry (2 strings), float16 [1] = 1.0,
  // and int32 quantized uint8 (q=3, scale 0.5, min -1 -> round(0.5) = 1? JS rounds half up: 1).
  std::string shard = hex({0xFD, 0xFF, 0xFF, 0xFF, 0x09, 0, 0, 0, 1,    0,    2, 0,
                           0,    0,    'h',  'i',  0,    0, 0, 0, 0x00, 0x3C, 3});
  spit(tmp.path() / "w.bin", shard);
  const std::string manifest = R"([{"paths": ["w.bin"], "weights": [
    {"name": "i", "shape": [2], "dtype": "int32"},
    {"name": "b", "shape": [2], "dtype": "bool"},
    {"name": "s", "shape": [2], "dtype": "string"},
    {"name": "h", "shape": [1], "dtype": "float32", "quantization": {"dtype": "float16"}},
    {"name": "q", "shape": [], "dtype": "int32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1}}]}])";
  spit(tmp.path() / "m-weights_manifest.json", manifest);
  const w::WeightFile f = w::read_tfjs(tmp.path() / "m-weights_manifest.json");
  EXPECT_EQ(f.tensors.at("i").values, (std::vector<float>{-3.0f, 9.0f}));
  EXPECT_EQ(f.tensors.at("b").values, (std::vector<float>{1.0f, 0.0f}));
  EXPECT_EQ(f.tensors.at("h").values, std::vector<float>{1.0f});
  EXPECT_EQ(f.tensors.at("q").values, std::vector<float>{1.0f});  // Math.round(0.5) = 1
  EXPECT_EQ(f.dtypes.at("q"), "uint8-quantized int32");
  EXPECT_EQ(f.skipped, std::vector<std::string>{"s (string)"});

  auto bad = [&](const std::string& text, const std::string& expected) {
    spit(tmp.path() / "bad.json", text);
    const std::string m = expect_error([&] { w::read_weights(tmp.path() / "bad.json"); });
    EXPECT_NE(m.find(expected), std::string::npos) << m;
    EXPECT_NE(m.find("bad.json"), std::string::npos) << m;
  };
  bad(R"([{"paths": ["w.bin"], "weights": [{"name": "x", "shape": [6], "dtype": "float32"}]}])",
      "needs bytes [0, 24) but the shards of weight group 0 (w.bin) hold 23 bytes");
  bad(R"([{"paths": ["w.bin"], "weights": [{"name": "x", "shape": [2], "dtype": "float32"}]}])",
      "(w.bin) hold 23 bytes but its manifest describes 8");
  bad(R"([{"paths": ["w.bin"], "weights": [{"name": "x", "shape": [2], "dtype": "complex128"}]}])",
      "tensor 'x': unknown dtype 'complex128'");
  bad(R"([{"paths": ["w.bin"], "weights": [{"name": "x", "shape": [2], "dtype": "float32",
      "quantization": {"dtype": "uint4", "scale": 1, "min": 0}}]}])",
      "unknown quantization dtype 'uint4'");
  bad(R"([{"paths": ["w.bin"], "weights": [{"name": "x", "shape": [1], "dtype": "float32",
      "quantization": {"dtype": "uint8", "min": 0}}]}])",
      "quantization lacks a numeric 'scale'");
  bad(R"([{"paths": ["../w.bin"], "weights": []}])", "leaves the json's folder");
  bad(R"([{"paths": ["/etc/passwd"], "weights": []}])", "is absolute");
  bad(R"([{"paths": ["https://example.com/w.bin"], "weights": []}])", "download the shards");
  bad(R"([{"paths": ["w.bin"], "weights": [{"name": "x", "shape": [-1], "dtype": "float32"}]}])",
      "not a non-negative integer");
  bad(R"({"modelTopology": {}})", "no 'weightsManifest'");
  bad(R"([{"paths": ["w.bin"], "weights": [)", "not valid JSON");
}

TEST(WeightsDetect, FormsAndErrors) {
  msinet::testing::ScratchFolder tmp("weights-detect");
  spit(tmp.path() / "x.txt", "hello");
  std::string m = expect_error([&] { w::detect_weight_format(tmp.path() / "x.txt"); });
  EXPECT_NE(m.find("cannot tell the weight format"), std::string::npos) << m;
  fs::create_directories(tmp.path() / "empty");
  m = expect_error([&] { w::detect_weight_format(tmp.path() / "empty"); });
  EXPECT_NE(m.find("holds no weights"), std::string::npos) << m;
  m = expect_error([&] { w::read_checkpoint(tmp.path() / "nope"); });
  EXPECT_NE(m.find("nope.index' not found"), std::string::npos) << m;
  EXPECT_EQ(w::format_name(w::WeightFormat::kTfjs), "tfjs");
}

}  // namespace
