#pragma once
// The measured runtime plans kept in a small YAML file, so that each machine measures each input
// shape once.

#include <filesystem>
#include <string>

#include "msinet/runtime/plan_store.h"

namespace msinet::pipeline {

/// $MSINET_PLAN_CACHE, else $XDG_CACHE_HOME/msinet/runtime-plans.yaml, else
/// ~/.cache/msinet/runtime-plans.yaml (a relative one when there is no HOME).
std::filesystem::path default_plan_cache();

/// A plan cache file. A process measuring holds a lock beside it, so that processes started
/// together measure once (the others wait, then read); an unreadable or malformed file counts as
/// empty (with a warning) and is rewritten; writes are atomic.
class PlanCache : public runtime::PlanStore {
 public:
  explicit PlanCache(std::filesystem::path file = default_plan_cache());
  runtime::PlanChoice choose(const std::string& key,
                             const std::function<runtime::PlanChoice()>& measure) override;
  /// The file.
  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
};

}  // namespace msinet::pipeline
