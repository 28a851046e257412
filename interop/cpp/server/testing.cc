// grpc.testing.TestService (docs/peer-contract.md, "TestService behaviour"), and
// grpc.testing.UnimplementedService under the fault testing-implement-everything.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "grpc/testing/test.grpc.pb.h"
#include "services.h"

// Core's record of the flags of the message a call received last: what upstream's C++ interop
// server reads to tell whether a request arrived compressed (grpc/grpc
// test/cpp/interop/server_helper.cc, InteropServerContextInspector). gRPC C++ has no public API
// for it; libgrpc exports the function (src/core/lib/surface/call_test_only.h).
uint32_t grpc_call_test_only_get_message_flags(grpc_call* call);

namespace interop {
namespace {

using grpc::ServerContext;
using grpc::Status;
using grpc::StatusCode;
namespace gt = grpc::testing;

// The flag core sets on a received message that arrived compressed (grpc/grpc
// src/core/lib/transport/transport.h, GRPC_WRITE_INTERNAL_TEST_ONLY_WAS_COMPRESSED).
constexpr uint32_t kWasCompressed = 0x40000000u;

constexpr char kEchoInitial[] = "x-grpc-test-echo-initial";
constexpr char kEchoTrailing[] = "x-grpc-test-echo-trailing-bin";

class TestService : public gt::TestService::Service {
  using ServerStream = grpc::ServerReaderWriter<gt::StreamingOutputCallResponse, gt::StreamingOutputCallRequest>;

 public:
  explicit TestService(const Faults& faults) : faults_(faults) {}

  Status EmptyCall(ServerContext* ctx, const gt::Empty*, gt::Empty*) override {
    EchoMetadata(ctx);
    if (faults_.Has("testing-empty-call-error")) return Status(StatusCode::INTERNAL, "fault testing-empty-call-error");
    return Status::OK;
  }

  Status UnaryCall(ServerContext* ctx, const gt::SimpleRequest* req, gt::SimpleResponse* resp) override {
    EchoMetadata(ctx);
    if (Status s = CheckResponseType(req->response_type()); !s.ok()) return s;
    if (Status s = CheckCompressed(ctx, req->has_expect_compressed(), req->expect_compressed().value()); !s.ok()) return s;
    if (req->response_status().code() != 0) {
      if (Status s = EchoedStatus(req->response_status()); !s.ok()) return s;
    }
    int size = req->response_size();
    if (faults_.Has("testing-empty-payload")) size = std::max(size - 1, 0);
    if (size < 0) return Status(StatusCode::INVALID_ARGUMENT, "response size must not be negative");
    if (req->response_compressed().value()) ctx->set_compression_algorithm(GRPC_COMPRESS_GZIP);
    FillPayload(resp->mutable_payload(), size);
    return Status::OK;
  }

  Status StreamingOutputCall(ServerContext* ctx, const gt::StreamingOutputCallRequest* req,
                             grpc::ServerWriter<gt::StreamingOutputCallResponse>* writer) override {
    EchoMetadata(ctx);
    if (Status s = Respond(ctx, writer, *req, true); !s.ok()) return s;
    if (faults_.Has("testing-stream-status-ok")) return Status::OK;
    return EchoedStatus(req->response_status());
  }

  Status StreamingInputCall(ServerContext* ctx, grpc::ServerReader<gt::StreamingInputCallRequest>* reader,
                            gt::StreamingInputCallResponse* resp) override {
    EchoMetadata(ctx);
    int32_t total = 0;
    gt::StreamingInputCallRequest req;
    while (reader->Read(&req)) {
      if (Status s = CheckCompressed(ctx, req.has_expect_compressed(), req.expect_compressed().value()); !s.ok()) {
        return s;
      }
      total += static_cast<int32_t>(req.payload().body().size());
    }
    if (ctx->IsCancelled()) return Status(StatusCode::CANCELLED, "cancelled");
    if (faults_.Has("testing-aggregate-off")) ++total;
    resp->set_aggregated_payload_size(total);
    return Status::OK;
  }

  Status FullDuplexCall(ServerContext* ctx, ServerStream* stream) override {
    EchoMetadata(ctx);
    if (faults_.Has("testing-duplex-buffered")) return AnswerAfterHalfClose(ctx, stream, true);
    gt::StreamingOutputCallRequest req;
    while (stream->Read(&req)) {
      if (Status s = Answer(ctx, stream, req, true); !s.ok()) return s;
    }
    if (faults_.Has("testing-duplex-extra")) {
      gt::StreamingOutputCallResponse extra;
      extra.mutable_payload();
      stream->Write(extra);
    }
    return Status::OK;
  }

  Status HalfDuplexCall(ServerContext* ctx, ServerStream* stream) override {
    EchoMetadata(ctx);
    return AnswerAfterHalfClose(ctx, stream, false);
  }

  Status UnimplementedCall(ServerContext* ctx, const gt::Empty* req, gt::Empty* resp) override {
    if (!faults_.Has("testing-implement-everything")) return gt::TestService::Service::UnimplementedCall(ctx, req, resp);
    EchoMetadata(ctx);
    return Status::OK;
  }

