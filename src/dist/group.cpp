// The process group over c10d: a TCPStore rendezvous with msinet's own handshake (world sizes
// compared, every rank counted in, so that a failure says which), then Gloo or NCCL.
#include "msinet/dist/group.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef MSINET_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "msinet/util/error.h"

namespace msinet::dist {
namespace {

using Clock = std::chrono::steady_clock;
using Work = c10::intrusive_ptr<c10d::Work>;

constexpr char kWorldKey[] = "msinet/world_size";
constexpr char kJoinedKey[] = "msinet/joined";
constexpr char kMismatchKey[] = "msinet/mismatch";
constexpr auto kDiagnosisTimeout = std::chrono::seconds(2);

std::string seconds_text(std::chrono::seconds timeout) {
  return std::to_string(timeout.count()) + " s";
}

/// The first line of a c10d error, without its backtrace.
std::string brief(const std::exception& e) {
  std::string text;
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) {
    text = c10->what_without_backtrace();
  } else {
    text = e.what();
  }
  if (const auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return text;
}

std::vector<uint8_t> to_bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string from_bytes(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

/// Whether something already listens on (or holds) TCP `port` of this machine.
bool port_in_use(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool in_use =
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 && errno == EADDRINUSE;
  ::close(fd);
  return in_use;
}

/// Whether `host`:`port` accepts a TCP connection now (within 200 ms).
bool accepts_connections(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) {
    return false;
  }
  bool ok = false;
  for (const addrinfo* a = found; a != nullptr && !ok; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof(err);
      ok = ::poll(&p, 1, 200) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
           err == 0;
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return ok;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

/// The three collectives msinet uses, over whichever backend class (c10d::ProcessGroup in
/// LibTorch 1.x, c10d::Backend in 2.x: both keep these members).
class Collectives {
 public:
  virtual ~Collectives() = default;
  virtual Work allreduce(std::vector<torch::Tensor>& tensors) = 0;
  virtual Work broadcast(std::vector<torch::Tensor>& tensors) = 0;
  virtual Work barrier() = 0;
};

template <typename Backend>
class CollectivesOf : public Collectives {
 public:
  explicit CollectivesOf(c10::intrusive_ptr<Backend> backend) : backend_(std::move(backend)) {}
  Work allreduce(std::vector<torch::Tensor>& tensors) override {
    return backend_->allreduce(tensors);
  }
  Work broadcast(std::vector<torch::Tensor>& tensors) override {
    return backend_->broadcast(tensors);
  }
  Work barrier() override { return backend_->barrier(); }

 private:
  c10::intrusive_ptr<Backend> backend_;
};

std::shared_ptr<::gloo::transport::Device> gloo_device(const GroupConfig& config) {
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  if (ifname != nullptr && *ifname != '\0') {
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  }
  if (config.world_size == 1 || is_loopback(config.master_addr)) {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

bool available() { return true; }

bool nccl_available() {
#ifdef MSINET_WITH_NCCL
  return true;
#else
  return false;
#endif
}

struct Group::State {
  GroupConfig config;
  std::string backend;
  torch::Device comm_device{torch::kCPU};
  std::string where;  // master_addr:master_port
  c10::intrusive_ptr<c10d::Store> store;
  std::unique_ptr<Collectives> collectives;
  std::mutex store_mutex;
  int64_t step = -1;    // from mark_progress, for messages
  int64_t started = 0;  // collectives this rank has started

  std::string me() const { return "rank " + std::to_string(config.rank); }

  /// Which ranks are behind this one: those that started fewer collectives, from the counts
  /// each rank records in the store; rank 0 when the store (which rank 0 serves) cannot be
  /// reached.
  std::string diagnose() {
    const std::string timeout = "(timeout " + seconds_text(config.timeout) + ")";
    std::vector<std::string> behind;
    std::lock_guard<std::mutex> lock(store_mutex);
    const auto saved = store->getTimeout();
    try {
      store->setTimeout(kDiagnosisTimeout);
      for (int r = 0; r < config.world_size; ++r) {
        if (r == config.rank) continue;
        const std::string key = progress_key(r);
        if (!store->check({key})) {
          behind.push_back("rank " + std::to_string(r) + " started no collective");
          continue;
        }
        std::istringstream theirs(from_bytes(store->get(key)));
        int64_t count = 0, their_step = -1;
        theirs >> count >> their_step;
        if (count < started) {
          behind.push_back("rank " + std::to_string(r) + " stopped at step " +
                           std::to_string(their_step));
        }
      }
      store->setTimeout(saved);
    } catch (const std::exception& e) {
      return "the rendezvous store at " + where +
             ", which rank 0 serves, cannot be reached: rank 0 died or hung " + timeout;
    }
    if (behind.empty()) {
      return "no rank is behind " + me() + " (step " + std::to_string(step) +
             "): one died, hung or failed within the same collective " + timeout;
    }
    std::string text;
    for (const auto& b : behind) text += (text.empty() ? "" : ", ") + b;
    return text + " while " + me() + " reached step " + std::to_string(step) +
           ": it died or hung " + timeout;
  }

  static std::string progress_key(int rank) { return "msinet/progress/" + std::to_string(rank); }

  /// Counts a collective this rank starts, in the store, so that a failure can tell which
  /// ranks never came to it.
  void record_start() {
    std::lock_guard<std::mutex> lock(store_mutex);
    ++started;
    if (config.world_size == 1) return;
    try {
      store->set(progress_key(config.rank),
                 to_bytes(std::to_string(started) + " " + std::to_string(step)));
    } catch (const std::exception& e) {
      throw Error(ErrorCode::kDistributed, me() + " cannot record its progress at " + where +
                                               ", the store rank 0 serves: rank 0 died or hung [" +
                                               brief(e) + "]");
    }
  }

  [[noreturn]] void fail(const std::string& what, const std::exception& e) {
    throw Error(ErrorCode::kDistributed,
                me() + ": " + what + " failed: " + diagnose() + " [" + brief(e) + "]");
  }

  /// `tensor` as the backend wants it (dense, contiguous, on the communication device).
  torch::Tensor staged(const torch::Tensor& tensor) const {
    if (tensor.is_contiguous() && tensor.device() == comm_device) return tensor;
    return tensor.to(comm_device).contiguous();
  }

  Work start(const std::string& what, const std::function<Work()>& launch) {
    record_start();
    try {
      return launch();
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      fail(what, e);
    }
  }

  void wait(const std::string& what, const Work& work) {
    try {
      work->wait();
    } catch (const std::exception& e) {
      fail(what, e);
    }
  }
};

namespace {

/// A collective in flight on one tensor, copied back when the backend worked on a staged copy.
class PendingWork : public Pending {
 public:
  PendingWork(std::function<void(const Work&)> waiter, Work work, torch::Tensor target,
              torch::Tensor staged)
      : waiter_(std::move(waiter)),
        work_(std::move(work)),
        target_(std::move(target)),
        staged_(std::move(staged)) {}
  void wait() override {
    if (!work_) return;
    Work work = std::move(work_);
    work_.reset();
    waiter_(work);
    if (!staged_.is_same(target_)) target_.copy_(staged_);
  }

 private:
  std::function<void(const Work&)> waiter_;
  Work work_;
  torch::Tensor target_;
  torch::Tensor staged_;
};

class DonePending : public Pending {
 public:
  void wait() override {}
};

/// Rendezvous at master_addr:master_port: the store, then every rank counted in.
c10::intrusive_ptr<c10d::Store> rendezvous(const GroupConfig& c, const std::string& where) {
  const std::string me = "rank " + std::to_string(c.rank);
  const std::string timeout = seconds_text(c.timeout);
  c10d::TCPStoreOptions options;
  options.port = static_cast<uint16_t>(c.master_port);
  options.isServer = c.rank == 0;
  options.numWorkers = static_cast<size_t>(c.world_size);
  options.waitWorkers = false;  // counted below, to say how many are missing
  options.timeout = c.timeout;
  c10::intrusive_ptr<c10d::Store> store;
  if (c.rank == 0) {
    if (port_in_use(c.master_port)) {
      throw Error(ErrorCode::kDistributed,
                  "cannot serve the rendezvous on " + where +
                      ": the port is in use (another run?): choose another --master-port / "
                      "MASTER_PORT");
    }
    try {
      store = c10::make_intrusive<c10d::TCPStore>(c.master_addr, options);
    } catch (const std::exception& e) {
      throw Error(ErrorCode::kDistributed,
                  "cannot serve the rendezvous on " + where + ": " + brief(e) +
                      ": check MASTER_ADDR (a host of this machine) and MASTER_PORT");
    }
  } else {
    // Polled here, every 10 ms: c10d's own client waits a second between attempts.
    const auto deadline = Clock::now() + c.timeout;
    while (!accepts_connections(c.master_addr, c.master_port)) {
      if (Clock::now() > deadline) {
        throw Error(ErrorCode::kDistributed,
                    me + " cannot reach the rendezvous at " + where +
                        " (rank 0 serves it) within " + timeout +
                        ": check MASTER_ADDR, MASTER_PORT and that rank 0 was started");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    try {
      store = c10::make_intrusive<c10d::TCPStore>(c.master_addr, options);
    } catch (const std::exception& e) {
      throw Error(ErrorCode::kDistributed,
                  me + " cannot reach the rendezvous at " + where + " (rank 0 serves it) within " +
                      timeout + ": " + brief(e) +
                      ": check MASTER_ADDR, MASTER_PORT and that rank 0 was started");
    }
  }
  try {
    const std::string world = std::to_string(c.world_size);
    if (c.rank == 0) {
      store->set(kWorldKey, to_bytes(world));
    } else {
      const std::string theirs = from_bytes(store->get(kWorldKey));
      if (theirs != world) {
        const std::string text = "WORLD_SIZE=" + world + " on " + me + " but WORLD_SIZE=" + theirs +
                                 " on rank 0: start every rank with the same WORLD_SIZE";
        store->set(kMismatchKey, to_bytes(text));
        throw Error(ErrorCode::kDistributed, text);
      }
    }
    if (store->add("msinet/rank/" + std::to_string(c.rank), 1) > 1) {
      throw Error(ErrorCode::kDistributed,
                  "two processes joined " + where + " as " + me + ": give every rank its own RANK");
    }
    const auto deadline = Clock::now() + c.timeout;
    int64_t joined = store->add(kJoinedKey, 1);
    while (joined < c.world_size) {
      if (store->check({kMismatchKey})) {
        throw Error(ErrorCode::kDistributed, from_bytes(store->get(kMismatchKey)));
      }
      if (Clock::now() > deadline) {
        throw Error(ErrorCode::kDistributed,
                    me + " waited " + timeout + " for " + std::to_string(c.world_size - joined) +
                        " of " + world + " ranks to join at " + where +
                        "; check WORLD_SIZE and that every rank was started");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      joined = store->add(kJoinedKey, 0);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(ErrorCode::kDistributed, me + " lost the rendezvous at " + where +
                                             " (rank 0 serves it) within " + timeout + ": " +
                                             brief(e));
  }
  return store;
}

}  // namespace

std::unique_ptr<Group> Group::join(const GroupConfig& config, const torch::Device& device) {
  if (config.world_size < 1 || config.rank < 0 || config.rank >= config.world_size) {
    throw Error(ErrorCode::kUsage, "rank " + std::to_string(config.rank) +
                                       " is not in a group of " +
                                       std::to_string(config.world_size));
  }
  std::string backend = config.backend;
  if (backend == "auto") backend = device.is_cuda() && nccl_available() ? "nccl" : "gloo";
  if (backend == "nccl") {
    if (!nccl_available()) {
      throw Error(ErrorCode::kUsage,
                  "this build has no NCCL (its LibTorch is not a CUDA build with NCCL): use "
                  "--dist-backend gloo");
    }
    if (!device.is_cuda()) {
      throw Error(ErrorCode::kUsage, "the NCCL backend needs a CUDA device, and this run uses " +
                                         device.str() + ": use --dist-backend gloo");
    }
  } else if (backend != "gloo") {
    throw Error(ErrorCode::kUsage,
                "unknown distributed backend '" + config.backend + "': choose auto, gloo or nccl");
  }
  if (config.world_size > 1 && config.master_addr.empty()) {
    throw Error(ErrorCode::kUsage, "MASTER_ADDR is not set: set it to the host of rank 0");
  }
  if (config.master_port < 1 || config.master_port > 65535) {
    throw Error(ErrorCode::kUsage,
                "MASTER_PORT=" + std::to_string(config.master_port) + " is not a TCP port");
  }

  auto state = std::make_unique<State>();
  state->config = config;
  state->backend = backend;
  state->comm_device = backend == "nccl" ? device : torch::Device(torch::kCPU);
  state->where = config.master_addr + ":" + std::to_string(config.master_port);
  if (config.world_size == 1) {
    state->store = c10::make_intrusive<c10d::HashStore>();
  } else {
    state->store = rendezvous(config, state->where);
  }
  auto backend_store = c10::make_intrusive<c10d::PrefixStore>("backend", state->store);
  const std::chrono::milliseconds timeout = config.timeout;
  try {
    if (backend == "gloo") {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      options->devices.push_back(gloo_device(config));
      state->collectives = std::make_unique<CollectivesOf<c10d::ProcessGroupGloo>>(
          c10::make_intrusive<c10d::ProcessGroupGloo>(backend_store, config.rank, config.world_size,
                                                      options));
    } else {
#ifdef MSINET_WITH_NCCL
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      state->collectives = std::make_unique<CollectivesOf<c10d::ProcessGroupNCCL>>(
          c10::make_intrusive<c10d::ProcessGroupNCCL>(backend_store, config.rank, config.world_size,
                                                      options));
#endif
    }
  } catch (const std::exception& e) {
    state->fail("connecting the " + backend + " backend", e);
  }
  return std::unique_ptr<Group>(new Group(std::move(state)));
}

Group::Group(std::unique_ptr<State> state) : state_(std::move(state)) {}
Group::~Group() = default;

int Group::rank() const { return state_->config.rank; }
int Group::size() const { return state_->config.world_size; }
const GroupConfig& Group::config() const { return state_->config; }
std::string Group::backend_name() const { return state_->backend; }

void Group::all_reduce_sum(std::vector<torch::Tensor>& tensors) {
  std::vector<std::unique_ptr<Pending>> pending;
  pending.reserve(tensors.size());
  for (auto& t : tensors) pending.push_back(all_reduce_sum_async(t));
  for (auto& p : pending) p->wait();
}

std::unique_ptr<Pending> Group::all_reduce_sum_async(torch::Tensor& tensor) {
  if (size() == 1) return std::make_unique<DonePending>();
  torch::Tensor staged = state_->staged(tensor);
  std::vector<torch::Tensor> one{staged};
  Work work = state_->start("all_reduce", [&] { return state_->collectives->allreduce(one); });
  State* state = state_.get();
  return std::make_unique<PendingWork>([state](const Work& w) { state->wait("all_reduce", w); },
                                       std::move(work), tensor, staged);
}

std::string Group::broadcast_bytes(const std::string& bytes) {
  if (size() == 1) return bytes;
  const auto on = torch::TensorOptions().device(state_->comm_device);
  std::vector<torch::Tensor> length{torch::full(
      {1}, is_root() ? static_cast<int64_t>(bytes.size()) : int64_t{0}, on.dtype(torch::kInt64))};
  state_->wait("broadcast",
               state_->start("broadcast", [&] { return state_->collectives->broadcast(length); }));
  const int64_t n = length[0].cpu().item<int64_t>();
  if (n == 0) return {};
  torch::Tensor data = torch::empty({n}, torch::kUInt8);
  if (is_root()) std::memcpy(data.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  std::vector<torch::Tensor> payload{data.to(state_->comm_device)};
  state_->wait("broadcast",
               state_->start("broadcast", [&] { return state_->collectives->broadcast(payload); }));
  const torch::Tensor back = payload[0].cpu().contiguous();
  return std::string(reinterpret_cast<const char*>(back.data_ptr<uint8_t>()),
                     static_cast<size_t>(n));
}

void Group::barrier() {
  if (size() == 1) return;
  state_->wait("barrier", state_->start("barrier", [&] { return state_->collectives->barrier(); }));
}

void Group::mark_progress(int64_t step) {
  std::lock_guard<std::mutex> lock(state_->store_mutex);
  state_->step = step;
}

}  // namespace msinet::dist
