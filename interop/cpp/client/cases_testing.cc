// The grpc.testing suite (the upstream interop cases), the testing-edges suite and the security
// suite (docs/peer-contract.md).
#include <grpc/compression.h>

#include "checks.h"
#include "grpc/testing/test.grpc.pb.h"
#include "registry.h"

// gRPC C++ hands the application decoded messages only. The library's own interop client
// (grpc/grpc test/cpp/interop/client_helper.h, InteropClientContextInspector::WasCompressed)
// reads how the last message arrived from this test-only core function, which libgrpc exports;
// its flags are those of src/core/lib/transport/transport.h.
uint32_t grpc_call_test_only_get_message_flags(grpc_call* call);

namespace interop {
namespace {

using grpc::ClientContext;
using grpc::Status;
using grpc::StatusCode;
using namespace grpc::testing;

constexpr uint32_t kInternalCompress = 0x80000000u;
constexpr uint32_t kInternalWasCompressed = 0x40000000u;

// Whether the last message the call received came compressed.
bool LastReceivedCompressed(ClientContext& ctx) {
  return (grpc_call_test_only_get_message_flags(ctx.c_call()) & (kInternalCompress | kInternalWasCompressed)) != 0;
}

constexpr int kLargeRequest = 271828, kLargeResponse = 314159;

Payload Zeros(int n) {
  Payload p;
  p.set_type(COMPRESSABLE);
  p.set_body(std::string(n, '\0'));
  return p;
}

SimpleRequest LargeRequest() {
  SimpleRequest req;
  req.set_response_type(COMPRESSABLE);
  req.set_response_size(kLargeResponse);
  *req.mutable_payload() = Zeros(kLargeRequest);
  return req;
}

StreamingOutputCallRequest OutputRequest(std::initializer_list<int> sizes, int payload = -1) {
  StreamingOutputCallRequest req;
  req.set_response_type(COMPRESSABLE);
  for (int size : sizes) req.add_response_parameters()->set_size(size);
  if (payload >= 0) *req.mutable_payload() = Zeros(payload);
  return req;
}

StreamingOutputCallRequest StatusRequest(StatusCode code, const std::string& message) {
  StreamingOutputCallRequest req;
  req.mutable_response_status()->set_code(code);
  req.mutable_response_status()->set_message(message);
  return req;
}

std::string Word(bool compressed) { return compressed ? "compressed" : "uncompressed"; }

// A response payload: COMPRESSABLE, exactly size bytes, all zero.
void ExpectPayload(const std::string& call, bool has_payload, const Payload& p, int size) {
  if (!has_payload) Fail(call + ": expected a payload of " + std::to_string(size) + " bytes, got no payload");
  if (p.type() != COMPRESSABLE) Fail(call + ": expected a COMPRESSABLE payload, got type " + std::to_string(p.type()));
  if (static_cast<int>(p.body().size()) != size) {
    Fail(call + ": expected a payload of " + std::to_string(size) + " bytes, got " + std::to_string(p.body().size()));
  }
  for (size_t i = 0; i < p.body().size(); ++i) {
    if (p.body()[i] != 0) {
      char hex[8];
      snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(p.body()[i]));
      Fail(call + ": expected a payload of zero bytes, got " + hex + " at byte " + std::to_string(i));
    }
  }
}

// The receiving side of a grpc.testing stream: Read, then Finish for the status.
template <typename Stream>
void RecvPayload(const std::string& call, Stream& stream, int size, ClientContext* ctx = nullptr,
                 std::optional<bool> compressed = std::nullopt) {
  StreamingOutputCallResponse reply;
  if (!stream.Read(&reply)) {
    Status status = stream.Finish();
    if (status.ok()) Fail(call + ": expected a payload of " + std::to_string(size) + " bytes, got the end of the stream");
    Fail(call + ": expected status OK, got " + Describe(status));
  }
  ExpectPayload(call, reply.has_payload(), reply.payload(), size);
  if (ctx && compressed && LastReceivedCompressed(*ctx) != *compressed) {
    Fail(call + ": expected the response " + Word(*compressed) + " on the wire, it was " + Word(!*compressed));
  }
}

// Reads a stream to its end: how many responses came before its status.
template <typename Stream>
std::pair<int, Status> FinalStatus(Stream& stream) {
  StreamingOutputCallResponse reply;
  int n = 0;
  while (stream.Read(&reply)) ++n;
  return {n, stream.Finish()};
}

// The stream ends OK with no further response.
template <typename Stream>
void ExpectEnd(const std::string& call, Stream& stream, ClientContext& ctx) {
  StreamingOutputCallResponse reply;
  if (stream.Read(&reply)) {
    ctx.TryCancel();
    stream.Finish();
    Fail(call + ": expected the end of the stream, got a response with a payload of " +
         std::to_string(reply.payload().body().size()) + " bytes");
  }
  ExpectOk(call, stream.Finish());
}

template <typename Stream>
void ExpectEndWithStatus(const std::string& call, Stream& stream, StatusCode code, const std::string& message) {
  auto [n, status] = FinalStatus(stream);
  if (n > 0) {
    Fail(call + ": expected status " + CodeName(code) + " " + Quote(message) + " and no further response, got " +
         std::to_string(n) + " more response(s), then " + Describe(status));
  }
  ExpectExactStatus(call, status, code, message);
}

void EmptyUnary(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  ClientContext ctx;
  t.SetDeadline(ctx);
  Empty reply;
  ExpectOk("EmptyCall{}", stub->EmptyCall(&ctx, Empty(), &reply));
}

void LargeUnary(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  const std::string call = "UnaryCall{response_size:314159, payload 271828}";
  ClientContext ctx;
  t.SetDeadline(ctx);
  SimpleResponse reply;
  ExpectOk(call, stub->UnaryCall(&ctx, LargeRequest(), &reply));
  ExpectPayload(call, reply.has_payload(), reply.payload(), kLargeResponse);
}

void ClientCompressedUnary(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  auto request = [](bool expect) {
    SimpleRequest req = LargeRequest();
    req.mutable_expect_compressed()->set_value(expect);
    return req;
  };
  {
    const std::string probe = "UnaryCall{expect_compressed:true, response_size:314159, payload 271828} sent uncompressed (probe)";
    ClientContext ctx;
    t.SetDeadline(ctx);
    SimpleResponse reply;
    ExpectStatus(probe, stub->UnaryCall(&ctx, request(true), &reply), StatusCode::INVALID_ARGUMENT);
  }
  for (bool expect : {true, false}) {
    std::string call = std::string("UnaryCall{expect_compressed:") + (expect ? "true" : "false") +
                       ", response_size:314159, payload 271828} sent " + Word(expect);
    ClientContext ctx;
    t.SetDeadline(ctx);
    if (expect) ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    SimpleResponse reply;
    ExpectOk(call, stub->UnaryCall(&ctx, request(expect), &reply));
    ExpectPayload(call, reply.has_payload(), reply.payload(), kLargeResponse);
  }
}

void ServerCompressedUnary(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  for (bool compressed : {true, false}) {
    std::string call = std::string("UnaryCall{response_compressed:") + (compressed ? "true" : "false") +
                       ", response_size:314159, payload 271828}";
    SimpleRequest req = LargeRequest();
    req.mutable_response_compressed()->set_value(compressed);
    ClientContext ctx;
    t.SetDeadline(ctx);
    SimpleResponse reply;
    ExpectOk(call, stub->UnaryCall(&ctx, req, &reply));
    ExpectPayload(call, reply.has_payload(), reply.payload(), kLargeResponse);
    if (LastReceivedCompressed(ctx) != compressed) {
      Fail(call + ": response message 1 of 1: expected it " + Word(compressed) + " on the wire, it was " + Word(!compressed));
    }
  }
}

void ClientStreaming(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  const std::string call = "StreamingInputCall[payload 27182, 8, 1828, 45904]";
  ClientContext ctx;
  t.SetDeadline(ctx);
  StreamingInputCallResponse reply;
  auto writer = stub->StreamingInputCall(&ctx, &reply);
  for (int size : {27182, 8, 1828, 45904}) {
    StreamingInputCallRequest req;
    *req.mutable_payload() = Zeros(size);
    if (!writer->Write(req)) break;  // the call has ended; Finish gives its status
  }
  writer->WritesDone();
  Status status = writer->Finish();
  ExpectOk(call + ": aggregated_payload_size", status, 74922, reply.aggregated_payload_size());
}

void ClientCompressedStreaming(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  StreamingInputCallRequest compressed, uncompressed;
  compressed.mutable_expect_compressed()->set_value(true);
  *compressed.mutable_payload() = Zeros(27182);
  uncompressed.mutable_expect_compressed()->set_value(false);
  *uncompressed.mutable_payload() = Zeros(45904);
  {
    const std::string probe = "StreamingInputCall[{expect_compressed:true, payload 27182} sent uncompressed] (probe)";
    ClientContext ctx;
    t.SetDeadline(ctx);
    StreamingInputCallResponse reply;
    auto writer = stub->StreamingInputCall(&ctx, &reply);
    writer->Write(compressed);
    writer->WritesDone();
    ExpectStatus(probe, writer->Finish(), StatusCode::INVALID_ARGUMENT);
  }
  const std::string call =
      "StreamingInputCall[{expect_compressed:true, payload 27182} compressed, {expect_compressed:false, payload 45904} uncompressed]";
  ClientContext ctx;
  t.SetDeadline(ctx);
  ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
  StreamingInputCallResponse reply;
  auto writer = stub->StreamingInputCall(&ctx, &reply);
  if (writer->Write(compressed)) writer->Write(uncompressed, grpc::WriteOptions().set_no_compression());
  writer->WritesDone();
  Status status = writer->Finish();
  ExpectOk(call + ": aggregated_payload_size", status, 73086, reply.aggregated_payload_size());
}

void ServerStreaming(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  const std::string call = "StreamingOutputCall{response sizes 31415, 9, 2653, 58979}";
  ClientContext ctx;
  t.SetDeadline(ctx);
  const int sizes[] = {31415, 9, 2653, 58979};
  auto reader = stub->StreamingOutputCall(&ctx, OutputRequest({31415, 9, 2653, 58979}));
  for (int i = 0; i < 4; ++i) RecvPayload(call + ": response " + std::to_string(i + 1), *reader, sizes[i]);
  ExpectEnd(call + ": after response 4", *reader, ctx);
}

void ServerCompressedStreaming(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  const std::string call = "StreamingOutputCall{[{size:31415, compressed:true}, {size:92653, compressed:false}]}";
  ClientContext ctx;
  t.SetDeadline(ctx);
  StreamingOutputCallRequest req = OutputRequest({31415, 92653});
  req.mutable_response_parameters(0)->mutable_compressed()->set_value(true);
  req.mutable_response_parameters(1)->mutable_compressed()->set_value(false);
  auto reader = stub->StreamingOutputCall(&ctx, req);
  RecvPayload(call + ": response 1", *reader, 31415, &ctx, true);
  RecvPayload(call + ": response 2", *reader, 92653, &ctx, false);
  ExpectEnd(call + ": after response 2", *reader, ctx);
}

void PingPong(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  ClientContext ctx;
  t.SetDeadline(ctx);
  auto stream = stub->FullDuplexCall(&ctx);
  for (auto [response, request] : std::vector<std::pair<int, int>>{{31415, 27182}, {9, 8}, {2653, 1828}, {58979, 45904}}) {
    std::string call = "FullDuplexCall: ping {response size " + std::to_string(response) + ", payload " + std::to_string(request) + "}";
    stream->Write(OutputRequest({response}, request));  // a failed write ends the call; the read reports it
    RecvPayload(call, *stream, response);
  }
  stream->WritesDone();
  ExpectEnd("FullDuplexCall: after half-close", *stream, ctx);
}

void EmptyStream(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  ClientContext ctx;
  t.SetDeadline(ctx);
  auto stream = stub->FullDuplexCall(&ctx);
  stream->WritesDone();
  ExpectEnd("FullDuplexCall half-closed at once", *stream, ctx);
}

void CancelAfterBegin(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  ClientContext ctx;
  t.SetDeadline(ctx);
  StreamingInputCallResponse reply;
  auto writer = stub->StreamingInputCall(&ctx, &reply);
  if (t.no_cancel) {
    writer->WritesDone();
  } else {
    ctx.TryCancel();
  }
  ExpectStatus("StreamingInputCall cancelled before sending anything", writer->Finish(), StatusCode::CANCELLED);
}

void CancelAfterFirstResponse(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  ClientContext ctx;
  t.SetDeadline(ctx);
  auto stream = stub->FullDuplexCall(&ctx);
  stream->Write(OutputRequest({31415}, 27182));
  RecvPayload("FullDuplexCall{response size 31415, payload 27182}: first response", *stream, 31415);
  if (t.no_cancel) {
    stream->WritesDone();
  } else {
    ctx.TryCancel();
  }
  ExpectStatus("FullDuplexCall cancelled after the first response", FinalStatus(*stream).second, StatusCode::CANCELLED);
}

void TimeoutOnSleepingServer(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + (t.no_cancel ? t.rpc_timeout : std::chrono::milliseconds(1)));
  auto stream = stub->FullDuplexCall(&ctx);
  stream->Write(OutputRequest({31415}, 27182));  // may fail once the deadline has passed
  if (t.no_cancel) stream->WritesDone();
  ExpectStatus("FullDuplexCall{response size 31415, payload 27182} with a 1 ms deadline", FinalStatus(*stream).second,
               StatusCode::DEADLINE_EXCEEDED);
}

