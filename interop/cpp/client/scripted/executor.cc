#include "scripted/executor.h"

#include <grpc/compression.h>

#include <climits>
#include <future>
#include <random>
#include <thread>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "interop/scripted.grpc.pb.h"
#include "scripted/instruction.h"
#include "scripted/observe.h"

namespace interop::scripted {
namespace {

constexpr char kStatusDetailsKey[] = "grpc-status-details-bin";
constexpr char kRequestInfoKey[] = "x-scripted-request-info-bin";

// The token that replaces {run} in one run of an instruction: 16 random hex digits.
std::string RunToken() {
  std::random_device device;
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes += static_cast<char>(device() & 0xff);
  return Hex(bytes);
}

int Clamped(int64_t n) { return static_cast<int>(std::min<int64_t>(n, INT_MAX)); }

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// Why gRPC core would refuse the metadatum (FilterStackCall::PrepareApplicationMetadata:
// grpc_validate_header_key_is_legal, grpc_validate_header_nonbin_value_is_legal), or "".
std::string InvalidMetadatum(const CallMetadatum& m) {
  if (m.key.empty()) return "Metadata keys cannot be zero length";
  for (unsigned char c : m.key) {
    bool legal = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '_' || c == '.';
    if (!legal) return "Illegal header key";
  }
  bool binary = m.key.size() > 4 && m.key.compare(m.key.size() - 4, 4, "-bin") == 0;
  if (!binary) {
    for (unsigned char c : m.value) {
      if (c < 0x20 || c > 0x7e) return "Illegal header value";
    }
  }
  return "";
}

Json StatusJson(const grpc::Status& status) {
  Json out;
  out["code"] = static_cast<int>(status.error_code());
  out["message"] = status.error_message();
  return out;
}

// The rich error details through the library's API (grpc::Status::error_details, the
// grpc-status-details-bin it kept, as google.rpc.Status), absent without details.
std::optional<Json> Details(const grpc::Status& status) {
  if (status.error_details().empty()) return std::nullopt;
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) {
    Json out;
    out["error"] = "grpc-status-details-bin is not a google.rpc.Status";
    return out;
  }
  if (rich.details_size() == 0) return std::nullopt;
  Json out;
  out["status"] = EncodeMessage(rich);
  return out;
}

// The deadline of one call: timeout_ms from now (0: a second ago), or the default.
std::chrono::system_clock::time_point Deadline(const PlannedCall& c, const Options& o) {
  auto now = std::chrono::system_clock::now();
  if (!c.timeout_ms || o.deadline_ignored) return now + o.default_timeout;
  if (*c.timeout_ms == 0) return now - std::chrono::seconds(1);
  return now + std::chrono::milliseconds(*c.timeout_ms);
}

// Makes one call and returns what the library gave.
Json Observe(const std::shared_ptr<grpc::Channel>& channel, const PlannedCall& c, const Options& o) {
  Json obs = Json::object();
  if (c.refused) {
    obs["local_error"] = *c.refused;
    return obs;
  }
  // gRPC C++ has no error for metadata core refuses: grpc_call_start_batch answers
  // GRPC_CALL_ERROR_INVALID_METADATA and the C++ API aborts the process ("API misuse",
  // CallOpSet::ContinueFillOpsAfterInterception). The application has to check first.
  for (const auto& m : c.metadata) {
    if (std::string why = InvalidMetadatum(m); !why.empty()) {
      obs["local_error"] = "metadata " + m.key + ": " + why +
                           " (grpc_call_start_batch: GRPC_CALL_ERROR_INVALID_METADATA, on which gRPC C++ aborts the process)";
      return obs;
    }
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(c, o));
  for (const auto& m : c.metadata) ctx.AddMetadata(m.key, m.value);  // one by one: added, never joined
  if (c.compression) {
    grpc_compression_algorithm algorithm;
    if (!grpc_compression_algorithm_parse(grpc_slice_from_static_string(c.compression->c_str()), &algorithm)) {
      obs["local_error"] = "gRPC C++ has no compression algorithm \"" + *c.compression +
                           "\" (ClientContext::set_compression_algorithm takes a grpc_compression_algorithm)";
      return obs;
    }
    ctx.set_compression_algorithm(algorithm);
  }

  Scripted::Stub stub(channel);
  Json responses = Json::array();
  grpc::Status status;
  bool cancelled = false;
  auto cancel = [&] {
    ctx.TryCancel();
    cancelled = true;
  };
  auto received = [&](const ScriptedResponse& response) {
    if (cancelled) return;  // after the cancel: read to get to the status, not counted
    responses.push_back(EncodeMessage(response));
    if (c.cancel_after && static_cast<int64_t>(responses.size()) == *c.cancel_after) cancel();
  };
  ScriptedResponse response;
  if (c.method == "Unary") {
    if (c.cancel_after && *c.cancel_after == 0) {
      // The blocking call cannot be cancelled once sent: the callback API can.
      std::promise<grpc::Status> done;
      stub.async()->Unary(&ctx, &c.requests[0], &response, [&](grpc::Status s) { done.set_value(std::move(s)); });
      cancel();
      status = done.get_future().get();
    } else {
      status = stub.Unary(&ctx, c.requests[0], &response);
    }
    if (status.ok()) received(response);
  } else if (c.method == "ServerStream") {
    auto reader = stub.ServerStream(&ctx, c.requests[0]);
    if (c.cancel_after && *c.cancel_after == 0) cancel();
    while (reader->Read(&response)) received(response);
    status = reader->Finish();
  } else if (c.method == "ClientStream") {
    auto writer = stub.ClientStream(&ctx, &response);
    for (const auto& request : c.requests) {
      if (!writer->Write(request)) break;  // the server ended the call: Finish gives its status
    }
    writer->WritesDone();
    if (c.cancel_after && *c.cancel_after == 0) cancel();
    status = writer->Finish();
    if (status.ok()) received(response);
  } else {
    auto stream = stub.BidiStream(&ctx);
    for (const auto& request : c.requests) {
      if (!stream->Write(request)) break;
    }
    stream->WritesDone();
    if (c.cancel_after && *c.cancel_after == 0) cancel();
    while (stream->Read(&response)) received(response);
    status = stream->Finish();
  }

  obs["headers"] = EncodeMetadata(ctx.GetServerInitialMetadata());
  if (!responses.empty()) obs["responses"] = responses;
  obs["status"] = StatusJson(status);
  const auto& trailers = ctx.GetServerTrailingMetadata();
  obs["trailers"] = EncodeMetadata(trailers, {kStatusDetailsKey, kRequestInfoKey});
  if (auto details = Details(status)) obs["details"] = *details;
  if (auto info = trailers.find(kRequestInfoKey); info != trailers.end()) {
    RequestInfo decoded;
    if (decoded.ParseFromArray(info->second.data(), static_cast<int>(info->second.size()))) {
      obs["request_info"] = EncodeMessage(decoded);
    } else {
      obs["request_info"] = Json{{"error", "x-scripted-request-info-bin is not a RequestInfo"}};
    }
  }
  return obs;
}

// The arguments common to every channel of the executor: the server name its certificate must
// match (--server_host_override, or the instruction's channel.server_name), and under
// scripted-client-limits-ignored no message size limits. An argument is given once: core reads
// the first of two with the same name.
grpc::ChannelArguments BaseArguments(const Options& o, const std::optional<std::string>& server_name = std::nullopt) {
  grpc::ChannelArguments args;
  std::string name = server_name.value_or(o.transport.server_host_override);
  if (o.transport.tls && !name.empty()) args.SetSslTargetNameOverride(name);
  if (o.limits_ignored) {
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
  }
  return args;
}

std::string HostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

// The instruction's own channel, with its options as gRPC C++ channel arguments.
std::shared_ptr<grpc::Channel> OwnChannel(const ChannelOptions& ch, const Options& o) {
  std::string port = std::to_string(o.port);
  auto fill = [&](std::string text) {
    text = Replace(std::move(text), "{host}", o.host);
    text = Replace(std::move(text), "{port}", port);
    return Replace(std::move(text), "{unix_socket}", o.unix_socket);
  };
  std::string target = HostPort(o.host, o.port);
  if (!o.target_ignored && ch.addresses) {
    target = "ipv4:";
    for (size_t i = 0; i < ch.addresses->size(); ++i) target += (i ? "," : "") + fill((*ch.addresses)[i]);
  } else if (!o.target_ignored && ch.target) {
    if (ch.target->find("{unix_socket}") != std::string::npos && o.unix_socket.empty()) {
      throw BadInstruction("channel.target \"" + *ch.target + "\" names {unix_socket}, and the client was given no --server_unix_socket");
    }
    target = fill(*ch.target);
  }
  bool named = ch.server_name && !o.server_name_ignored;
  grpc::ChannelArguments args = BaseArguments(o, named ? ch.server_name : std::nullopt);
  // A channel of its own: gRPC C++ would otherwise hand it the connection of an earlier channel
  // with the same target and arguments from its global subchannel pool.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (!o.limits_ignored) {
    if (ch.max_receive_message_length) args.SetMaxReceiveMessageSize(Clamped(*ch.max_receive_message_length));
    if (ch.max_send_message_length) args.SetMaxSendMessageSize(Clamped(*ch.max_send_message_length));
  }
  if (ch.compression) {
    grpc_compression_algorithm algorithm = GRPC_COMPRESS_NONE;
    grpc_compression_algorithm_parse(grpc_slice_from_static_string(ch.compression->c_str()), &algorithm);
    args.SetCompressionAlgorithm(algorithm);
  }
  if (ch.authority && !o.authority_ignored) args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, *ch.authority);
  if (ch.keepalive_time_ms) args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, Clamped(*ch.keepalive_time_ms));
  if (ch.keepalive_timeout_ms) args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Clamped(*ch.keepalive_timeout_ms));
  if (ch.keepalive_permit_without_calls) args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, *ch.keepalive_permit_without_calls ? 1 : 0);
  if (ch.lb_policy) args.SetServiceConfigJSON("{\"loadBalancingConfig\":[{\"" + *ch.lb_policy + "\":{}}]}");
  return grpc::CreateCustomChannel(target, o.transport.Credentials(), args);
}

}  // namespace

