#pragma once
// `msinet submit`: checking saliency maps against a benchmark's stimuli and packaging them in the
// layout the benchmark asks for.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace msinet::submit {

namespace fs = std::filesystem;

/// The benchmarks a package can be made for.
enum class Benchmark {
  kMit300,    ///< saliency.mit.edu MIT300: grayscale JPEGs named as the 300 test images
  kCat2000,   ///< saliency.mit.edu CAT2000: grayscale JPEGs in the test set's category folders
  kTuebingen  ///< the MIT/Tuebingen benchmark: .npy log-densities named as the stimuli
};

/// Parses "mit300", "cat2000" or "tuebingen"; throws Error(kUsage) otherwise.
Benchmark parse_benchmark(const std::string& name);

/// The benchmark's name as parse_benchmark takes it.
std::string benchmark_name(Benchmark benchmark);

/// Largest number of stimuli accepted (CAT2000's test set has 2000).
inline constexpr size_t kMaxStimuli = 10'000;

/// Default of the largest package, in MiB (the summed sizes of its members).
inline constexpr uint64_t kDefaultMaxPackageMb = 20'000;

/// What run_submit does.
struct SubmitOptions {
  Benchmark benchmark = Benchmark::kMit300;
  fs::path maps_dir;     ///< the maps, named as the stimuli
  fs::path stimuli_dir;  ///< the benchmark's test images
  fs::path output;       ///< the .zip to write
  std::string name;      ///< the folder inside the MIT packages [default: output's stem]
  size_t max_stimuli = kMaxStimuli;
  uint64_t max_bytes = kDefaultMaxPackageMb << 20;  ///< cap on the members' summed sizes
};

/// What run_submit packaged.
struct SubmitResult {
  size_t maps = 0;             ///< members of the archive
  size_t converted = 0;        ///< of which converted (to JPEG, or a re-encoded .npy)
  std::string conversion;      ///< what the conversion was, for the summary ("" when none)
  uint64_t content_bytes = 0;  ///< summed sizes of the members
  uint64_t archive_bytes = 0;  ///< size of the .zip
  std::string layout;          ///< e.g. "model/<image>.jpg"
};

/// Checks every map against the stimuli for the benchmark and, when all pass, writes the package
/// atomically. Refuses with Error listing every problem, writing nothing: kUsage when the output
/// is not a .zip or would lie in, or replace, an input (or the two input folders overlap), kInput
/// for the maps and stimuli.
SubmitResult run_submit(const SubmitOptions& options);

}  // namespace msinet::submit
