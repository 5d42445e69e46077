#include "msinet/checkpoint/state.h"

#include <map>
#include <set>
#include <vector>

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/torch.h>

#include "msinet/util/error.h"

namespace msinet::checkpoint {
namespace {

std::string shape_string(const torch::Tensor& t) {
  std::string out = "[";
  for (int64_t i = 0; i < t.dim(); ++i) out += (i ? ", " : "") + std::to_string(t.size(i));
  return out + "]";
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string reason(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) {
    return first_line(c10_error->what_without_backtrace());
  }
  return first_line(e.what());
}

// Parameters and buffers of `net` by their full names.
std::map<std::string, torch::Tensor> state_of(const model::MSINet& net) {
  std::map<std::string, torch::Tensor> state;
  for (const auto& item : net->named_parameters(/*recurse=*/true)) state[item.key()] = item.value();
  for (const auto& item : net->named_buffers(/*recurse=*/true)) state[item.key()] = item.value();
  return state;
}

}  // namespace

std::string serialize_state(const model::MSINet& net) {
  torch::serialize::OutputArchive archive;
  for (const auto& item : net->named_parameters(/*recurse=*/true)) {
    archive.write(item.key(), item.value().detach().cpu());
  }
  for (const auto& item : net->named_buffers(/*recurse=*/true)) {
    archive.write(item.key(), item.value().detach().cpu(), /*is_buffer=*/true);
  }
  std::string bytes;
  archive.save_to([&bytes](const void* data, size_t size) -> size_t {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  return bytes;
}

void deserialize_state(model::MSINet& net, const std::string& bytes, const std::string& origin) {
  const std::string context = "cannot load checkpoint '" + origin + "'";
  const std::map<std::string, torch::Tensor> state = state_of(net);
  std::map<std::string, torch::Tensor> loaded;
  std::vector<std::string> problems;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes.data(), bytes.size(), torch::Device(torch::kCPU));
    for (const std::string& key : archive.keys()) {
      if (state.count(key) == 0) problems.push_back("unknown entry '" + key + "'");
    }
    for (const auto& [name, target] : state) {
      torch::Tensor value;
      if (!archive.try_read(name, value) || !value.defined()) {
        problems.push_back("missing entry '" + name + "', expected shape " + shape_string(target));
      } else if (value.sizes() != target.sizes()) {
        problems.push_back("wrong shape for '" + name + "': " + shape_string(value) +
                           " in the checkpoint, expected " + shape_string(target));
      } else if (!value.is_floating_point()) {
        problems.push_back("entry '" + name + "' is not floating point");
      } else if (const int64_t bad = (~torch::isfinite(value)).sum().item<int64_t>(); bad > 0) {
        problems.push_back("entry '" + name + "' holds " + std::to_string(bad) +
                           " non-finite value(s) (NaN or infinity)");
      } else {
        loaded[name] = value;
      }
    }
  } catch (const std::exception& e) {
    throw Error(ErrorCode::kWeights, context +
                                         ": not a readable msinet checkpoint (truncated or "
                                         "corrupt?): " +
                                         reason(e));
  }
  if (!problems.empty()) {
    std::string message = context + ": " + std::to_string(problems.size()) +
                          (problems.size() == 1 ? " problem" : " problems") +
                          " (was it written by this version of msinet?):";
    for (const std::string& p : problems) message += "\n  " + p;
    throw Error(ErrorCode::kWeights, message);
  }
  torch::NoGradGuard no_grad;
  for (const auto& [name, target] : state) target.copy_(loaded.at(name));
}

}  // namespace msinet::checkpoint
