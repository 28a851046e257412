// The C++ peer's server (docs/peer-contract.md, "Server").
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <thread>

#include "config.h"
#include "serving.h"

int main(int argc, char** argv) {
  // Blocked before gRPC starts any thread, so that only the waiting thread below takes them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  interop::Config cfg;
  try {
    cfg = interop::ParseFlags(argc, argv);
  } catch (const interop::FlagError& e) {
    std::fprintf(stderr, "server: %s\n", e.what());
    return 2;
  }
  interop::Process process(cfg);
  std::thread([&process, stop_signals] {
    int sig;
    sigwait(&stop_signals, &sig);
    process.RequestStop();
  }).detach();
  return process.Run();
}
