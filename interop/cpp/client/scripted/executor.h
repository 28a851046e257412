// The generic executor of the data suites (docs/peer-contract.md, "Client: the generic
// executor"): it makes the call an instruction describes, checks nothing, and reports what gRPC
// C++ gave (OBSERVED).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "config.h"
#include "result.h"

namespace interop::scripted {

// The executor's self-test faults (the scripted-* --client_fault values) and where it calls.
struct Options {
  bool lenient = false;
  bool deadline_ignored = false;
  bool server_name_ignored = false;
  bool target_ignored = false;
  bool authority_ignored = false;
  bool limits_ignored = false;
  std::string host;
  int port = 0;
  std::string unix_socket;  // --server_unix_socket; empty: not given
  Transport transport;
  std::chrono::milliseconds default_timeout{5000};
};

Options OptionsOf(const Config& cfg);

// One client run's executor: every instruction without "channel" runs on one channel, made at
// the first of them and closed with the executor.
class Executor {
 public:
  explicit Executor(Options options) : options_(std::move(options)) {}

  // Runs one instruction; throws BadInstruction when it cannot run.
  Json Execute(const Json& instruction);

 private:
  std::shared_ptr<grpc::Channel> Shared();

  Options options_;
  std::shared_ptr<grpc::Channel> shared_;
};

}  // namespace interop::scripted
