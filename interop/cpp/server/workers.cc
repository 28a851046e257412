#include "workers.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <thread>

namespace interop {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(10);
constexpr auto kStopTimeout = std::chrono::seconds(3);

std::string SelfExe() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, n) : std::string();
}

// Reads one line from fd, waiting until deadline; "" when none came.
std::string ReadLine(int fd, std::chrono::steady_clock::time_point deadline) {
  std::string line;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "";
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) return line;
    if (c == '\n') return line;
    line += c;
  }
}

}  // namespace

bool WorkerPool::Start(const Config& cfg, int port, std::string* error) {
  int extra = cfg.ExtraWorkers();
  if (extra == 0) return true;
  std::string exe = SelfExe();
  std::vector<std::string> args = cfg.WorkerArgs(port, getpid());
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  sigset_t none;
  sigemptyset(&none);
  for (int i = 0; i < extra; ++i) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      *error = std::string("pipe: ") + std::strerror(errno);
      Stop();
      return false;
    }
    pid_t pid = fork();
    if (pid == 0) {
      // Only async-signal-safe calls until exec. The worker gets SIGTERM when this process dies,
      // and must not inherit the blocked signals of its parent.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      dup2(fds[1], STDOUT_FILENO);
      execv(exe.c_str(), argv.data());
      _exit(127);
    }
    close(fds[1]);
    if (pid < 0) {
      close(fds[0]);
      *error = std::string("fork: ") + std::strerror(errno);
      Stop();
      return false;
    }
    workers_.push_back({pid, fds[0]});
  }
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  std::string want = "{\"event\":\"listening\",\"port\":" + std::to_string(port) + "}";
  for (const auto& w : workers_) {
    std::string line = ReadLine(w.stdout_fd, deadline);
    if (line != want) {
      *error = "worker " + std::to_string(w.pid) + " did not start serving port " + std::to_string(port) +
               ": it printed \"" + line + "\"";
      Stop();
      return false;
    }
  }
  return true;
}

void WorkerPool::Stop() {
  for (const auto& w : workers_) kill(w.pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  for (const auto& w : workers_) {
    int status;
    while (waitpid(w.pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        std::fprintf(stderr, "worker %d still running after 3 s: killing it\n", w.pid);
        kill(w.pid, SIGKILL);
        waitpid(w.pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    close(w.stdout_fd);
  }
  workers_.clear();
}

}  // namespace interop
