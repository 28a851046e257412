// interop.scripted.Scripted: the one generic handler of docs/peer-contract.md ("Server:
// interop.scripted.Scripted"), steps 1 to 8, with the scripted-* faults. Mirrors the Go peer's
// internal/scripted/server.go.
#include <grpc/support/time.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "google/rpc/status.pb.h"
#include "interop/scripted.grpc.pb.h"
#include "services.h"
#include "state.h"
#include "values.h"

namespace interop {
namespace {

using grpc::ServerContext;
using grpc::Status;
using grpc::StatusCode;
using scripted::Metadatum;
using scripted::RequestInfo;
using scripted::ScriptedRequest;
using scripted::ScriptedResponse;

constexpr char kRequestInfoKey[] = "x-scripted-request-info-bin";
constexpr char kStatusDetailsKey[] = "grpc-status-details-bin";
constexpr auto kReportWait = std::chrono::seconds(5);

// What the handler needs of a call, whatever its kind.
class CallIo {
 public:
  virtual ~CallIo() = default;
  // The next request; false after the client half-closed (or, unary and server-streaming, after
  // the one request), or when the read failed.
  virtual bool Read(ScriptedRequest* req) = 0;
  // The explicit "send initial metadata" call.
  virtual void SendInitialMetadata() = 0;
  // Sends one response of a server-streaming or bidi call.
  virtual bool Write(const ScriptedResponse& resp) = 0;
};

template <typename Stream>
class StreamIo final : public CallIo {
 public:
  explicit StreamIo(Stream* stream) : stream_(stream) {}
  bool Read(ScriptedRequest* req) override {
    if constexpr (std::is_same_v<Stream, grpc::ServerWriter<ScriptedResponse>>) {
      return false;
    } else {
      return stream_->Read(req);
    }
  }
  void SendInitialMetadata() override { stream_->SendInitialMetadata(); }
  bool Write(const ScriptedResponse& resp) override {
    if constexpr (std::is_same_v<Stream, grpc::ServerReader<ScriptedRequest>>) {
      return false;
    } else {
      return stream_->Write(resp);
    }
  }

 private:
  Stream* stream_;
};

// A server-streaming call's one request, already read by gRPC C++, then its stream.
class ServerStreamIo final : public CallIo {
 public:
  ServerStreamIo(const ScriptedRequest* first, grpc::ServerWriter<ScriptedResponse>* writer)
      : first_(first), writer_(writer) {}
  bool Read(ScriptedRequest* req) override {
    if (first_ == nullptr) return false;
    *req = *first_;
    first_ = nullptr;
    return true;
  }
  void SendInitialMetadata() override { writer_->SendInitialMetadata(); }
  bool Write(const ScriptedResponse& resp) override { return writer_->Write(resp); }

 private:
  const ScriptedRequest* first_;
  grpc::ServerWriter<ScriptedResponse>* writer_;
};

// A unary call as a streamed unary method (ServerUnaryStreamer), which has gRPC C++'s explicit
// SendInitialMetadata; a plain sync unary handler has none.
class UnaryIo final : public CallIo {
 public:
  explicit UnaryIo(grpc::ServerUnaryStreamer<ScriptedRequest, ScriptedResponse>* streamer) : streamer_(streamer) {}
  bool Read(ScriptedRequest* req) override {
    if (read_) return false;
    read_ = true;
    return streamer_->Read(req);
  }
  void SendInitialMetadata() override { streamer_->SendInitialMetadata(); }
  bool Write(const ScriptedResponse& resp) override { return streamer_->Write(resp); }