Options OptionsOf(const Config& cfg) {
  Options o;
  o.lenient = cfg.fault == ClientFault::kScriptedLenient;
  o.deadline_ignored = cfg.fault == ClientFault::kScriptedDeadlineIgnored;
  o.server_name_ignored = cfg.fault == ClientFault::kScriptedServerNameIgnored;
  o.target_ignored = cfg.fault == ClientFault::kScriptedTargetIgnored;
  o.authority_ignored = cfg.fault == ClientFault::kScriptedAuthorityIgnored;
  o.limits_ignored = cfg.fault == ClientFault::kScriptedClientLimitsIgnored;
  o.host = cfg.host;
  o.port = cfg.port;
  o.unix_socket = cfg.server_unix_socket;
  o.transport = cfg.transport;
  o.default_timeout = cfg.rpc_timeout;
  return o;
}

std::shared_ptr<grpc::Channel> Executor::Shared() {
  if (!shared_) {
    shared_ = grpc::CreateCustomChannel(HostPort(options_.host, options_.port), options_.transport.Credentials(),
                                        BaseArguments(options_));
  }
  return shared_;
}

Json Executor::Execute(const Json& instruction) {
  // The Any types of google.rpc (error details) must be in the generated pool to be unpacked:
  // referencing them links their descriptors in from the static library.
  google::rpc::ErrorInfo::descriptor();
  Plan plan = ParseInstruction(instruction, options_.lenient, RunToken());
  std::shared_ptr<grpc::Channel> channel;
  bool makes_calls = !plan.call.refused || !plan.followups.empty();
  channel = plan.channel && makes_calls ? OwnChannel(*plan.channel, options_) : Shared();

  std::vector<Json> observed(plan.concurrent);
  if (plan.concurrent == 1) {
    observed[0] = Observe(channel, plan.call, options_);
  } else {
    // Every call started before any is awaited: one thread each, as the blocking API needs.
    std::vector<std::thread> threads;
    for (int i = 0; i < plan.concurrent; ++i) {
      threads.emplace_back([&, i] {
        try {
          observed[i] = Observe(channel, plan.call, options_);
        } catch (const std::exception& e) {
          observed[i] = Json{{"local_error", std::string("executor: ") + e.what()}};
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  Json obs = observed[0];
  if (plan.concurrent > 1) obs["concurrent"] = Json(std::vector<Json>(observed.begin() + 1, observed.end()));
  if (plan.has_followups) {
    Json followups = Json::array();
    for (const auto& f : plan.followups) {
      std::this_thread::sleep_for(std::chrono::milliseconds(f.after_ms));
      followups.push_back(Observe(channel, f, options_));
    }
    obs["followups"] = followups;
  }
  return obs;
}

}  // namespace interop::scripted
