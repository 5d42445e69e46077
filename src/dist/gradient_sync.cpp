// Bucketed gradient sums: each parameter's hook copies (accumulated + incoming) gradient into
// its slot of a flat bucket; a full bucket is all-reduced at once, buckets strictly in order so
// that every rank issues the same collectives in the same sequence.
// ref: torch/csrc/distributed/c10d/reducer.cpp (buckets in reverse order, launched in order)
#include "msinet/dist/gradient_sync.h"

#include <exception>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include <torch/autograd.h>

#include "msinet/util/error.h"

namespace msinet::dist {

struct GradientSync::State {
  struct Slot {
    torch::Tensor param;
    torch::Tensor view;  // the parameter's place in its bucket, shaped as the parameter
    size_t bucket = 0;
    unsigned hook = 0;
    bool filled = false;
  };
  struct Bucket {
    torch::Tensor flat;
    size_t slots = 0;
    size_t filled = 0;
    std::unique_ptr<Pending> pending;
  };

  explicit State(Group& g) : group(g) {}

  /// Starts every bucket that is full and whose predecessors have all started.
  void launch_ready() {
    while (next_launch < buckets.size() &&
           buckets[next_launch].filled == buckets[next_launch].slots) {
      Bucket& b = buckets[next_launch++];
      try {
        b.pending = group.all_reduce_sum_async(b.flat);
      } catch (...) {
        if (!error) error = std::current_exception();
      }
    }
  }

  void fill(Slot& slot, const torch::Tensor& incoming) {
    torch::NoGradGuard no_grad;
    const torch::Tensor& accumulated = slot.param.grad();
    if (accumulated.defined() && incoming.defined()) {
      slot.view.copy_(accumulated);
      slot.view.add_(incoming);
    } else if (accumulated.defined()) {
      slot.view.copy_(accumulated);
    } else if (incoming.defined()) {
      slot.view.copy_(incoming);
    } else {
      slot.view.zero_();
    }
    slot.filled = true;
    ++buckets[slot.bucket].filled;
  }

  /// The hook of parameter `i`: runs before autograd adds `incoming` to its grad.
  void on_gradient(size_t i, const torch::Tensor& incoming) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed) return;
    Slot& slot = slots[i];
    if (slot.filled) {
      twice = true;
      return;
    }
    fill(slot, incoming);
    launch_ready();
  }

  Group& group;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  std::mutex mutex;
  bool armed = false;
  bool twice = false;
  size_t next_launch = 0;
  std::exception_ptr error;
};

GradientSync::GradientSync(Group& group, std::vector<torch::Tensor> parameters, size_t bucket_bytes)
    : state_(std::make_unique<State>(group)) {
  auto& s = *state_;
  for (size_t i = 0; i < parameters.size(); ++i) {
    const auto& p = parameters[i];
    if (!p.defined() || !p.requires_grad() || !p.is_leaf() || p.layout() != torch::kStrided) {
      throw Error(ErrorCode::kInternal, "gradient sync: parameter " + std::to_string(i) +
                                            " is not a dense leaf tensor that requires grad");
    }
  }
  // Buckets fill in reverse parameter order, one open bucket per dtype and device.
  std::map<std::string, size_t> open;
  std::vector<int64_t> bucket_numel;
  std::vector<int64_t> offsets(parameters.size(), 0);
  std::vector<size_t> bucket_of(parameters.size(), 0);
  std::vector<torch::TensorOptions> bucket_options;
  for (size_t k = parameters.size(); k-- > 0;) {
    const auto& p = parameters[k];
    const std::string key = std::string(c10::toString(p.scalar_type())) + "@" + p.device().str();
    const size_t bytes = static_cast<size_t>(p.numel()) * p.element_size();
    auto it = open.find(key);
    if (it != open.end()) {
      const size_t used = static_cast<size_t>(bucket_numel[it->second]) * p.element_size();
      if (used > 0 && used + bytes > bucket_bytes) it = open.end();
    }
    if (it == open.end()) {
      bucket_numel.push_back(0);
      bucket_options.push_back(torch::TensorOptions().dtype(p.scalar_type()).device(p.device()));
      it = open.insert_or_assign(key, bucket_numel.size() - 1).first;
    }
    bucket_of[k] = it->second;
    offsets[k] = bucket_numel[it->second];
    bucket_numel[it->second] += p.numel();
  }
  s.buckets.resize(bucket_numel.size());
  for (size_t b = 0; b < bucket_numel.size(); ++b) {
    s.buckets[b].flat = torch::zeros({bucket_numel[b]}, bucket_options[b]);
  }
  s.slots.resize(parameters.size());
  for (size_t i = 0; i < parameters.size(); ++i) {
    auto& slot = s.slots[i];
    slot.param = parameters[i];
    slot.bucket = bucket_of[i];
    slot.view = s.buckets[slot.bucket]
                    .flat.narrow(0, offsets[i], parameters[i].numel())
                    .view(parameters[i].sizes());
    ++s.buckets[slot.bucket].slots;
  }
  State* state = state_.get();
  for (size_t i = 0; i < parameters.size(); ++i) {
    s.slots[i].hook =
        s.slots[i].param.register_hook([state, i](torch::Tensor g) { state->on_gradient(i, g); });
  }
}

GradientSync::~GradientSync() {
  for (auto& slot : state_->slots) slot.param.remove_hook(slot.hook);
}

void GradientSync::arm() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  auto& s = *state_;
  for (auto& slot : s.slots) slot.filled = false;
  for (auto& b : s.buckets) {
    b.filled = 0;
    b.pending.reset();
  }
  s.next_launch = 0;
  s.twice = false;
  s.error = nullptr;
  s.armed = true;
}

void GradientSync::finish() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  auto& s = *state_;
  if (!s.armed) return;
  s.armed = false;
  // Parameters this pass gave no gradient still take part, with what they hold (or zeros).
  for (auto& slot : s.slots) {
    if (!slot.filled) s.fill(slot, torch::Tensor());
  }
  s.launch_ready();
  if (s.error) std::rethrow_exception(s.error);
  for (auto& b : s.buckets) {
    if (b.pending) b.pending->wait();
    b.pending.reset();
  }
  if (s.twice) {
    throw Error(ErrorCode::kInternal,
                "gradient sync: a parameter received gradients twice in one armed pass (arm() "
                "covers a single backward pass)");
  }
  torch::NoGradGuard no_grad;
  for (auto& slot : s.slots) {
    torch::Tensor& grad = slot.param.mutable_grad();
    if (grad.defined() && grad.sizes() == slot.view.sizes() && grad.dtype() == slot.view.dtype()) {
      grad.copy_(slot.view);
    } else {
      grad = slot.view.clone();
    }
  }
}

}  // namespace msinet::dist
