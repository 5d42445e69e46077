#include "msinet/checkpoint/tf_names.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include <torch/torch.h>

#include "msinet/model/layers.h"
#include "msinet/util/error.h"

namespace msinet::checkpoint {
namespace {

constexpr const char* kPrefixAnchor = "conv1/conv1_1/kernel";

// One tensor to import: its name in the file, its parameter, whether it is an HWIO kernel.
struct Slot {
  std::string file_name;
  std::string param_name;
  bool kernel;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// TensorFlow shape of a parameter: OIHW -> HWIO for kernels, unchanged for biases.
std::vector<int64_t> tf_shape(const torch::Tensor& param, bool kernel) {
  const auto s = param.sizes();
  if (kernel) return {s[2], s[3], s[1], s[0]};
  return s.vec();
}

int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

bool is_tf_weight_name(const std::string& name) {
  return ends_with(name, "/kernel") || ends_with(name, "/bias");
}

std::string find_prefix(const weights::NamedTensors& tensors) {
  const std::string anchor = kPrefixAnchor;
  std::string best;
  bool found = false;
  for (const auto& [name, tensor] : tensors) {
    if (!ends_with(name, anchor)) continue;
    const std::string prefix = name.substr(0, name.size() - anchor.size());
    if (!prefix.empty() && prefix.back() != '/') continue;
    if (!found || prefix.size() < best.size()) best = prefix;
    found = true;
  }
  return best;
}

size_t non_finite_count(const std::vector<float>& values) {
  return static_cast<size_t>(
      std::count_if(values.begin(), values.end(), [](float v) { return !std::isfinite(v); }));
}

// Checks everything first, then copies: a failed import leaves `net` untouched.
void import_strict(model::MSINet& net, const weights::NamedTensors& tensors,
                   const std::string& origin, const std::string& what,
                   const std::vector<Slot>& slots,
                   const std::function<bool(const std::string&)>& is_candidate,
                   const std::string& prefix) {
  const auto params = net->named_parameters(/*recurse=*/true);
  std::map<std::string, const Slot*> by_name;
  for (const Slot& slot : slots) by_name[prefix + slot.file_name] = &slot;

  std::vector<std::string> problems;
  std::set<std::string> seen;
  for (const auto& [name, tensor] : tensors) {
    if (!is_candidate(name)) continue;
    const auto it = by_name.find(name);
    if (it == by_name.end()) {
      problems.push_back("unknown tensor '" + name + "' " + shape_string(tensor.shape));
      continue;
    }
    seen.insert(name);
    const Slot& slot = *it->second;
    const std::vector<int64_t> expected = tf_shape(params[slot.param_name], slot.kernel);
    if (tensor.shape != expected) {
      problems.push_back("wrong shape for '" + name + "': " + shape_string(tensor.shape) +
                         " in the file, expected " + shape_string(expected));
    } else if (static_cast<int64_t>(tensor.values.size()) != element_count(expected)) {
      problems.push_back("tensor '" + name + "' holds " + std::to_string(tensor.values.size()) +
                         " values, its shape " + shape_string(expected) + " needs " +
                         std::to_string(element_count(expected)));
    } else if (const size_t bad = non_finite_count(tensor.values); bad > 0) {
      problems.push_back("tensor '" + name + "' holds " + std::to_string(bad) +
                         " non-finite value(s) (NaN or infinity)");
    }
  }
  for (const Slot& slot : slots) {
    const std::string name = prefix + slot.file_name;
    if (seen.count(name) == 0) {
      problems.push_back("missing tensor '" + name + "', expected shape " +
                         shape_string(tf_shape(params[slot.param_name], slot.kernel)));
    }
  }
  if (!problems.empty()) {
    std::string message = "cannot load " + what + " from '" + origin +
                          "': " + std::to_string(problems.size()) +
                          (problems.size() == 1 ? " problem" : " problems") +
                          " (the file must hold exactly the expected tensors):";
    for (const std::string& p : problems) message += "\n  " + p;
    throw Error(ErrorCode::kWeights, message);
  }

  torch::NoGradGuard no_grad;
  for (const Slot& slot : slots) {
    const weights::FloatTensor& tensor = tensors.at(prefix + slot.file_name);
    torch::Tensor source =
        torch::from_blob(const_cast<float*>(tensor.values.data()), tensor.shape, torch::kFloat32);
    if (slot.kernel) source = source.permute({3, 2, 0, 1});
    params[slot.param_name].copy_(source);
  }
}

std::vector<Slot> tf_slots() {
  std::vector<Slot> slots;
  for (const auto& [tf_name, param_name] : tf_name_table()) {
    slots.push_back({tf_name, param_name, ends_with(tf_name, "/kernel")});
  }
  return slots;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> tf_name_table() {
  std::vector<std::pair<std::string, std::string>> table;
  for (const model::Layer& layer : model::kLayers) {
    const std::string scope = model::tf_scope(layer), module = model::module_path(layer);
    table.emplace_back(scope + "/kernel", module + ".weight");
    table.emplace_back(scope + "/bias", module + ".bias");
  }
  return table;
}

void load_tf_weights(model::MSINet& net, const weights::NamedTensors& tensors,
                     const std::string& origin) {
  import_strict(net, tensors, origin, "MSI-Net weights", tf_slots(), is_tf_weight_name,
                find_prefix(tensors));
}

weights::NamedTensors export_tf_weights(const model::MSINet& net) {
  const auto params = net->named_parameters(/*recurse=*/true);
  weights::NamedTensors out;
  for (const Slot& slot : tf_slots()) {
    torch::Tensor p = params[slot.param_name].detach().to(torch::kCPU, torch::kFloat32);
    if (slot.kernel) p = p.permute({2, 3, 1, 0});
    p = p.contiguous();
    weights::FloatTensor& t = out[slot.file_name];
    t.shape = p.sizes().vec();
    t.values.assign(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
  }
  return out;
}

std::vector<Slot> parameter_slots() {
  std::vector<Slot> slots;
  for (const auto& [tf_name, param_name] : tf_name_table()) {
    slots.push_back({param_name, param_name, /*kernel=*/false});
  }
  return slots;
}

bool has_parameter_names(const weights::NamedTensors& tensors) {
  return tensors.count(model::module_path(model::kLayers.front()) + ".weight") != 0;
}

void load_parameter_weights(model::MSINet& net, const weights::NamedTensors& tensors,
                            const std::string& origin) {
  import_strict(
      net, tensors, origin, "MSI-Net weights", parameter_slots(),
      [](const std::string& name) {
        return ends_with(name, ".weight") || ends_with(name, ".bias");
      },
      /*prefix=*/"");
}

weights::NamedTensors export_parameter_weights(const model::MSINet& net) {
  const auto params = net->named_parameters(/*recurse=*/true);
  weights::NamedTensors out;
  for (const Slot& slot : parameter_slots()) {
    const torch::Tensor p =
        params[slot.param_name].detach().to(torch::kCPU, torch::kFloat32).contiguous();
    weights::FloatTensor& t = out[slot.file_name];
    t.shape = p.sizes().vec();
    t.values.assign(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
  }
  return out;
}

// ref: saliency/model.py _pretraining (vgg16_hybrid checkpoint names)
void load_vgg16_weights(model::MSINet& net, const weights::NamedTensors& tensors,
                        const std::string& origin) {
  std::vector<Slot> slots;
  for (const model::Layer& layer : model::kLayers) {
    if (layer.part != model::Part::kEncoder) continue;
    const std::string name = layer.name, module = model::module_path(layer);
    slots.push_back({name + "/weights", module + ".weight", true});
    slots.push_back({name + "/biases", module + ".bias", false});
  }
  import_strict(
      net, tensors, origin, "VGG16 weights", slots,
      [](const std::string& name) { return starts_with(name, "conv"); }, /*prefix=*/"");
}

}  // namespace msinet::checkpoint
