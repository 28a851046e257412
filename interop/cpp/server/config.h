// The server's command line (docs/peer-contract.md, "Server" and "Transports").
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "faults.h"

namespace interop {

// A bad command line: the server writes the message on stderr and exits 2.
struct FlagError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TlsConfig {
  bool use_tls = false;
  bool require_client_cert = false;
  // Absolute paths, resolved against the repository root when given as defaults.
  std::string cert_file, key_file, client_ca_file;
};

struct Config {
  std::string host = "127.0.0.1";
  int port = 0;
  int workers = 1;
  Faults faults;
  std::optional<int> max_receive, max_send;
  bool ipv6_loopback = false;
  std::string second_host;
  std::string unix_socket;
  // The connection lifecycle flags given, as (flag name, value), in the contract's order.
  std::vector<std::pair<std::string, int>> lifecycle;
  std::optional<bool> keepalive_permit_without_calls;
  TlsConfig tls;
  // Internal --worker_parent: this process is a worker of that --workers parent.
  int worker_parent = 0;

  // How many processes to start besides this one.
  int ExtraWorkers() const;
  // Whether the port is shared between processes (SO_REUSEPORT).
  bool ReusePort() const { return ExtraWorkers() > 0 || worker_parent != 0; }
  // The flags that start a worker of this server on port.
  std::vector<std::string> WorkerArgs(int port, int parent_pid) const;
};

// Parses argv; throws FlagError.
Config ParseFlags(int argc, char** argv);

}  // namespace interop
