#include "tfjs_model.h"

#include <nlohmann/json.hpp>

namespace msinet::exporter {
namespace {

using Json = nlohmann::ordered_json;

std::string base64(const std::string& bytes) {
  static const char* kDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 2]);
    out += kDigits[(v >> 18) & 63];
    out += kDigits[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kDigits[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kDigits[v & 63] : '=';
  }
  return out;
}

std::string type_name(TfType t) { return t == TfType::kFloat ? "DT_FLOAT" : "DT_INT32"; }

// ref: tensorflow/core/framework/tensor_shape.proto in the proto3 JSON mapping (int64 as text)
Json shape_json(const std::vector<int64_t>& dims) {
  Json shape = Json::object();
  if (dims.empty()) return shape;
  Json list = Json::array();
  for (int64_t d : dims) list.push_back({{"size", std::to_string(d)}});
  shape["dim"] = std::move(list);
  return shape;
}

// An AttrValue in the proto3 JSON mapping, as the TF.js converter writes it (bytes in base64).
Json attr_json(const TfAttr& a, const TfConstant* constant) {
  switch (a.kind) {
    case TfAttr::Kind::kType:
      return {{"type", type_name(static_cast<TfType>(a.i))}};
    case TfAttr::Kind::kInt:
      return {{"i", std::to_string(a.i)}};
    case TfAttr::Kind::kFloat:
      return {{"f", a.f}};
    case TfAttr::Kind::kBool:
      return {{"b", a.b}};
    case TfAttr::Kind::kString:
      return {{"s", base64(a.s)}};
    case TfAttr::Kind::kInts: {
      Json list = Json::array();
      for (int64_t v : a.ints) list.push_back(std::to_string(v));
      return {{"list", {{"i", std::move(list)}}}};
    }
    case TfAttr::Kind::kShape:
      return {{"shape", shape_json(a.ints)}};
    case TfAttr::Kind::kTensor:
      return {
          {"tensor",
           {{"dtype", type_name(constant->type)}, {"tensorShape", shape_json(constant->shape)}}}};
  }
  return Json::object();
}

Json topology_json(const TfGraph& graph) {
  Json nodes = Json::array();
  for (const TfNode& n : graph.nodes) {
    const auto constant = graph.constants.find(n.name);
    Json node;
    node["name"] = n.name;
    node["op"] = n.op;
    if (!n.inputs.empty()) node["input"] = n.inputs;
    Json attrs = Json::object();
    for (const auto& [key, value] : n.attrs) {
      attrs[key] =
          attr_json(value, constant == graph.constants.end() ? nullptr : &constant->second);
    }
    node["attr"] = std::move(attrs);
    nodes.push_back(std::move(node));
  }
  return {{"node", std::move(nodes)},
          {"library", Json::object()},
          {"versions", {{"producer", graph.producer}}}};
}

// The Placeholder's shape, as a TensorInfo of the signature.
Json tensor_info(const std::string& name, const std::vector<int64_t>& dims) {
  return {{"name", name + ":0"}, {"dtype", "DT_FLOAT"}, {"tensorShape", shape_json(dims)}};
}

}  // namespace

void write_tfjs_model(const std::filesystem::path& dir, const TfGraph& graph,
                      weights::TfjsQuantization quantization,
                      const std::map<std::string, std::string>& metadata) {
  weights::NamedTensors floats;
  weights::TfjsWriteOptions options;
  options.quantization = quantization;
  for (const auto& [name, c] : graph.constants) {
    if (c.type == TfType::kFloat) {
      floats[name] = {c.shape, c.floats};
    } else {
      options.int32_tensors[name] = {c.shape, c.ints};
    }
  }
  std::vector<int64_t> input_dims;
  for (const TfNode& n : graph.nodes) {
    if (n.name != kTfInput) continue;
    for (const auto& [key, value] : n.attrs) {
      if (key == "shape") input_dims = value.ints;
    }
  }
  std::vector<int64_t> output_dims = input_dims;
  if (!output_dims.empty()) output_dims.back() = 1;
  Json members;
  members["convertedBy"] = "msinet";
  members["signature"] = {{"inputs", {{kTfInput, tensor_info(kTfInput, input_dims)}}},
                          {"outputs", {{kTfOutput, tensor_info(kTfOutput, output_dims)}}}};
  members["userDefinedMetadata"] = {{"msinet", metadata}};
  members["modelTopology"] = topology_json(graph);
  options.model_members = members.dump();
  weights::write_tfjs(dir / "model.json", floats, options);
}

}  // namespace msinet::exporter