 private:
  grpc::ServerUnaryStreamer<ScriptedRequest, ScriptedResponse>* streamer_;
  bool read_ = false;
};

// A header key core accepts (src/core/lib/surface/validate_metadata.cc, grpc_header_key_is_legal).
bool LegalKey(const std::string& key) {
  if (key.empty() || key[0] == ':') return false;
  for (unsigned char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

// A text value core accepts (grpc_header_nonbin_value_is_legal: printable ASCII).
bool LegalTextValue(const std::string& value) {
  for (unsigned char c : value) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

bool EndsWithBin(const std::string& key) {
  return key.size() >= 4 && key.compare(key.size() - 4, 4, "-bin") == 0;
}

bool HasPrefix(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

std::string Mangled(const std::string& message) {
  std::string out;
  for (size_t i = 0; i < message.size();) {
    unsigned char c = message[i];
    size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (c == '%') {
      out += "%%";
    } else if (c < 0x20 || c > 0x7E) {
      out += '?';
    } else {
      out += static_cast<char>(c);
    }
    i += len;
  }
  return out;
}

// One call's cancellation as its handler sees it; under scripted-cancel-ignored it never looks.
struct Watcher {
  Watcher(ServerContext* c, bool ignore) : ctx(c), ignored(ignore) {}

  ServerContext* ctx;
  bool ignored;
  bool cancelled = false;
  std::shared_ptr<CallRecord> record;

  bool IsCancelled() const { return !ignored && ctx->IsCancelled(); }
  Status Stop() {
    cancelled = true;
    return Status(StatusCode::CANCELLED, "scripted: the call was cancelled");
  }
  // A read or send that failed: stop as cancelled when the call is, else end with failure.
  Status Failed(Status failure) {
    if (IsCancelled()) return Stop();
    return failure;
  }
};

class Scripted final : public scripted::Scripted::WithStreamedUnaryMethod_Unary<scripted::Scripted::Service> {
 public:
  Scripted(const Faults& faults, RestartFn restart) : faults_(faults), restart_(std::move(restart)) {}

  Status StreamedUnary(ServerContext* ctx,
                       grpc::ServerUnaryStreamer<ScriptedRequest, ScriptedResponse>* streamer) override {
    UnaryIo io(streamer);
    ScriptedResponse resp;
    bool has_response = false;
    Status s = Handle(ctx, &io, false, false, &resp, &has_response);
    if (s.ok() && has_response && !streamer->Write(resp)) return Status(StatusCode::CANCELLED, "write failed");
    return s;
  }

  Status ServerStream(ServerContext* ctx, const ScriptedRequest* req,
                      grpc::ServerWriter<ScriptedResponse>* writer) override {
    ServerStreamIo io(req, writer);
    return Handle(ctx, &io, false, true, nullptr, nullptr);
  }

  Status ClientStream(ServerContext* ctx, grpc::ServerReader<ScriptedRequest>* reader,
                      ScriptedResponse* resp) override {
    StreamIo<grpc::ServerReader<ScriptedRequest>> io(reader);
    bool has_response = false;
    return Handle(ctx, &io, true, false, resp, &has_response);
  }

  Status BidiStream(ServerContext* ctx,
                    grpc::ServerReaderWriter<ScriptedResponse, ScriptedRequest>* stream) override {
    StreamIo<grpc::ServerReaderWriter<ScriptedResponse, ScriptedRequest>> io(stream);
    return Handle(ctx, &io, true, true, nullptr, nullptr);
  }

 private:
  // Steps 1 to 8. A unary or client-streaming call's one response goes in *response
  // (*has_response true) when the call ends OK.
  Status Handle(ServerContext* ctx, CallIo* io, bool client_streams, bool server_streams, ScriptedResponse* response,
                bool* has_response) {
    Watcher w{ctx, faults_.Has("scripted-cancel-ignored")};
    ++g_active_scripted_calls;
    Status status = Run(ctx, io, client_streams, server_streams, response, has_response, &w);
    --g_active_scripted_calls;
    if (w.record) w.record->End(w.cancelled);
    return status;
  }

  Status Run(ServerContext* ctx, CallIo* io, bool client_streams, bool server_streams, ScriptedResponse* response,
             bool* has_response, Watcher* w) {
    RequestInfo info;
    RequestHeaders(ctx, &info);
    info.set_timeout_ms(TimeLeft(ctx));
    if (auto authority = ctx->ExperimentalGetAuthority(); authority.size() > 0 && !faults_.Has("scripted-authority-dropped")) {
      info.set_authority(std::string(authority.data(), authority.size()));
    }
    if (faults_.Has("scripted-peer-ipv4")) {
      info.set_peer("ipv4:127.0.0.1:1");
    } else if (std::string peer = ctx->peer(); !peer.empty()) {
      info.set_peer(peer);
    }

    // 1. The first request and its script (an empty one after a half-close without requests).
    ScriptedRequest first;
    bool has_first = io->Read(&first);
    if (!has_first && w->IsCancelled()) return w->Stop();
    if (!has_first && !client_streams) {
      // Only a request gRPC C++ could not parse gets here; its own unary handler answers that
      // INTERNAL with the message's InitializationErrorString (grpcpp/impl/codegen/proto_utils.h).
      return Status(StatusCode::INTERNAL, first.InitializationErrorString());
    }
    if (has_first) *info.add_requests() = first;
    const scripted::Script& script = first.script();
    if (!script.call_id().empty()) w->record = CallRecords::Get().Start(script.call_id());

    // 2. The calls in flight, the reported call once it has ended, set_health, restart.
    info.set_active_calls(g_active_scripted_calls.load());
    if (!script.report_call().empty()) {
      auto reported = CallRecords::Get().Find(script.report_call());
      if (!reported) {
        info.mutable_reported_call()->set_ended("unknown");
      } else {
        reported->WaitEnded(kReportWait, [w] { return w->IsCancelled(); });
        *info.mutable_reported_call() = reported->Proto();
        if (w->IsCancelled()) return w->Stop();
      }
    }
    for (const auto& change : script.set_health()) {
      ServingStatus st;
      if (change.status() == "SERVING") {
        st = grpc::health::v1::HealthCheckResponse::SERVING;
      } else if (change.status() == "NOT_SERVING") {
        st = grpc::health::v1::HealthCheckResponse::NOT_SERVING;
      } else if (change.status() == "UNKNOWN") {
        st = grpc::health::v1::HealthCheckResponse::UNKNOWN;
      } else {
        return Refuse(ctx, info, StatusCode::INVALID_ARGUMENT,
                      "scripted: set_health: unknown status \"" + change.status() + "\" for service \"" +
                          change.service() + "\" (SERVING, NOT_SERVING or UNKNOWN)");
      }
      HealthTable::Get().Set(change.service(), st);
    }
    if (script.restart_server_after_ms() > 0) RestartServer(ctx, script.restart_server_after_ms());

    int code = script.code();
    std::string message = script.message();
    if (faults_.Has("scripted-status-unknown") && code != 0) code = static_cast<int>(StatusCode::UNKNOWN);
    if (faults_.Has("scripted-message-mangled")) message = Mangled(message);

    // 7, set before anything is sent: the per-call response compression.
    if (const std::string& name = script.response_compression(); !name.empty()) {
      if (name == "gzip") {
        ctx->set_compression_algorithm(GRPC_COMPRESS_GZIP);
      } else if (name == "deflate") {
        ctx->set_compression_algorithm(GRPC_COMPRESS_DEFLATE);
      } else if (name == "identity") {
        ctx->set_compression_algorithm(GRPC_COMPRESS_NONE);
      } else {
        return Refuse(ctx, info, StatusCode::UNIMPLEMENTED,
                      "scripted: cannot compress responses with " + name +
                          ": gRPC C++ has no such compression algorithm (identity, deflate, gzip)");
      }
    }

    // 3. The delay.
    if (!Sleep(w, script.delay_ms())) return w->Stop();

    // 4. The headers first, explicitly.
    std::vector<Metadatum> headers(script.headers().begin(), script.headers().end());
    std::vector<Metadatum> trailers(script.trailers().begin(), script.trailers().end());
    if (faults_.Has("scripted-headers-dropped")) headers.clear();
    bool headers_sent = false;
    if (faults_.Has("scripted-trailers-as-headers")) {
      headers.insert(headers.end(), trailers.begin(), trailers.end());
      trailers.clear();
      if (Status s = SendHeaders(ctx, io, headers); !s.ok()) return Refused(ctx, info, w, s);
      headers_sent = true;
    } else if (script.send_headers_first()) {
      if (Status s = SendHeaders(ctx, io, headers); !s.ok()) return Refused(ctx, info, w, s);
      headers_sent = true;
    }

    // 5. Client-streaming and bidi: read read_requests requests in all, or until half-close.
    if (client_streams && has_first) {
      int limit = faults_.Has("scripted-read-all") ? 0 : script.read_requests();
      while (limit <= 0 || info.requests_size() < limit) {
        ScriptedRequest req;
        if (!io->Read(&req)) {
          if (w->IsCancelled()) return w->Stop();
          break;
        }
        *info.add_requests() = std::move(req);
      }
    }

    // 6. Scripted headers not sent yet: now, explicitly (an error is then never trailers-only).
    if (!headers_sent && !headers.empty()) {
      if (Status s = SendHeaders(ctx, io, headers); !s.ok()) return Refused(ctx, info, w, s);
    }

    if (faults_.Has("scripted-request-info-empty")) info.Clear();
    if (faults_.Has("scripted-unknown-dropped")) info.DiscardUnknownFields();

    // 7. The replies; RequestInfo goes in the last response when the call ends OK with one.
    std::vector<scripted::Reply> replies(script.replies().begin(), script.replies().end());
    if (faults_.Has("scripted-replies-drop-last") && !replies.empty()) replies.pop_back();
    bool info_in_response = false;
    bool reply_returned = false;
    if (!server_streams) {
      if (code == 0) {
        *response->mutable_request_info() = info;
        info_in_response = true;
        *has_response = true;
        if (!replies.empty()) {
          if (!Sleep(w, replies[0].delay_ms())) return w->Stop();
          if (w->IsCancelled()) return w->Stop();
          *response->mutable_values() = FaultyValues(Filled(replies[0]), faults_);
          reply_returned = true;
        }
      }
    } else {
      for (size_t i = 0; i < replies.size(); ++i) {
        if (!Sleep(w, replies[i].delay_ms())) return w->Stop();
        if (w->IsCancelled()) return w->Stop();
        ScriptedResponse resp;
        if (replies[i].has_values() || replies[i].fill_bytes() > 0) {
          *resp.mutable_values() = FaultyValues(Filled(replies[i]), faults_);
        }
        if (code == 0 && i == replies.size() - 1) {
          *resp.mutable_request_info() = info;
          info_in_response = true;
        }
        bool sent = io->Write(resp);
        if (w->record) w->record->ReplySent();
        if (!sent && !w->ignored) return w->Failed(Status(StatusCode::INTERNAL, "scripted: sending a reply failed"));
      }
    }

    // 8. Trailers, RequestInfo (unless a response carried it), the status and its details.
    if (Status s = AddMetadata(ctx, trailers, false); !s.ok()) return Refused(ctx, info, w, s);
    if (!info_in_response) ctx->AddTrailingMetadata(kRequestInfoKey, info.SerializeAsString());
    Status final_status = FinalStatus(ctx, script, code, message);
    if (!final_status.ok()) {
      if (has_response != nullptr) *has_response = false;
      return final_status;
    }
    if (reply_returned && w->record) w->record->ReplySent();
    return final_status;
  }

  // Ends a call the handler cannot run as scripted, before anything is sent: RequestInfo as it
  // stands in its trailer, and UNKNOWN under scripted-status-unknown.
  Status Refuse(ServerContext* ctx, RequestInfo info, StatusCode code, const std::string& message) {
    if (faults_.Has("scripted-request-info-empty")) info.Clear();
    ctx->AddTrailingMetadata(kRequestInfoKey, info.SerializeAsString());
    if (faults_.Has("scripted-status-unknown")) code = StatusCode::UNKNOWN;
    return Status(code, message);
  }

  // A scripted header or trailer gRPC C++ cannot send: the call ends INTERNAL (stopped as
  // cancelled when it is), with RequestInfo in its trailer.
  Status Refused(ServerContext* ctx, const RequestInfo& info, Watcher* w, const Status& refusal) {
    if (w->IsCancelled()) return w->Stop();
    RequestInfo sent = info;
    if (faults_.Has("scripted-request-info-empty")) sent.Clear();
    ctx->AddTrailingMetadata(kRequestInfoKey, sent.SerializeAsString());
    return refusal;
  }

  // The details through gRPC C++'s rich-error API (a Status's error_details, sent as
  // grpc-status-details-bin) when their code is the status's; otherwise the trailer is set
  // directly and the call ends with a plain status.
  Status FinalStatus(ServerContext* ctx, const scripted::Script& script, int code, const std::string& message) {
    if (script.details().empty() || faults_.Has("scripted-details-dropped")) {
      return Status(static_cast<StatusCode>(code), message);
    }
    int details_code = script.has_details_code() ? script.details_code() : code;
    google::rpc::Status proto;
    proto.set_code(details_code);
    proto.set_message(message);
    for (const auto& d : script.details()) *proto.add_details() = d;
    if (details_code == code && code != 0) {
      return Status(static_cast<StatusCode>(code), message, proto.SerializeAsString());
    }
    ctx->AddTrailingMetadata(kStatusDetailsKey, proto.SerializeAsString());
    return Status(static_cast<StatusCode>(code), message);
  }

  // A scripted Metadatum's values as they are sent: one by one, in order (joined under
  // scripted-metadata-joined).
  std::vector<std::string> ValuesOf(const Metadatum& m) const {
    bool binary = EndsWithBin(m.key());
    std::vector<std::string> values;
    if (binary) {
      values.assign(m.binary_values().begin(), m.binary_values().end());
    } else {
      values.assign(m.values().begin(), m.values().end());
    }
    if (faults_.Has("scripted-metadata-joined") && values.size() > 1) {
      std::string joined;
      for (size_t i = 0; i < values.size(); ++i) joined += (i && !binary ? ", " : "") + values[i];
      values = {joined};
    }
    return values;
  }

  // Core refuses an illegal key or text value by failing the whole batch, which gRPC C++ treats
  // as API misuse and aborts the process on, so every entry is checked first, with core's own
  // rules (src/core/lib/surface/validate_metadata.cc), before any is added.
  Status CheckMetadata(const std::vector<Metadatum>& entries) const {
    for (const auto& m : entries) {
      if (!LegalKey(m.key())) return Status(StatusCode::INTERNAL, "scripted: cannot send metadata " + m.key() + ": Illegal header key");
      if (EndsWithBin(m.key())) continue;
      for (const auto& v : ValuesOf(m)) {
        if (!LegalTextValue(v)) {
          return Status(StatusCode::INTERNAL, "scripted: cannot send metadata " + m.key() + ": Illegal header value");
        }
      }
    }
    return Status::OK;
  }

  // Adds the scripted entries to the headers (initial) or the trailers.
  Status AddMetadata(ServerContext* ctx, const std::vector<Metadatum>& entries, bool initial) const {
    if (Status s = CheckMetadata(entries); !s.ok()) return s;
    for (const auto& m : entries) {
      for (const auto& v : ValuesOf(m)) {
        if (initial) {
          ctx->AddInitialMetadata(m.key(), v);
        } else {
          ctx->AddTrailingMetadata(m.key(), v);
        }
      }
    }
    return Status::OK;
  }

  Status SendHeaders(ServerContext* ctx, CallIo* io, const std::vector<Metadatum>& headers) {
    if (Status s = AddMetadata(ctx, headers, true); !s.ok()) return s;
    io->SendInitialMetadata();
    return Status::OK;
  }

  // RequestInfo.headers: the request metadata as gRPC C++ gives it (a multimap, so in key
  // order, each key's values in order), less :authority, user-agent, te, content-type, grpc-*.
  static void RequestHeaders(ServerContext* ctx, RequestInfo* info) {
    Metadatum* current = nullptr;
    for (const auto& [k, v] : ctx->client_metadata()) {
      std::string key(k.data(), k.size()), value(v.data(), v.size());
      if (key == ":authority" || key == "user-agent" || key == "te" || key == "content-type" || HasPrefix(key, "grpc-")) {
        continue;
      }
      if (current == nullptr || current->key() != key) {
        current = nullptr;
        for (auto& m : *info->mutable_headers()) {
          if (m.key() == key) current = &m;
        }
        if (current == nullptr) {
          current = info->add_headers();
          current->set_key(key);
        }
      }
      if (EndsWithBin(key)) {
        current->add_binary_values(value);
      } else {
        current->add_values(value);
      }
    }
  }

  // Read from core's own deadline (raw_deadline): ServerContext::deadline() converts it to a
  // std::chrono::system_clock time in nanoseconds, which overflows for the longest grpc-timeout.
  static int64_t TimeLeft(ServerContext* ctx) {
    gpr_timespec deadline = ctx->raw_deadline();
    if (gpr_time_cmp(deadline, gpr_inf_future(deadline.clock_type)) == 0) return -1;
    gpr_timespec left = gpr_time_sub(deadline, gpr_now(deadline.clock_type));
    if (left.tv_sec < 0) return 0;
    return left.tv_sec * 1000 + left.tv_nsec / 1000000;
  }

  static scripted::Values Filled(const scripted::Reply& r) {
    scripted::Values v = r.values();
    if (r.fill_bytes() > 0) v.set_by(std::string(static_cast<size_t>(r.fill_bytes()), '\0'));
    return v;
  }

  // A scripted delay, cut short when the call is cancelled (false then).
  bool Sleep(Watcher* w, int32_t ms) {
    if (faults_.Has("scripted-delay-ignored") || ms <= 0) return true;
    if (w->ignored) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      return true;
    }
    return SleepUnlessCancelled(w->ctx, std::chrono::milliseconds(ms));
  }

  // Sets off the restart of the server this call came on. An abrupt one (scripted-shutdown-
  // abrupt) cancels this call too: the handler waits until it sees that, so that it cannot end
  // before the shutdown reaches it.
  void RestartServer(ServerContext* ctx, int32_t ms) {
    bool graceful = !faults_.Has("scripted-shutdown-abrupt");
    if (!restart_ || !restart_(std::chrono::milliseconds(ms), graceful) || graceful) return;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!ctx->IsCancelled() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  Faults faults_;
  RestartFn restart_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewScripted(const Faults& faults, RestartFn restart) {
  return std::make_unique<Scripted>(faults, std::move(restart));
}

}  // namespace interop
