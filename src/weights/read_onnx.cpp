// ONNX model (.onnx): the tensors of its graph initializers, by the libonnx protobuf classes.
#include <cstring>

#include <onnx/onnx_pb.h>

#include "msinet/weights/readers.h"
#include "msinet/weights/tf_dtype.h"
#include "reader_util.h"

namespace msinet::weights {
namespace {

// Protocol buffers cannot hold a message over 2 GiB; MSI-Net in fp32 is about 100 MB.
constexpr size_t kMaxOnnxBytes = size_t{2} << 30;

// ref: onnx/onnx.proto TensorProto (raw_data little-endian, or the typed *_data fields)
std::vector<float> tensor_values(const onnx::TensorProto& t, const fs::path& file, int64_t count) {
  const std::string& raw = t.raw_data();
  std::vector<float> values;
  const bool has_raw = t.has_raw_data();
  auto need = [&](size_t bytes_each, size_t typed) {
    const size_t have = has_raw ? raw.size() / bytes_each : typed;
    if ((has_raw && raw.size() % bytes_each != 0) || have != static_cast<size_t>(count)) {
      detail::corrupt(
          file, t.name(),
          "holds " + std::to_string(have) + " values, its shape needs " + std::to_string(count));
    }
    values.reserve(static_cast<size_t>(count));  // only once the data is known to be there
  };
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      need(4, static_cast<size_t>(t.float_data_size()));
      for (int64_t i = 0; i < count; ++i) {
        float v = 0;
        if (has_raw) {
          std::memcpy(&v, raw.data() + 4 * i, 4);
        } else {
          v = t.float_data(static_cast<int>(i));
        }
        values.push_back(v);
      }
      break;
    case onnx::TensorProto::FLOAT16:
      // Without raw_data, float16 values sit in int32_data, one per element.
      need(2, static_cast<size_t>(t.int32_data_size()));
      for (int64_t i = 0; i < count; ++i) {
        const uint16_t bits =
            has_raw ? static_cast<uint16_t>(static_cast<uint8_t>(raw[2 * i]) |
                                            (static_cast<uint8_t>(raw[2 * i + 1]) << 8))
                    : static_cast<uint16_t>(t.int32_data(static_cast<int>(i)));
        values.push_back(half_to_float(bits));
      }
      break;
    case onnx::TensorProto::INT64:
      need(8, static_cast<size_t>(t.int64_data_size()));
      for (int64_t i = 0; i < count; ++i) {
        int64_t v = 0;
        if (has_raw) {
          std::memcpy(&v, raw.data() + 8 * i, 8);
        } else {
          v = t.int64_data(static_cast<int>(i));
        }
        values.push_back(static_cast<float>(v));
      }
      break;
    default:
      break;
  }
  return values;
}

std::string onnx_type_name(int type) {
  switch (type) {
    case onnx::TensorProto::FLOAT:
      return "float32";
    case onnx::TensorProto::FLOAT16:
      return "float16";
    case onnx::TensorProto::INT64:
      return "int64";
    default:
      return "ONNX type " + std::to_string(type);
  }
}

}  // namespace

WeightFile read_onnx(const fs::path& path) {
  const std::string bytes = detail::read_bytes(path, "ONNX model", kMaxOnnxBytes);
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) {
    detail::corrupt(path, "", "not a valid ONNX model (the protocol buffer does not parse)");
  }
  WeightFile out;
  out.format = WeightFormat::kOnnx;
  out.source = path;
  for (const onnx::TensorProto& t : model.graph().initializer()) {
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      detail::corrupt(path, t.name(),
                      "its data lives in an external file, which is not supported; save the "
                      "model with its weights inside");
    }
    const int type = t.data_type();
    if (type != onnx::TensorProto::FLOAT && type != onnx::TensorProto::FLOAT16 &&
        type != onnx::TensorProto::INT64) {
      out.skipped.push_back(t.name() + " (" + onnx_type_name(type) + ")");
      continue;
    }
    std::vector<int64_t> shape(t.dims().begin(), t.dims().end());
    int64_t count = 0;
    try {
      count = checked_num_elements(shape);
    } catch (const std::invalid_argument& e) {
      detail::corrupt(path, t.name(), e.what());
    }
    if (out.tensors.count(t.name()) != 0) detail::corrupt(path, t.name(), "is held twice");
    out.tensors[t.name()] = {shape, tensor_values(t, path, count)};
    out.dtypes[t.name()] = onnx_type_name(type);
  }
  return out;
}

}  // namespace msinet::weights
