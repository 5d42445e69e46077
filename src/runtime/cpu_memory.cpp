// The CPU allocator behind reuse_freed_memory(): large blocks freed by one forward pass are kept
// and handed out again, by exact size, to the next one.

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>

#include "msinet/runtime/memory.h"

namespace msinet::runtime {
namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kSmallestCached = size_t{1} << 20;

// Blocks of at least kSmallestCached bytes are cached by exact size when freed. Live and cached
// blocks together stay under twice the peak of live blocks (exact sizes cannot serve each other,
// so a repeating pass needs somewhat more than its peak): a miss first frees cached blocks until
// the new block fits, so a changed shape returns the old shape's blocks to the system.
class ReusingAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const override {
    void* p = take(n);
    return {p, p, &release, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &release; }
  // Pure virtual in LibTorch 2.x, absent in 1.13.
  void copy_data(void* dest, const void* src, std::size_t count) const {
    if (count > 0) std::memcpy(dest, src, count);
  }

  static ReusingAllocator& instance() {
    static ReusingAllocator* a =
        new ReusingAllocator();  // never destroyed: tensors may outlive main
    return *a;
  }

 private:
  void* take(size_t n) const {
    if (n == 0) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    if (n >= kSmallestCached) {
      auto it = cached_.find(n);
      if (it != cached_.end()) {
        void* p = it->second;
        cached_.erase(it);
        cached_bytes_ -= n;
        live_bytes_ += n;
        return p;
      }
      while (!cached_.empty() && live_bytes_ + cached_bytes_ + n > 2 * peak_live_bytes_) {
        auto victim = cached_.begin();
        cached_bytes_ -= victim->first;
        sizes_.erase(victim->second);
        std::free(victim->second);
        cached_.erase(victim);
      }
    }
    void* p = nullptr;
    const size_t rounded = (n + kAlignment - 1) / kAlignment * kAlignment;
    if (posix_memalign(&p, kAlignment, rounded) != 0 || p == nullptr) throw std::bad_alloc();
    sizes_[p] = n;
    live_bytes_ += n;
    peak_live_bytes_ = std::max(peak_live_bytes_, live_bytes_);
    return p;
  }

  static void release(void* p) {
    if (p == nullptr) return;
    ReusingAllocator& a = instance();
    std::lock_guard<std::mutex> lock(a.mutex_);
    const auto it = a.sizes_.find(p);
    if (it == a.sizes_.end()) {
      std::free(p);
      return;
    }
    const size_t n = it->second;
    a.live_bytes_ -= n;
    if (n >= kSmallestCached) {
      a.cached_.emplace(n, p);
      a.cached_bytes_ += n;
      return;
    }
    a.sizes_.erase(it);
    std::free(p);
  }

  mutable std::mutex mutex_;
  mutable std::unordered_map<void*, size_t> sizes_;        // every block from posix_memalign
  mutable std::unordered_multimap<size_t, void*> cached_;  // freed blocks kept for reuse
  mutable size_t live_bytes_ = 0, cached_bytes_ = 0, peak_live_bytes_ = 0;
};

}  // namespace

void reuse_freed_memory() {
  static std::once_flag once;
  std::call_once(once, [] { c10::SetCPUAllocator(&ReusingAllocator::instance(), /*priority=*/1); });
}

}  // namespace msinet::runtime
