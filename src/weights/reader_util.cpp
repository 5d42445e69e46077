#include "reader_util.h"

#include <fstream>
#include <system_error>
#include <utility>

#include "msinet/util/error.h"
#include "msinet/weights/tf_dtype.h"

namespace msinet::weights::detail {

namespace {

constexpr const char* kReplaceHint = ". Replace it with a complete copy of the file.";

}  // namespace

void corrupt(const fs::path& file, const std::string& tensor, const std::string& what) {
  std::string msg = "weight file '" + file.string() + "' is corrupt";
  if (!tensor.empty()) msg += " at tensor '" + tensor + "'";
  throw Error(ErrorCode::kWeights, msg + ": " + what + kReplaceHint);
}

std::string read_bytes(const fs::path& path, const char* what, size_t max_bytes) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw Error(ErrorCode::kWeights,
                std::string(what) + " '" + path.string() + "' not found (or not a regular file)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(ErrorCode::kWeights,
                std::string("cannot open ") + what + " '" + path.string() + "'");
  std::string out;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0)
    throw Error(ErrorCode::kWeights,
                std::string("cannot read ") + what + " '" + path.string() + "'");
  if (static_cast<uint64_t>(size) > max_bytes) {
    throw Error(ErrorCode::kWeights, std::string(what) + " '" + path.string() + "' is " +
                                         std::to_string(size) + " bytes, more than the " +
                                         std::to_string(max_bytes) +
                                         " it may hold; check that it is the right file");
  }
  out.resize(static_cast<size_t>(size));
  in.seekg(0);
  if (size > 0 && !in.read(out.data(), size)) {
    throw Error(ErrorCode::kWeights,
                std::string("cannot read ") + what + " '" + path.string() + "'");
  }
  return out;
}

void add_tensor(WeightFile& out, const fs::path& file, const std::string& name, DecodedTensor&& t) {
  if (!t.numeric) {
    out.skipped.push_back(name + " (" + dtype_name(t.dtype) + ")");
    return;
  }
  if (out.tensors.count(name)) corrupt(file, name, "the name occurs twice");
  out.dtypes[name] = dtype_name(t.dtype);
  out.tensors[name] = FloatTensor{std::move(t.shape), std::move(t.values)};
}

}  // namespace msinet::weights::detail