const std::string kEchoInitialKey = "x-grpc-test-echo-initial";
const std::string kEchoInitialValue = "test_initial_metadata_value";
const std::string kEchoTrailingKey = "x-grpc-test-echo-trailing-bin";
const std::string kEchoTrailingValue = "\xab\xab\xab";

void WithEchoMetadata(ClientContext& ctx) {
  ctx.AddMetadata(kEchoInitialKey, kEchoInitialValue);
  ctx.AddMetadata(kEchoTrailingKey, kEchoTrailingValue);
}

std::vector<std::string> ValuesOf(const std::multimap<grpc::string_ref, grpc::string_ref>& md, const std::string& key) {
  std::vector<std::string> values;
  auto [begin, end] = md.equal_range(key);
  for (auto it = begin; it != end; ++it) values.emplace_back(it->second.data(), it->second.size());
  return values;
}

// The echo metadata came back, each entry exactly once and where it belongs.
void ExpectEchoed(const std::string& call, const ClientContext& ctx) {
  auto headers = ValuesOf(ctx.GetServerInitialMetadata(), kEchoInitialKey);
  if (headers != std::vector<std::string>{kEchoInitialValue}) {
    std::string got;
    for (auto& v : headers) got += (got.empty() ? "" : " ") + Quote(v);
    Fail(call + ": expected the response headers to hold " + kEchoInitialKey + ": " + Quote(kEchoInitialValue) + ", got [" + got + "]");
  }
  auto trailers = ValuesOf(ctx.GetServerTrailingMetadata(), kEchoTrailingKey);
  if (trailers != std::vector<std::string>{kEchoTrailingValue}) {
    std::string got;
    for (auto& v : trailers) {
      got += got.empty() ? "" : " ";
      for (unsigned char c : v) {
        char hex[4];
        snprintf(hex, sizeof hex, "%02x", c);
        got += hex;
      }
    }
    Fail(call + ": expected the trailers to hold " + kEchoTrailingKey + ": 0xababab, got [" + got + "]");
  }
}

