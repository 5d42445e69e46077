// The run as the environment describes it (torchrun's variables); no c10d needed.
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>

#include "msinet/dist/group_config.h"
#include "msinet/util/error.h"

namespace msinet::dist {
namespace {

std::optional<std::string> variable(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

int parse_variable(const char* name, const std::string& value, long min, long max) {
  errno = 0;
  char* end = nullptr;
  const long parsed = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || end == value.c_str() || *end != '\0' || errno == ERANGE) {
    throw Error(ErrorCode::kUsage, std::string(name) + "='" + value + "' is not a whole number");
  }
  if (parsed < min || parsed > max) {
    throw Error(ErrorCode::kUsage, std::string(name) + "=" + value + " is out of range (" +
                                       std::to_string(min) + ".." + std::to_string(max) + ")");
  }
  return static_cast<int>(parsed);
}

constexpr long kMaxRanks = 1 << 20;

}  // namespace

std::optional<GroupConfig> config_from_environment() {
  const auto world = variable("WORLD_SIZE");
  if (!world) return std::nullopt;
  GroupConfig config;
  config.world_size = parse_variable("WORLD_SIZE", *world, 1, kMaxRanks);
  const std::string world_text = "WORLD_SIZE=" + std::to_string(config.world_size);
  if (const auto rank = variable("RANK")) {
    config.rank = parse_variable("RANK", *rank, 0, kMaxRanks);
  } else if (config.world_size > 1) {
    throw Error(ErrorCode::kUsage, "RANK is not set while " + world_text +
                                       " is: set it to this process's index, 0 to " +
                                       std::to_string(config.world_size - 1));
  }
  if (config.rank >= config.world_size) {
    throw Error(ErrorCode::kUsage, "RANK=" + std::to_string(config.rank) + " is not below " +
                                       world_text + ": ranks count from 0");
  }
  config.local_world_size = config.world_size;
  if (const auto v = variable("LOCAL_WORLD_SIZE")) {
    config.local_world_size = parse_variable("LOCAL_WORLD_SIZE", *v, 1, config.world_size);
  }
  config.local_rank = config.rank;
  if (const auto v = variable("LOCAL_RANK")) {
    config.local_rank = parse_variable("LOCAL_RANK", *v, 0, kMaxRanks);
  }
  if (config.local_rank >= config.local_world_size) {
    throw Error(ErrorCode::kUsage,
                "LOCAL_RANK=" + std::to_string(config.local_rank) +
                    " is not below LOCAL_WORLD_SIZE=" + std::to_string(config.local_world_size));
  }
  config.master_addr = variable("MASTER_ADDR").value_or("");
  if (config.master_addr.empty() && config.world_size > 1) {
    throw Error(ErrorCode::kUsage,
                "MASTER_ADDR is not set while " + world_text + " is: set it to the host of rank 0");
  }
  if (const auto v = variable("MASTER_PORT")) {
    config.master_port = parse_variable("MASTER_PORT", *v, 1, 65535);
  }
  return config;
}

std::string unavailable_reason() {
  if (available()) return "";
  return "this build of msinet has no distributed training (needs libgloo-dev and LibTorch's "
         "c10d headers at build time: install libgloo-dev and rebuild)";
}

}  // namespace msinet::dist
