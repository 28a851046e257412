// An instruction of the generic executor (docs/peer-contract.md, "Client: the generic
// executor"), read and checked, its requests converted with the library's own means.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "interop/scripted.pb.h"
#include "result.h"

namespace interop::scripted {

// An instruction the executor cannot run: the case fails.
struct BadInstruction : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The longest deadline an instruction may give: 366 days, in ms.
constexpr int64_t kMaxTimeoutMs = 31'622'400'000;

struct CallMetadatum {
  std::string key;
  std::string value;  // a -bin key's bytes as they are
};

// One call an instruction makes (its own, or a follow-up), ready to make.
struct PlannedCall {
  std::string method;  // Unary, ServerStream, ClientStream or BidiStream
  std::vector<CallMetadatum> metadata;
  std::optional<int64_t> timeout_ms;
  std::vector<ScriptedRequest> requests;
  // The library refusing a request (JSON conversion): the call is not made, and this is what
  // it gave (local_error).
  std::optional<std::string> refused;
  // The instruction's own call only.
  std::optional<std::string> compression;
  std::optional<int64_t> cancel_after;
  int64_t after_ms = 0;  // follow-ups only
};

struct ChannelOptions {
  std::optional<int64_t> max_receive_message_length, max_send_message_length;
  std::optional<std::string> compression, server_name, target, authority, lb_policy;
  std::optional<int64_t> keepalive_time_ms, keepalive_timeout_ms;
  std::optional<bool> keepalive_permit_without_calls;
  std::optional<std::vector<std::string>> addresses;
};

struct Plan {
  PlannedCall call;
  std::vector<PlannedCall> followups;
  bool has_followups = false;  // "followups" given (an empty list included)
  std::optional<ChannelOptions> channel;
  int concurrent = 1;
};

// The runner writes a lone UTF-16 surrogate in a request string as its JSON escape (\ud800),
// which the JSON reader refuses; it is kept as a marker until the request's text goes to the
// library's own JSON parser, which judges it.
std::string HideLoneSurrogates(const std::string& json_text);

// Reads an instruction; under `lenient` (scripted-lenient) "cleans" its own call first. {run}
// in the requests' strings becomes token. Throws BadInstruction.
Plan ParseInstruction(const Json& instruction, bool lenient, const std::string& token);

}  // namespace interop::scripted