void CustomMetadata(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  {
    const std::string call = "UnaryCall{response_size:314159, payload 271828} with echo metadata";
    ClientContext ctx;
    t.SetDeadline(ctx);
    WithEchoMetadata(ctx);
    SimpleResponse reply;
    ExpectOk(call, stub->UnaryCall(&ctx, LargeRequest(), &reply));
    ExpectPayload(call, reply.has_payload(), reply.payload(), kLargeResponse);
    ExpectEchoed(call, ctx);
  }
  const std::string call = "FullDuplexCall{response size 314159, payload 271828} with echo metadata";
  ClientContext ctx;
  t.SetDeadline(ctx);
  WithEchoMetadata(ctx);
  auto stream = stub->FullDuplexCall(&ctx);
  stream->Write(OutputRequest({kLargeResponse}, kLargeRequest));
  stream->WritesDone();
  RecvPayload(call, *stream, kLargeResponse);
  // Whatever else the stream carries is ping_pong's business; this case needs the status and trailers.
  ExpectOk(call, FinalStatus(*stream).second);
  ExpectEchoed(call, ctx);
}

std::string StatusCall(const std::string& method, StatusCode code, const std::string& message) {
  return method + "{response_status:{code:" + std::to_string(code) + ", message:" + Quote(message) + "}}";
}

