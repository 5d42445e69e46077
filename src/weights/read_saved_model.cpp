// SavedModel folder: the Const nodes of saved_model.pb plus its variables/ bundle.
#include <string>
#include <string_view>
#include <system_error>

#include "msinet/weights/proto_wire.h"
#include "msinet/weights/readers.h"
#include "msinet/weights/tf_proto.h"
#include "reader_util.h"

namespace msinet::weights {

WeightFile read_saved_model(const fs::path& dir) {
  WeightFile out;
  out.format = WeightFormat::kSavedModel;
  out.source = dir;
  const fs::path pb = dir / "saved_model.pb";
  const std::string bytes = detail::read_bytes(pb, "SavedModel file");
  std::string_view graph;
  try {
    graph = saved_model_graph(bytes);
  } catch (const wire::WireError& e) {
    detail::corrupt(pb, "", std::string("malformed SavedModel (") + e.what() + ")");
  }
  detail::read_graph_consts(graph, pb, out);
  const fs::path variables = dir / "variables" / "variables";
  std::error_code ec;
  if (fs::is_regular_file(variables.string() + ".index", ec)) detail::read_bundle(variables, out);
  return out;
}

}  // namespace msinet::weights
