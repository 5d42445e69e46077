#pragma once
// Helpers for the weight-reader tests: fixture paths, expected-error checks, file copies and
// byte edits, the NumPy reference tool, and MSI-Net-shaped random tensors.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "msinet/util/error.h"
#include "msinet/weights/float_tensor.h"

namespace msinet::testing {

namespace wfs = std::filesystem;

/// ../shared/fixtures/tf/<rel>.
inline wfs::path tf_fixture(const std::string& rel) {
  return wfs::path(MSINET_SHARED_DIR) / "fixtures" / "tf" / rel;
}

/// A fresh folder under the system temporary folder (fast for many small rewrites), removed at
/// destruction.
class ScratchFolder {
 public:
  explicit ScratchFolder(const std::string& tag) {
    std::string tmpl = (wfs::temp_directory_path() / ("msinet-" + tag + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~ScratchFolder() {
    std::error_code ec;
    wfs::remove_all(path_, ec);
  }
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  const wfs::path& path() const { return path_; }

 private:
  wfs::path path_;
};

/// Runs `f`, expecting msinet::Error with `code`; returns its message ("" and a failure if none).
inline std::string expect_error(const std::function<void()>& f,
                                ErrorCode code = ErrorCode::kWeights) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(code)) << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a msinet::Error: " << e.what();
    return {};
  }
  ADD_FAILURE() << "no error thrown";
  return {};
}

/// Whole file as bytes.
inline std::string slurp(const wfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Writes bytes as a new file, creating parent folders. The old file is unlinked first rather
/// than truncated: ext4 flushes a truncated-and-rewritten file to disk on close, which makes
/// thousands of small rewrites slow.
inline void spit(const wfs::path& p, const std::string& bytes) {
  wfs::create_directories(p.parent_path());
  std::error_code ec;
  wfs::remove(p, ec);
  std::ofstream(p, std::ios::binary) << bytes;
}

/// Copies a file or folder tree (read-only fixtures become writable copies).
inline void copy_tree(const wfs::path& from, const wfs::path& to) {
  if (wfs::is_directory(from)) {
    wfs::create_directories(to);
    for (const auto& e : wfs::directory_iterator(from))
      copy_tree(e.path(), to / e.path().filename());
  } else {
    spit(to, slurp(from));
  }
}

/// The float with these IEEE bits.
inline float from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// The IEEE bits of `f`.
inline uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

/// True when both hold the same names, shapes and bit-identical values.
inline bool same_tensors(const weights::NamedTensors& a, const weights::NamedTensors& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, t] : a) {
    const auto it = b.find(name);
    if (it == b.end() || it->second.shape != t.shape ||
        it->second.values.size() != t.values.size()) {
      return false;
    }
    if (!t.values.empty() &&
        std::memcmp(t.values.data(), it->second.values.data(), t.values.size() * 4) != 0) {
      return false;
    }
  }
  return true;
}

/// (TensorFlow name, shape) of the 46 MSI-Net tensors, from the layer table of
/// reference-semantics.md section 1 (kernels HWIO).
inline std::vector<std::pair<std::string, std::vector<int64_t>>> msinet_tf_shapes() {
  struct Conv {
    const char* name;
    int k, in, out;
  };
  const Conv convs[] = {{"conv1/conv1_1", 3, 3, 64},    {"conv1/conv1_2", 3, 64, 64},
                        {"conv2/conv2_1", 3, 64, 128},  {"conv2/conv2_2", 3, 128, 128},
                        {"conv3/conv3_1", 3, 128, 256}, {"conv3/conv3_2", 3, 256, 256},
                        {"conv3/conv3_3", 3, 256, 256}, {"conv4/conv4_1", 3, 256, 512},
                        {"conv4/conv4_2", 3, 512, 512}, {"conv4/conv4_3", 3, 512, 512},
                        {"conv5/conv5_1", 3, 512, 512}, {"conv5/conv5_2", 3, 512, 512},
                        {"conv5/conv5_3", 3, 512, 512}, {"aspp/conv1_1", 1, 1280, 256},
                        {"aspp/conv1_2", 3, 1280, 256}, {"aspp/conv1_3", 3, 1280, 256},
                        {"aspp/conv1_4", 3, 1280, 256}, {"aspp/conv1_5", 1, 1280, 256},
                        {"aspp/conv2", 1, 1280, 256},   {"decoder/conv1", 3, 256, 128},
                        {"decoder/conv2", 3, 128, 64},  {"decoder/conv3", 3, 64, 32},
                        {"decoder/conv4", 3, 32, 1}};
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (const Conv& c : convs) {
    out.push_back({std::string(c.name) + "/kernel", {c.k, c.k, c.in, c.out}});
    out.push_back({std::string(c.name) + "/bias", {c.out}});
  }
  return out;
}

/// Random MSI-Net-shaped tensors (uniform in +-0.05, a few larger values per tensor).
inline weights::NamedTensors random_msinet_tensors(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-0.05f, 0.05f);
  weights::NamedTensors out;
  for (const auto& [name, shape] : msinet_tf_shapes()) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    weights::FloatTensor t{shape, std::vector<float>(static_cast<size_t>(n))};
    for (float& v : t.values) v = u(rng);
    t.values[0] = 0.3f;
    out[name] = std::move(t);
  }
  return out;
}

}  // namespace msinet::testing