void ExpectEchoedUnaryStatus(const Target& t, TestService::Stub& stub, StatusCode code, const std::string& message) {
  SimpleRequest req;
  req.mutable_response_status()->set_code(code);
  req.mutable_response_status()->set_message(message);
  ClientContext ctx;
  t.SetDeadline(ctx);
  SimpleResponse reply;
  ExpectExactStatus(StatusCall("UnaryCall", code, message), stub.UnaryCall(&ctx, req, &reply), code, message);
}

void StatusCodeAndMessage(const Target& t) {
  const std::string message = "test status message";
  auto stub = TestService::NewStub(t.Dial());
  ExpectEchoedUnaryStatus(t, *stub, StatusCode::UNKNOWN, message);
  ClientContext ctx;
  t.SetDeadline(ctx);
  auto stream = stub->FullDuplexCall(&ctx);
  stream->Write(StatusRequest(StatusCode::UNKNOWN, message));
  stream->WritesDone();
  ExpectExactStatus(StatusCall("FullDuplexCall", StatusCode::UNKNOWN, message), FinalStatus(*stream).second,
                    StatusCode::UNKNOWN, message);
}

void SpecialStatusMessage(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  ExpectEchoedUnaryStatus(t, *stub, StatusCode::UNKNOWN, "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n");
}

