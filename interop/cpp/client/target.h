// The server under test, as every case of the seeds, grpc.testing, testing-edges and security
// suites dials it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "config.h"
#include "result.h"

namespace interop {

struct Target {
  std::string host;
  int port = 0;
  std::chrono::milliseconds rpc_timeout{5000};
  Transport transport;
  // --client_fault=no-cancel: the cases that cancel or time out half-close instead.
  bool no_cancel = false;
  // --client_fault=with-certificate: the security case presents the certificate after all.
  bool with_certificate = false;
  // --client_fault=no-checks: every case makes its calls and checks nothing.
  bool no_checks = false;
  // What the running case reports for the runner to judge (the result line's "observed").
  std::optional<Json>* observed = nullptr;

  // host:port, IPv6 literals in brackets.
  std::string Address() const;

  // The channel arguments of every case's channel (the TLS name override).
  grpc::ChannelArguments Arguments() const;

  // A new channel to the target (or to another target string), with the transport's credentials.
  std::shared_ptr<grpc::Channel> Dial() const;
  std::shared_ptr<grpc::Channel> Dial(const std::string& target, const grpc::ChannelArguments& args,
                                      bool with_certificate = true) const;

  // Gives the context the --rpc_timeout_ms deadline, from now.
  void SetDeadline(grpc::ClientContext& context) const;

  void Report(Json what) const {
    if (observed) *observed = std::move(what);
  }
};

}  // namespace interop
