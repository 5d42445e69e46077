#pragma once
// A request `msinet serve` refuses, with the HTTP status that says why.

#include <string>
#include <utility>

#include "msinet/util/error.h"

namespace msinet::serve {

/// A request refused before it reached a pipeline, with the HTTP status that says why.
class Refused : public Error {
 public:
  /// `status` is the HTTP status (400, 413, 503, ...); `reason` labels it in the metrics
  /// (e.g. "queue_full"); `message` names the problem and what to do.
  Refused(int status, std::string reason, const std::string& message)
      : Error(ErrorCode::kInput, message), status_(status), reason_(std::move(reason)) {}
  /// The HTTP status of the answer.
  int status() const { return status_; }
  /// The label of msinet_request_errors_total.
  const std::string& reason() const { return reason_; }

 private:
  int status_;
  std::string reason_;
};

}  // namespace msinet::serve