 private:
  // x-grpc-test-echo-initial back in the response headers, x-grpc-test-echo-trailing-bin in
  // the trailers, with the same values.
  void EchoMetadata(ServerContext* ctx) {
    if (faults_.Has("testing-no-echo-metadata")) return;
    for (const auto& [key, value] : ctx->client_metadata()) {
      std::string k(key.data(), key.size()), v(value.data(), value.size());
      if (k == kEchoInitial) ctx->AddInitialMetadata(k, v);
      if (k == kEchoTrailing) ctx->AddTrailingMetadata(k, v);
    }
  }

  static Status CheckResponseType(gt::PayloadType type) {
    if (type != gt::COMPRESSABLE) {
      return Status(StatusCode::INVALID_ARGUMENT,
                    "unsupported response_type " + std::to_string(type) + ": only COMPRESSABLE (0) is");
    }
    return Status::OK;
  }

  // expect_compressed, when set, must match whether the request message the handler read last
  // arrived compressed.
  Status CheckCompressed(ServerContext* ctx, bool has_expect, bool expect) {
    if (!has_expect || faults_.Has("testing-compression-unchecked")) return Status::OK;
    bool got = (grpc_call_test_only_get_message_flags(ctx->c_call()) & kWasCompressed) != 0;
    if (expect && !got) {
      return Status(StatusCode::INVALID_ARGUMENT, "expect_compressed is true, but the request message arrived uncompressed");
    }
    if (!expect && got) {
      return Status(StatusCode::INVALID_ARGUMENT, "expect_compressed is false, but the request message arrived compressed");
    }
    return Status::OK;
  }

  // The status a response_status asks for (OK when its code is 0).
  Status EchoedStatus(const gt::EchoStatus& requested) {
    if (requested.code() == 0 || faults_.Has("testing-status-ignored")) return Status::OK;
    std::string message = requested.message();
    if (faults_.Has("testing-status-message-trimmed")) {
      auto space = [](unsigned char c) { return std::isspace(c) != 0; };
      while (!message.empty() && space(message.back())) message.pop_back();
      message.erase(message.begin(), std::find_if_not(message.begin(), message.end(), space));
    }
    int code = faults_.Has("testing-status-unknown") ? static_cast<int>(StatusCode::UNKNOWN) : requested.code();
    return Status(static_cast<StatusCode>(code), message);
  }

  static void FillPayload(gt::Payload* payload, int size) {
    payload->set_type(gt::COMPRESSABLE);
    payload->set_body(std::string(static_cast<size_t>(size), '\0'));
  }

  // Sends the responses req's parameters ask for, each after its interval; output_faults: the
  // faults of StreamingOutputCall and FullDuplexCall apply.
  template <typename Writer>
  Status Respond(ServerContext* ctx, Writer* writer, const gt::StreamingOutputCallRequest& req, bool output_faults) {
    if (Status s = CheckResponseType(req.response_type()); !s.ok()) return s;
    int n = req.response_parameters_size();
    if (output_faults && faults_.Has("testing-stream-drop-last") && n >= 2) --n;
    for (int i = 0; i < n; ++i) {
      const auto& p = req.response_parameters(i);
      int interval = p.interval_us();
      if (output_faults && faults_.Has("testing-interval-ignored")) interval = 0;
      if (interval > 0 && !SleepUnlessCancelled(ctx, std::chrono::microseconds(interval))) {
        return Status(StatusCode::CANCELLED, "cancelled");
      }
      if (p.size() < 0) return Status(StatusCode::INVALID_ARGUMENT, "response size must not be negative");
      grpc::WriteOptions options;
      if (p.has_compressed()) {
        // Compressed by the call's algorithm, switched off message by message (upstream's
        // interop server does the same: test/cpp/interop/interop_server.cc).
        ctx->set_compression_algorithm(GRPC_COMPRESS_GZIP);
        if (!p.compressed().value()) options.set_no_compression();
      }
      gt::StreamingOutputCallResponse resp;
      FillPayload(resp.mutable_payload(), p.size());
      if (!writer->Write(resp, options)) return Status(StatusCode::CANCELLED, "the call ended before a response was sent");
    }
    return Status::OK;
  }

  Status Answer(ServerContext* ctx, ServerStream* stream, const gt::StreamingOutputCallRequest& req, bool full_duplex) {
    if (Status s = EchoedStatus(req.response_status()); !s.ok()) return s;
    return Respond(ctx, stream, req, full_duplex);
  }

  Status AnswerAfterHalfClose(ServerContext* ctx, ServerStream* stream, bool full_duplex) {
    std::vector<gt::StreamingOutputCallRequest> held;
    gt::StreamingOutputCallRequest req;
    while (stream->Read(&req)) held.push_back(req);
    for (const auto& r : held) {
      if (Status s = Answer(ctx, stream, r, full_duplex); !s.ok()) return s;
    }
    return Status::OK;
  }

  Faults faults_;
};

class UnimplementedService final : public gt::UnimplementedService::Service {
 public:
  Status UnimplementedCall(ServerContext*, const gt::Empty*, gt::Empty*) override { return Status::OK; }
};

}  // namespace

std::vector<std::unique_ptr<grpc::Service>> NewTestingServices(const Faults& faults) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<TestService>(faults));
  if (faults.Has("testing-implement-everything")) services.push_back(std::make_unique<UnimplementedService>());
  return services;
}

}  // namespace interop
