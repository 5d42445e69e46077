#pragma once
// Error type and exit codes shared by every layer.

#include <stdexcept>
#include <string>

namespace msinet {

/// Process exit codes; each Error carries one. Documented in README.md ("Exit codes").
enum class ErrorCode : int {
  kOk = 0,
  kInternal = 1,      ///< a bug or an unexpected failure
  kUsage = 2,         ///< bad command line
  kConfig = 3,        ///< bad configuration file, key or value
  kInput = 4,         ///< missing or unreadable input (image, folder, dataset layout)
  kWeights = 5,       ///< missing or malformed weights / checkpoint
  kNetwork = 6,       ///< download failed (HTTP error, timeout, TLS)
  kPartial = 7,       ///< some inputs failed, the others were processed
  kIo = 8,            ///< cannot write an output (permissions, full disk)
  kDiverged = 9,      ///< training produced a non-finite loss
  kData = 10,         ///< corrupt or unsafe archive, checksum mismatch, bad dataset file
  kOutOfMemory = 11,  ///< an allocation failed (batch, input size or image too large)
  kDistributed = 12,  ///< a rank of a distributed run failed, hung or could not join
  kInterrupted = 130  ///< stopped by SIGINT/SIGTERM after saving state
};

/// The one exception type: a message that names what failed and what to do, plus an exit code.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  /// The exit code this error maps to.
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace msinet
