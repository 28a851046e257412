#include "config.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "paths.h"
#include "scripted/instruction.h"

namespace interop {
namespace {

const std::vector<std::pair<std::string, ClientFault>> kFaults = {
    {"no-cancel", ClientFault::kNoCancel},
    {"with-certificate", ClientFault::kWithCertificate},
    {"no-checks", ClientFault::kNoChecks},
    {"scripted-lenient", ClientFault::kScriptedLenient},
    {"scripted-deadline-ignored", ClientFault::kScriptedDeadlineIgnored},
    {"scripted-server-name-ignored", ClientFault::kScriptedServerNameIgnored},
    {"scripted-target-ignored", ClientFault::kScriptedTargetIgnored},
    {"scripted-authority-ignored", ClientFault::kScriptedAuthorityIgnored},
    {"scripted-client-limits-ignored", ClientFault::kScriptedClientLimitsIgnored},
};

const std::vector<std::string> kMeasurements = {"unary", "server_streaming"};

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string::size_type start = 0;
  for (;;) {
    auto end = text.find(sep, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// strconv.ParseBool's spellings.
std::optional<bool> ParseBool(const std::string& v) {
  static const std::set<std::string> yes = {"1", "t", "T", "TRUE", "true", "True"};
  static const std::set<std::string> no = {"0", "f", "F", "FALSE", "false", "False"};
  if (yes.count(v)) return true;
  if (no.count(v)) return false;
  return std::nullopt;
}

std::optional<long long> ParseInt(const std::string& v) {
  if (v.empty()) return std::nullopt;
  try {
    size_t used = 0;
    long long n = std::stoll(v, &used, 0);
    if (used != v.size()) return std::nullopt;
    return n;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The flags as Go's flag package reads them: the values as text, the names given.
class FlagSet {
 public:
  void Bool(const std::string& name, bool* target) { bools_[name] = target; }
  void String(const std::string& name, std::string* target) { strings_[name] = target; }
  void Int(const std::string& name, long long* target) { ints_[name] = target; }
  bool IsSet(const std::string& name) const { return set_.count(name) > 0; }

  void Parse(const std::vector<std::string>& args) {
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& arg = args[i];
      if (arg.size() < 2 || arg[0] != '-') throw FlagError("unexpected argument \"" + arg + "\"");
      if (arg == "--") {
        if (i + 1 < args.size()) throw FlagError("unexpected argument \"" + args[i + 1] + "\"");
        return;
      }
      std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
      if (body.empty() || body[0] == '-' || body[0] == '=') throw FlagError("bad flag syntax: " + arg);
      auto eq = body.find('=');
      std::string name = body.substr(0, eq);
      std::optional<std::string> value;
      if (eq != std::string::npos) value = body.substr(eq + 1);
      if (name == "h" || name == "help") {
        if (!bools_.count(name) && !strings_.count(name) && !ints_.count(name)) throw HelpRequested();
      }
      if (auto b = bools_.find(name); b != bools_.end()) {
        if (!value) {
          *b->second = true;
        } else if (auto parsed = ParseBool(*value)) {
          *b->second = *parsed;
        } else {
          throw FlagError("invalid boolean value \"" + *value + "\" for -" + name + ": parse error");
        }
      } else if (strings_.count(name) || ints_.count(name)) {
        if (!value) {
          if (i + 1 >= args.size()) throw FlagError("flag needs an argument: -" + name);
          value = args[++i];
        }
        if (auto s = strings_.find(name); s != strings_.end()) {
          *s->second = *value;
        } else if (auto n = ParseInt(*value)) {
          *ints_[name] = *n;
        } else {
          throw FlagError("invalid value \"" + *value + "\" for flag -" + name + ": parse error");
        }
      } else {
        throw FlagError("flag provided but not defined: -" + name);
      }
      set_.insert(name);
    }
  }

 private:
  std::map<std::string, bool*> bools_;
  std::map<std::string, std::string*> strings_;
  std::map<std::string, long long*> ints_;
  std::set<std::string> set_;
};

long long InRange(const std::string& name, long long value, long long lo, long long hi) {
  if (value < lo || value > hi) {
    throw FlagError("--" + name + " must be in " + std::to_string(lo) + ".." + std::to_string(hi) +
                    ", got " + std::to_string(value));
  }
  return value;
}

std::string ReadFlagFile(const std::string& path) {
  try {
    return ReadFile(path);
  } catch (const std::exception& e) {
    throw FlagError(e.what());
  }
}

}  // namespace

std::shared_ptr<grpc::ChannelCredentials> Transport::Credentials(bool with_certificate) const {
  if (!tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca_pem;
  if (with_certificate) {
    options.pem_private_key = key_pem;
    options.pem_cert_chain = cert_pem;
  }
  return grpc::SslCredentials(options);
}

std::string Usage() {
  return "usage: client --server_host=H --server_port=P --test_case=NAME[,NAME...]\n"
         "       [--use_tls=false] [--use_test_ca=false] [--ca_file=certs/ca.pem]\n"
         "       [--server_host_override=NAME] [--client_cert_file=F --client_key_file=F]\n"
         "       [--rpc_timeout_ms=5000] [--cases_file=PATH] [--server_unix_socket=PATH]\n"
         "       [--client_fault=NAME]\n"
         "   or: client --executor (the runs' flags come on stdin, one JSON line each)\n";
}

Config ParseFlags(const std::vector<std::string>& args) {
  Config cfg;
  std::string test_cases, bench, client_fault, cases_file, ca_file = "certs/ca.pem";
  std::string cert_file, key_file;
  long long port = 0, timeout_ms = 5000;
  long long calls = cfg.load.calls, warmup = cfg.load.warmup, messages = cfg.load.messages,
            size = cfg.load.size, time_limit_ms = cfg.load.time_limit.count();
  bool use_tls = false, use_test_ca = false;

  FlagSet fs;
  fs.String("server_host", &cfg.host);
  fs.Int("server_port", &port);
  fs.String("server_unix_socket", &cfg.server_unix_socket);
  fs.String("test_case", &test_cases);
  fs.String("bench", &bench);
  fs.Int("bench_calls", &calls);
  fs.Int("bench_warmup", &warmup);
  fs.Int("bench_messages", &messages);
  fs.Int("bench_size", &size);
  fs.Int("bench_time_limit_ms", &time_limit_ms);
  fs.Bool("use_tls", &use_tls);
  fs.Bool("use_test_ca", &use_test_ca);
  fs.String("ca_file", &ca_file);
  fs.String("server_host_override", &cfg.transport.server_host_override);
  fs.String("client_cert_file", &cert_file);
  fs.String("client_key_file", &key_file);
  fs.String("cases_file", &cases_file);
  fs.Int("rpc_timeout_ms", &timeout_ms);
  fs.String("client_fault", &client_fault);
  fs.Parse(args);

  if (cfg.host.empty()) throw FlagError("--server_host must not be empty");
  if (port < 1 || port > 65535) {
    throw FlagError("--server_port is required, in 1..65535 (got " + std::to_string(port) + ")");
  }
  cfg.port = static_cast<int>(port);
  if (fs.IsSet("server_unix_socket") && cfg.server_unix_socket.empty()) {
    throw FlagError("--server_unix_socket must not be empty");
  }
  if (timeout_ms <= 0 || timeout_ms > 366LL * 24 * 3600 * 1000) {
    throw FlagError("--rpc_timeout_ms must be positive, got " + std::to_string(timeout_ms));
  }
  cfg.rpc_timeout = std::chrono::milliseconds(timeout_ms);
  if (!client_fault.empty()) {
    auto known = std::find_if(kFaults.begin(), kFaults.end(), [&](auto& f) { return f.first == client_fault; });
    if (known == kFaults.end()) {
      std::vector<std::string> names;
      for (auto& f : kFaults) names.push_back(f.first);
      throw FlagError("unknown --client_fault \"" + client_fault + "\" (known: " + Join(names, ", ") + ")");
    }
    cfg.fault = known->second;
  }

  if (fs.IsSet("bench") && fs.IsSet("test_case")) {
    throw FlagError("--bench and --test_case exclude each other: give one of them");
  }
  if (fs.IsSet("bench")) {
    cfg.bench = Split(bench, ',');
    for (auto& name : cfg.bench) {
      if (std::find(kMeasurements.begin(), kMeasurements.end(), name) == kMeasurements.end()) {
        throw FlagError("unknown --bench measurement \"" + name + "\" (known: " + Join(kMeasurements, ", ") + ")");
      }
    }
  } else {
    cfg.cases = Split(test_cases, ',');
    if (std::find(cfg.cases.begin(), cfg.cases.end(), "") != cfg.cases.end()) {
      throw FlagError("--test_case (or --bench) needs one or more comma-separated case names (got \"" + test_cases + "\")");
    }
  }

  if (!cases_file.empty()) {
    try {
      Json file = Json::parse(scripted::HideLoneSurrogates(ReadFile(ResolvePath(cases_file))));
      if (!file.is_object() || !file.contains("cases") || !file["cases"].is_object()) {
        throw std::runtime_error("expected {\"cases\": {NAME: INSTRUCTION, ...}}");
      }
      cfg.scripted = file["cases"];
    } catch (const std::exception& e) {
      throw FlagError(std::string("--cases_file: ") + e.what());
    }
  }

  cfg.load.calls = static_cast<int>(InRange("bench_calls", calls, 1, 10'000'000));
  cfg.load.warmup = static_cast<int>(InRange("bench_warmup", warmup, 0, 10'000'000));
  cfg.load.messages = static_cast<int>(InRange("bench_messages", messages, 1, 10'000'000));
  cfg.load.size = static_cast<int>(InRange("bench_size", size, 0, 4'000'000));
  cfg.load.time_limit = std::chrono::milliseconds(InRange("bench_time_limit_ms", time_limit_ms, 1, 3'600'000));

  if (cert_file.empty() != key_file.empty()) {
    throw FlagError("--client_cert_file and --client_key_file go together: give both or neither");
  }
  if (!use_tls && !cert_file.empty()) throw FlagError("--client_cert_file needs --use_tls=true");
  cfg.transport.tls = use_tls;
  try {
    if (use_tls && use_test_ca) cfg.transport.ca_pem = ReadFlagFile(FlagPath(ca_file, fs.IsSet("ca_file")));
    if (use_tls && !cert_file.empty()) {
      cfg.transport.cert_pem = ReadFlagFile(ResolvePath(cert_file));
      cfg.transport.key_pem = ReadFlagFile(ResolvePath(key_file));
    }
  } catch (const FlagError&) {
    throw;
  } catch (const std::exception& e) {
    throw FlagError(e.what());
  }
  return cfg;
}

}  // namespace interop
