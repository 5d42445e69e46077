#pragma once
// Helpers shared by the weight readers (read_*.cpp, detect.cpp); not a public interface.

#include <cstddef>
#include <filesystem>
#include <limits>
#include <regex>
#include <string>
#include <string_view>

#include "msinet/weights/readers.h"
#include "msinet/weights/tf_proto.h"

namespace msinet::weights::detail {

/// Throws Error(kWeights): `file` is corrupt (at `tensor` when not empty) because of `what`.
[[noreturn]] void corrupt(const fs::path& file, const std::string& tensor, const std::string& what);

/// The whole of `path` (`what` names it in errors); larger than `max_bytes` is Error(kWeights).
std::string read_bytes(const fs::path& path, const char* what,
                       size_t max_bytes = std::numeric_limits<size_t>::max());

/// Adds `t` to `out` as `name`, or lists it in `out.skipped` when it is not numeric; a name
/// already present is corrupt(file, name).
void add_tensor(WeightFile& out, const fs::path& file, const std::string& name, DecodedTensor&& t);

/// The Const nodes of a serialized GraphDef into `out` (see read_frozen_graph).
void read_graph_consts(std::string_view graph, const fs::path& file, WeightFile& out);

/// The tensors of the checkpoint bundle `<prefix>.index` + data shards into `out`; a tensor
/// already in `out` is replaced.
void read_bundle(const fs::path& prefix, WeightFile& out);

/// Matches "<prefix>.data-NNNNN-of-NNNNN"; group 1 is the prefix.
const std::regex& data_file_pattern();

}  // namespace msinet::weights::detail
