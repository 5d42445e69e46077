#pragma once
// Test helpers: run a program without a shell, make a test CA and server certificate with the
// openssl tool, and start tests/tools/http_server.py (HTTP or HTTPS) on a free loopback port for
// the lifetime of an object (see the top of http_server.py for its modes).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace msinet::testing {

/// Exit status and standard output of a finished program.
struct CommandResult {
  int status = -1;
  std::string out;
};

/// Runs `argv` (argv[0] is a path) with stdout captured, stderr inherited; no shell involved.
inline CommandResult run_command(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  CommandResult result;
  if (rc != 0) {
    ::close(pipe_fds[0]);
    throw std::runtime_error("cannot start " + argv[0]);
  }
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buf, sizeof buf)) > 0) result.out.append(buf, size_t(n));
  ::close(pipe_fds[0]);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  result.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  return result;
}

/// SHA-256 of a file computed by Python's hashlib (independent of the code under test).
inline std::string python_sha256(const std::filesystem::path& file) {
  const auto r = run_command(
      {"/usr/bin/python3", "-c",
       "import hashlib,sys;print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
       file.string()});
  if (r.status != 0) throw std::runtime_error("python sha256 failed for " + file.string());
  return r.out.substr(0, 64);
}

/// A test CA and a server certificate for 127.0.0.1 that it signed (PEM files).
struct TestCertificates {
  std::filesystem::path ca;    ///< the CA's certificate: what a client must trust
  std::filesystem::path cert;  ///< the server's certificate (subjectAltName IP:127.0.0.1)
  std::filesystem::path key;   ///< the server's private key
};

/// Makes a CA and a server certificate in `dir` with the openssl command-line tool (P-256 keys,
/// valid for two days); std::runtime_error when openssl fails or is missing.
inline TestCertificates make_test_certificates(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const auto path = [&](const char* name) { return (dir / name).string(); };
  std::ofstream(dir / "server.ext") << "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n";
  const std::vector<std::vector<std::string>> steps = {
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", path("ca.key"), "-out", path("ca.pem"),
       "-days", "2", "-subj", "/CN=msinet test CA"},
      {"/usr/bin/openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", path("server.key"), "-out", path("server.csr"), "-subj",
       "/CN=127.0.0.1"},
      {"/usr/bin/openssl", "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"),
       "-CAkey", path("ca.key"), "-CAcreateserial", "-out", path("server.pem"), "-days", "2",
       "-extfile", path("server.ext")},
  };
  for (const auto& argv : steps) {
    if (run_command(argv).status != 0) {
      throw std::runtime_error("openssl " + argv[1] + " failed making test certificates in " +
                               dir.string());
    }
  }
  return {dir / "ca.pem", dir / "server.pem", dir / "server.key"};
}

/// tests/tools/http_server.py serving `root` on 127.0.0.1, stopped by the destructor.
class HttpServer {
 public:
  /// Starts the server; `log` (optional) receives one JSON line per request; with `tls` it
  /// serves HTTPS with that certificate.
  explicit HttpServer(const std::filesystem::path& root, const std::filesystem::path& log = {},
                      const std::string& drive_mode = "form",
                      const TestCertificates* tls = nullptr) {
    const std::string script = std::string(MSINET_SOURCE_DIR) + "/tests/tools/http_server.py";
    std::vector<std::string> argv = {"/usr/bin/python3", script,     "--root",       root.string(),
                                     "--drive",          drive_mode, "--watch-stdin"};
    if (!log.empty()) {
      argv.push_back("--log");
      argv.push_back(log.string());
    }
    if (tls != nullptr) {
      argv.insert(argv.end(), {"--tls-cert", tls->cert.string(), "--tls-key", tls->key.string()});
      scheme_ = "https";
    }
    int out_fds[2];
    int in_fds[2];
    if (::pipe2(out_fds, O_CLOEXEC) != 0 || ::pipe2(in_fds, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, in_fds[0], 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_fds[1]);
    ::close(in_fds[0]);
    stdin_fd_ = in_fds[1];
    if (rc != 0) {
      ::close(out_fds[0]);
      throw std::runtime_error("cannot start " + script);
    }
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_fds[0], POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[256];
      const ssize_t n = ::read(out_fds[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, size_t(n));
    }
    ::close(out_fds[0]);
    if (line.rfind("PORT ", 0) != 0) {
      stop();
      throw std::runtime_error("http_server.py did not report its port: '" + line + "'");
    }
    port_ = std::atoi(line.c_str() + 5);
  }
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer() { stop(); }

  /// The port it listens on.
  int port() const { return port_; }
  /// "http://127.0.0.1:<port>" (https:// when serving TLS).
  std::string base() const { return scheme_ + "://127.0.0.1:" + std::to_string(port_); }

 private:
  void stop() {
    if (stdin_fd_ >= 0) ::close(stdin_fd_);
    stdin_fd_ = -1;
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int port_ = 0;
  std::string scheme_ = "http";
};

/// The lines of a request log written by http_server.py (one JSON object each).
inline std::vector<std::string> read_log_lines(const std::filesystem::path& log) {
  std::vector<std::string> lines;
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace msinet::testing
