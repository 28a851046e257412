// The process's gRPC servers: listening, the readiness line, the graceful stop on SIGTERM or
// SIGINT, and the scripted service's restart (docs/peer-contract.md, "Server").
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config.h"

namespace interop {

class Process {
 public:
  explicit Process(Config cfg) : cfg_(std::move(cfg)) {}

  // Serves until RequestStop; returns the exit code (0 after a clean stop, 1 when it could not
  // listen).
  int Run();
  void RequestStop();

 private:
  // One set of servers listening on every address, and the services they serve.
  struct Generation {
    std::vector<std::unique_ptr<grpc::Service>> services;
    std::vector<std::unique_ptr<grpc::Server>> servers;
  };
  struct Restart {
    std::chrono::milliseconds after;
    bool graceful;
  };

  // Builds a generation on port (0: an ephemeral one, *port then says which).
  std::unique_ptr<Generation> Build(int* port, std::string* error);
  std::unique_ptr<grpc::Server> BuildServer(const std::vector<std::string>& addresses, int* selected_port,
                                            Generation* gen);
  bool RequestRestart(std::chrono::milliseconds after, bool graceful);
  static void Shutdown(Generation* gen, std::chrono::system_clock::time_point deadline);

  const Config cfg_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool restarting_ = false;
  std::optional<Restart> restart_;
};

}  // namespace interop
