// The dist API in a build without c10d's Gloo (MSINET_DISTRIBUTED off): nothing can join.
#include <utility>

#include "msinet/dist/gradient_sync.h"
#include "msinet/dist/group.h"
#include "msinet/util/error.h"

namespace msinet::dist {
namespace {

[[noreturn]] void unavailable() { throw Error(ErrorCode::kUsage, unavailable_reason()); }

}  // namespace

bool available() { return false; }
bool nccl_available() { return false; }

struct Group::State {
  GroupConfig config;
};

std::unique_ptr<Group> Group::join(const GroupConfig&, const torch::Device&) { unavailable(); }
Group::Group(std::unique_ptr<State> state) : state_(std::move(state)) {}
Group::~Group() = default;
int Group::rank() const { return state_->config.rank; }
int Group::size() const { return state_->config.world_size; }
const GroupConfig& Group::config() const { return state_->config; }
std::string Group::backend_name() const { return "none"; }
void Group::all_reduce_sum(std::vector<torch::Tensor>&) { unavailable(); }
std::unique_ptr<Pending> Group::all_reduce_sum_async(torch::Tensor&) { unavailable(); }
std::string Group::broadcast_bytes(const std::string&) { unavailable(); }
void Group::barrier() { unavailable(); }
void Group::mark_progress(int64_t) { unavailable(); }

struct GradientSync::State {};
GradientSync::GradientSync(Group&, std::vector<torch::Tensor>, size_t) { unavailable(); }
GradientSync::~GradientSync() = default;
void GradientSync::arm() { unavailable(); }
void GradientSync::finish() { unavailable(); }

}  // namespace msinet::dist
