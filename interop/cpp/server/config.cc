#include "config.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <map>

namespace interop {
namespace {

constexpr int kMaxWorkers = 64;

// The integer lifecycle flags, in the contract's order.
const char* const kLifecycleFlags[] = {
    "max_concurrent_streams", "max_connection_age_ms", "max_connection_age_grace_ms",
    "max_connection_idle_ms", "keepalive_time_ms",     "keepalive_timeout_ms",
    "keepalive_min_time_ms",
};

bool IsDir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string Parent(const std::string& dir) {
  auto slash = dir.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return dir.substr(0, slash);
}

// The repository root (a directory holding protos/ and package.json), walking up from the
// executable's directory, then from the working directory, as the Go peer does.
std::string RepoRoot() {
  std::vector<std::string> starts;
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) starts.push_back(Parent(std::string(buf, n)));
  if (getcwd(buf, sizeof buf) != nullptr) starts.push_back(buf);
  for (auto dir : starts) {
    for (;;) {
      if (IsDir(dir + "/protos") && IsFile(dir + "/package.json")) return dir;
      if (dir == "/") break;
      dir = Parent(dir);
    }
  }
  throw FlagError("no repository root (a directory with protos/ and package.json) above the executable or the working directory");
}

// A path flag: a given relative path is taken from the working directory, a default one from
// the repository root. The file must exist.
std::string FlagPath(const std::string& value, bool given, const std::string& flag) {
  std::string path = value;
  if (!path.empty() && path[0] != '/') {
    if (given) {
      char buf[PATH_MAX];
      if (getcwd(buf, sizeof buf) != nullptr) path = std::string(buf) + "/" + path;
    } else {
      path = RepoRoot() + "/" + path;
    }
  }
  if (!IsFile(path)) throw FlagError("--" + flag + ": no such file: " + path);
  return path;
}

long ParseInt(const std::string& flag, const std::string& text, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0) {
    throw FlagError("--" + flag + ": not an integer: \"" + text + "\"");
  }
  if (v < lo || v > hi) {
    throw FlagError("--" + flag + " must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + text);
  }
  return v;
}

bool ParseBool(const std::string& flag, const std::string& text) {
  if (text == "true" || text == "1" || text == "True" || text == "TRUE" || text == "t") return true;
  if (text == "false" || text == "0" || text == "False" || text == "FALSE" || text == "f") return false;
  throw FlagError("--" + flag + ": not a boolean: \"" + text + "\"");
}

bool IsIPv4(const std::string& text) {
  in_addr addr;
  return inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

}  // namespace

int Config::ExtraWorkers() const {
  if (faults.Has("single-worker")) return 0;
  return workers - 1;
}

std::vector<std::string> Config::WorkerArgs(int bound_port, int parent_pid) const {
  std::vector<std::string> args = {
      "--host=" + host,
      "--port=" + std::to_string(bound_port),
      "--fault=" + faults.String(),
      "--worker_parent=" + std::to_string(parent_pid),
      std::string("--use_tls=") + (tls.use_tls ? "true" : "false"),
  };
  if (tls.use_tls) {
    args.push_back("--tls_cert_file=" + tls.cert_file);
    args.push_back("--tls_key_file=" + tls.key_file);
    args.push_back(std::string("--require_client_cert=") + (tls.require_client_cert ? "true" : "false"));
    if (tls.require_client_cert) args.push_back("--client_ca_file=" + tls.client_ca_file);
  }
  if (max_receive) args.push_back("--max_receive_message_length=" + std::to_string(*max_receive));
  if (max_send) args.push_back("--max_send_message_length=" + std::to_string(*max_send));
  for (const auto& [name, value] : lifecycle) args.push_back("--" + name + "=" + std::to_string(value));
  if (keepalive_permit_without_calls) {
    args.push_back(std::string("--keepalive_permit_without_calls=") + (*keepalive_permit_without_calls ? "true" : "false"));
  }
  return args;
}

Config ParseFlags(int argc, char** argv) {
  static const char* const kBoolFlags[] = {"use_tls", "require_client_cert", "ipv6_loopback",
                                           "keepalive_permit_without_calls"};
  static const char* const kValueFlags[] = {
      "port", "host", "workers", "max_receive_message_length", "max_send_message_length",
      "second_host", "unix_socket", "fault", "tls_cert_file", "tls_key_file", "client_ca_file",
      "worker_parent"};
  std::map<std::string, std::string> given;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 && arg.rfind("-", 0) == 0) arg = "-" + arg;
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) throw FlagError("unexpected argument \"" + arg + "\"");
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    bool is_bool = false, known = false;
    for (const char* f : kBoolFlags) is_bool |= name == f;
    for (const char* f : kValueFlags) known |= name == f;
    for (const char* f : kLifecycleFlags) known |= name == f;
    if (!is_bool && !known) throw FlagError("unknown flag --" + name);
    if (!has_value) {
      if (is_bool) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        throw FlagError("flag --" + name + " needs a value");
      }
    }
    given[name] = value;
  }
  auto has = [&](const char* name) { return given.count(name) > 0; };

  Config cfg;
  if (!has("port")) throw FlagError("--port is required");
  cfg.port = static_cast<int>(ParseInt("port", given["port"], 0, 65535));
  if (has("host")) cfg.host = given["host"];
  if (cfg.host.empty()) throw FlagError("--host must not be empty");
  if (has("workers")) cfg.workers = static_cast<int>(ParseInt("workers", given["workers"], 1, kMaxWorkers));
  std::string fault_error;
  if (!Faults::Parse(given["fault"], &cfg.faults, &fault_error)) throw FlagError(fault_error);
  if (has("worker_parent")) {
    cfg.worker_parent = static_cast<int>(ParseInt("worker_parent", given["worker_parent"], 1, INT_MAX));
    if (cfg.workers != 1) throw FlagError("--worker_parent is internal: it takes a pid and no --workers");
  }
  if (has("max_receive_message_length")) {
    cfg.max_receive = static_cast<int>(ParseInt("max_receive_message_length", given["max_receive_message_length"], 0, INT_MAX));
  }
  if (has("max_send_message_length")) {
    cfg.max_send = static_cast<int>(ParseInt("max_send_message_length", given["max_send_message_length"], 0, INT_MAX));
  }
  if (has("ipv6_loopback")) cfg.ipv6_loopback = ParseBool("ipv6_loopback", given["ipv6_loopback"]);
  if (has("second_host")) {
    cfg.second_host = given["second_host"];
    if (!IsIPv4(cfg.second_host)) {
      throw FlagError("--second_host must be an IPv4 address (e.g. 127.0.0.2), got \"" + cfg.second_host + "\"");
    }
  }
  if (has("unix_socket")) {
    cfg.unix_socket = given["unix_socket"];
    if (cfg.unix_socket.empty()) throw FlagError("--unix_socket must not be empty");
  }
  const std::string workers_note = " does not go with --workers (got --workers=" + std::to_string(cfg.workers) + ")";
  if (cfg.workers > 1) {
    if (cfg.ipv6_loopback) throw FlagError("--ipv6_loopback" + workers_note);
    if (!cfg.second_host.empty()) throw FlagError("--second_host" + workers_note);
    if (!cfg.unix_socket.empty()) throw FlagError("--unix_socket" + workers_note);
  }
  for (const char* name : kLifecycleFlags) {
    if (has(name)) cfg.lifecycle.emplace_back(name, static_cast<int>(ParseInt(name, given[name], 0, INT_MAX)));
  }
  if (has("keepalive_permit_without_calls")) {
    cfg.keepalive_permit_without_calls = ParseBool("keepalive_permit_without_calls", given["keepalive_permit_without_calls"]);
  }

  cfg.tls.use_tls = has("use_tls") && ParseBool("use_tls", given["use_tls"]);
  cfg.tls.require_client_cert = has("require_client_cert") && ParseBool("require_client_cert", given["require_client_cert"]);
  if (!cfg.tls.use_tls) {
    if (cfg.tls.require_client_cert) throw FlagError("--require_client_cert=true needs --use_tls=true");
    return cfg;
  }
  auto path = [&](const char* name, const char* default_path) {
    return FlagPath(has(name) ? given[name] : default_path, has(name), name);
  };
  cfg.tls.cert_file = path("tls_cert_file", "certs/server.pem");
  cfg.tls.key_file = path("tls_key_file", "certs/server.key");
  if (cfg.tls.require_client_cert) cfg.tls.client_ca_file = path("client_ca_file", "certs/ca.pem");
  return cfg;
}

}  // namespace interop
