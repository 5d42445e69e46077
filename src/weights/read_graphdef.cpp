// Frozen GraphDef (.pb): the tensors of its Const nodes.
#include <cstring>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include "msinet/weights/proto_wire.h"
#include "msinet/weights/readers.h"
#include "msinet/weights/tf_proto.h"
#include "reader_util.h"

namespace msinet::weights {
namespace detail {
namespace {

bool bitwise_equal(const DecodedTensor& a, const DecodedTensor& b) {
  return a.dtype == b.dtype && a.shape == b.shape && a.numeric == b.numeric &&
         a.values.size() == b.values.size() &&
         (a.values.empty() ||
          std::memcmp(a.values.data(), b.values.data(), a.values.size() * sizeof(float)) == 0);
}

}  // namespace

// A name held with different values by several functions is qualified as "<function>/<name>"
// so that no value is silently dropped.
void read_graph_consts(std::string_view graph, const fs::path& file, WeightFile& out) {
  std::vector<ConstNode> nodes;
  try {
    nodes = find_graph_consts(graph);
  } catch (const wire::WireError& e) {
    corrupt(file, "", std::string("malformed GraphDef (") + e.what() + ")");
  }
  std::vector<DecodedTensor> decoded(nodes.size());
  std::map<std::string, std::vector<size_t>> by_name;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::string label =
        nodes[i].function.empty() ? nodes[i].name : nodes[i].function + "/" + nodes[i].name;
    try {
      decoded[i] = parse_tensor_proto(nodes[i].tensor);
    } catch (const wire::WireError& e) {
      corrupt(file, label, std::string("malformed TensorProto (") + e.what() + ")");
    } catch (const std::invalid_argument& e) {
      corrupt(file, label, e.what());
    }
    by_name[nodes[i].name].push_back(i);
  }
  for (auto& [name, idx] : by_name) {
    bool same = true;
    for (size_t k = 1; k < idx.size(); ++k)
      same = same && bitwise_equal(decoded[idx[0]], decoded[idx[k]]);
    if (same) {
      add_tensor(out, file, name, std::move(decoded[idx[0]]));
      continue;
    }
    for (size_t i : idx) {
      const std::string qualified =
          nodes[i].function.empty() ? name : nodes[i].function + "/" + name;
      add_tensor(out, file, qualified, std::move(decoded[i]));
    }
  }
}

}  // namespace detail

WeightFile read_frozen_graph(const fs::path& pb_path) {
  WeightFile out;
  out.format = WeightFormat::kFrozenGraph;
  out.source = pb_path;
  const std::string bytes = detail::read_bytes(pb_path, "GraphDef file");
  if (looks_like_saved_model(bytes)) {
    std::string_view graph;
    try {
      graph = saved_model_graph(bytes);
    } catch (const wire::WireError& e) {
      detail::corrupt(pb_path, "", std::string("malformed SavedModel (") + e.what() + ")");
    }
    out.format = WeightFormat::kSavedModel;
    detail::read_graph_consts(graph, pb_path, out);
    return out;
  }
  detail::read_graph_consts(bytes, pb_path, out);
  return out;
}

}  // namespace msinet::weights
