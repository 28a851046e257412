// The client's command line (docs/peer-contract.md, "Client", "Transports", "Load mode" and
// "Client: the generic executor"), parsed with Go's flag syntax like the other clients:
// -name or --name, =value or a separate value (booleans only with =).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <grpcpp/security/credentials.h>

#include "result.h"

namespace interop {

// A bad command line: exit 2 with its reason.
struct FlagError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// -h or -help: the one-shot client prints its usage and exits 0.
struct HelpRequested : std::runtime_error {
  HelpRequested() : std::runtime_error("help requested") {}
};

// The transport as the flags describe it.
struct Transport {
  bool tls = false;
  std::string ca_pem;                // the test CA (--use_test_ca); empty: the system roots
  std::string cert_pem, key_pem;     // the client certificate (mTLS); both or neither
  std::string server_host_override;  // empty: the name is --server_host

  // The channel credentials, with or without the client certificate.
  std::shared_ptr<grpc::ChannelCredentials> Credentials(bool with_certificate = true) const;
};

struct Load {
  int calls = 2000, warmup = 200, messages = 20000, size = 16;
  std::chrono::milliseconds time_limit{20000};
};

// The self-test's --client_fault values.
enum class ClientFault {
  kNone,
  kNoCancel,
  kWithCertificate,
  kNoChecks,
  kScriptedLenient,
  kScriptedDeadlineIgnored,
  kScriptedServerNameIgnored,
  kScriptedTargetIgnored,
  kScriptedAuthorityIgnored,
  kScriptedClientLimitsIgnored,
};

struct Config {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string server_unix_socket;  // empty: not given
  std::vector<std::string> cases;
  std::vector<std::string> bench;  // the load mode's measurements; empty: run the cases
  Load load;
  std::chrono::milliseconds rpc_timeout{5000};
  Transport transport;
  ClientFault fault = ClientFault::kNone;
  // --cases_file's "cases": NAME → INSTRUCTION (the generic executor's).
  Json scripted = Json::object();
};

// Parses the flags; throws FlagError or HelpRequested.
Config ParseFlags(const std::vector<std::string>& args);

// The usage text (-help).
std::string Usage();

}  // namespace interop
