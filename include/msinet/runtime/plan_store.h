#pragma once
// Measured choices of runtime plans, and where they are kept between runs.

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace msinet::runtime {

/// One measured choice of a plan for one input shape.
struct PlanChoice {
  /// The fastest plan.
  std::string plan;
  /// Milliseconds per pass of each plan measured.
  std::map<std::string, double> ms;
};

/// What a choice depends on, as one line: this machine (CPU model, instruction sets, threads),
/// the LibTorch and msinet versions, the precision and the input shape [N, 3, H, W].
std::string plan_key(const std::string& precision, const std::vector<int64_t>& shape);

/// Keeps measured choices between runs (pipeline::PlanCache keeps them in a file).
class PlanStore {
 public:
  virtual ~PlanStore() = default;
  /// The choice stored for `key`; when there is none, runs `measure` and stores its result.
  virtual PlanChoice choose(const std::string& key, const std::function<PlanChoice()>& measure) = 0;
};

}  // namespace msinet::runtime