void UnimplementedMethod(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  ClientContext ctx;
  t.SetDeadline(ctx);
  Empty reply;
  ExpectStatus("TestService/UnimplementedCall{}", stub->UnimplementedCall(&ctx, Empty(), &reply), StatusCode::UNIMPLEMENTED);
}

void UnimplementedServiceCase(const Target& t) {
  auto stub = UnimplementedService::NewStub(t.Dial());
  ClientContext ctx;
  t.SetDeadline(ctx);
  Empty reply;
  ExpectStatus("UnimplementedService/UnimplementedCall{}", stub->UnimplementedCall(&ctx, Empty(), &reply),
               StatusCode::UNIMPLEMENTED);
}

void StatusUnaryNonUnknown(const Target& t) {
  auto stub = TestService::NewStub(t.Dial());
  ExpectEchoedUnaryStatus(t, *stub, StatusCode::FAILED_PRECONDITION, "precondition failed: edges");
}

void StatusServerStreamingNonUnknown(const Target& t) {
  const std::string message = "out of range after 2";
  const std::string call = "StreamingOutputCall{response sizes 8, 8, response_status:{code:11, message:" + Quote(message) + "}}";
  auto stub = TestService::NewStub(t.Dial());
  StreamingOutputCallRequest req = OutputRequest({8, 8});
  req.mutable_response_status()->set_code(StatusCode::OUT_OF_RANGE);
  req.mutable_response_status()->set_message(message);
  ClientContext ctx;
  t.SetDeadline(ctx);
  auto reader = stub->StreamingOutputCall(&ctx, req);
  for (int i = 1; i <= 2; ++i) RecvPayload(call + ": response " + std::to_string(i), *reader, 8);
  ExpectEndWithStatus(call + ": after response 2", *reader, StatusCode::OUT_OF_RANGE, message);
}

void StatusBidiNonUnknown(const Target& t) {
  const std::string message = "already exists: edges";
  auto stub = TestService::NewStub(t.Dial());
  ClientContext ctx;
  t.SetDeadline(ctx);
  auto stream = stub->FullDuplexCall(&ctx);
  stream->Write(OutputRequest({8}, 8));
  RecvPayload("FullDuplexCall: {response size 8, payload 8}", *stream, 8);
  stream->Write(StatusRequest(StatusCode::ALREADY_EXISTS, message));
  // The status request ends the call; the half-close only makes a server that ignores it end
  // the call too (OK), instead of waiting for the deadline.
  stream->WritesDone();
  ExpectEndWithStatus("FullDuplexCall: {response_status:{code:6, message:" + Quote(message) + "}}", *stream,
                      StatusCode::ALREADY_EXISTS, message);
}

void StreamingOutputInterval(const Target& t) {
  const std::string call = "StreamingOutputCall{three times {response size 1, interval_us 50000}}";
  constexpr auto kMinThirdPayload = std::chrono::milliseconds(135);
  auto channel = t.Dial();
  auto stub = TestService::NewStub(channel);
  ClientContext ctx;
  t.SetDeadline(ctx);
  // Connected first, so that connecting on a loaded machine cannot make a server that ignores
  // the interval pass.
  if (!channel->WaitForConnected(ctx.deadline())) {
    Fail(call + ": the channel did not connect (last state " + std::to_string(channel->GetState(false)) + ")");
  }
  StreamingOutputCallRequest req = OutputRequest({1, 1, 1});
  for (auto& p : *req.mutable_response_parameters()) p.set_interval_us(50000);
  auto started = Clock::now();
  auto reader = stub->StreamingOutputCall(&ctx, req);
  for (int i = 1; i <= 3; ++i) RecvPayload(call + ": response " + std::to_string(i), *reader, 1);
  auto elapsed = Clock::now() - started;
  if (elapsed < kMinThirdPayload) {
    char ms[32];
    snprintf(ms, sizeof ms, "%.1fms", std::chrono::duration<double, std::milli>(elapsed).count());
    Fail(call + ": expected the third payload at least 135ms after the call started, got it after " + ms);
  }
  ExpectEnd(call + ": after response 3", *reader, ctx);
}

void MtlsClientWithoutCertificate(const Target& t) {
  if (!t.transport.tls) {
    Fail("mtls_client_without_certificate: needs --use_tls=true (run it over the mtls transport)");
  }
  auto stub = TestService::NewStub(t.Dial(t.Address(), t.Arguments(), t.with_certificate));
  ClientContext ctx;
  t.SetDeadline(ctx);
  Empty reply;
  ExpectStatus("EmptyCall over TLS without a client certificate", stub->EmptyCall(&ctx, Empty(), &reply),
               StatusCode::UNAVAILABLE);
}

}  // namespace

CaseList TestingCases() {
  return {
      {"empty_unary", EmptyUnary},
      {"large_unary", LargeUnary},
      {"client_compressed_unary", ClientCompressedUnary},
      {"server_compressed_unary", ServerCompressedUnary},
      {"client_streaming", ClientStreaming},
      {"client_compressed_streaming", ClientCompressedStreaming},
      {"server_streaming", ServerStreaming},
      {"server_compressed_streaming", ServerCompressedStreaming},
      {"ping_pong", PingPong},
      {"empty_stream", EmptyStream},
      {"cancel_after_begin", CancelAfterBegin},
      {"cancel_after_first_response", CancelAfterFirstResponse},
      {"timeout_on_sleeping_server", TimeoutOnSleepingServer},
      {"custom_metadata", CustomMetadata},
      {"status_code_and_message", StatusCodeAndMessage},
      {"special_status_message", SpecialStatusMessage},
      {"unimplemented_method", UnimplementedMethod},
      {"unimplemented_service", UnimplementedServiceCase},
  };
}

CaseList EdgesCases() {
  return {
      {"status_unary_non_unknown", StatusUnaryNonUnknown},
      {"status_server_streaming_non_unknown", StatusServerStreamingNonUnknown},
      {"status_bidi_non_unknown", StatusBidiNonUnknown},
      {"streaming_output_interval", StreamingOutputInterval},
  };
}

CaseList SecurityCases() { return {{"mtls_client_without_certificate", MtlsClientWithoutCertificate}}; }

}  // namespace interop
