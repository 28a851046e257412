// The discovery suite (docs/peer-contract.md, "The discovery suite"): server reflection, v1 and
// v1alpha, and the health service's Watch and Check.
#include <google/protobuf/descriptor.pb.h>

#include <random>

#include "checks.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "interop/scripted.grpc.pb.h"
#include "registry.h"

namespace interop {
namespace {

using grpc::ClientContext;
using grpc::Status;
using grpc::StatusCode;
namespace health = grpc::health::v1;
namespace v1 = grpc::reflection::v1;
namespace v1alpha = grpc::reflection::v1alpha;

// Every service a server of the contract serves and describes by reflection.
const std::vector<std::string> kServedServices = {
    "helloworld.Greeter", "helloworld.StreamingGreeter", "rpc_package.HelloWorldService", "compute.Compute",
    "UserRecommend",      "TestServer",                  "panda.Panda",                   "grpc.testing.TestService",
    "grpc.health.v1.Health", "interop.ServerInfo",       "interop.scripted.Scripted",
};

const std::string kListServices = "{list_services:\"\"}";

// One ServerReflectionInfo stream of reflection version V (v1 or v1alpha: the same messages in
// another package), driven request by request, with the RPC deadline.
template <typename Service, typename Request, typename Response>
class ReflectionStream {
 public:
  ReflectionStream(const Target& t, const std::string& service) : service_(service) {
    stub_ = Service::NewStub(t.Dial());
    t.SetDeadline(ctx_);
    stream_ = stub_->ServerReflectionInfo(&ctx_);
  }

  std::string Call(const std::string& request) const { return service_ + "/ServerReflectionInfo" + request; }

  // Sends req (shown as `request`) and returns the one response it gets.
  Response Ask(const std::string& request, const Request& req) {
    stream_->Write(req);  // a failed write ends the call; the read reports it
    Response resp;
    if (!stream_->Read(&resp)) {
      Status status = stream_->Finish();
      if (status.ok()) Fail(Call(request) + ": expected a response, got the end of the stream");
      ExpectOk(Call(request), status);
    }
    return resp;
  }

  // {list_services:""}: the names of the list_services_response.
  std::vector<std::string> ListServices() {
    Request req;
    req.set_list_services("");
    Response resp = Ask(kListServices, req);
    if (!resp.has_list_services_response()) {
      Fail(Call(kListServices) + ": expected a list_services_response, got " + resp.ShortDebugString());
    }
    std::vector<std::string> names;
    for (const auto& s : resp.list_services_response().service()) names.push_back(s.name());
    return names;
  }

  // Half-closes, and checks that the stream then ends OK with no further response.
  void End() {
    stream_->WritesDone();
    Response resp;
    if (stream_->Read(&resp)) {
      ctx_.TryCancel();
      stream_->Finish();
      Fail(Call("") + ": after half-close: expected the end of the stream, got a response " + resp.ShortDebugString());
    }
    ExpectOk(Call("") + ": after half-close", stream_->Finish());
  }

 private:
  std::string service_;
  std::unique_ptr<typename Service::Stub> stub_;
  ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> stream_;
};

using V1Stream = ReflectionStream<v1::ServerReflection, v1::ServerReflectionRequest, v1::ServerReflectionResponse>;
using V1alphaStream =
    ReflectionStream<v1alpha::ServerReflection, v1alpha::ServerReflectionRequest, v1alpha::ServerReflectionResponse>;

template <typename Stream>
void ReflectionList(const Target& t, const std::string& service) {
  Stream r(t, service);
  ExpectIncludes(r.Call(kListServices) + ": services", kServedServices, r.ListServices());
  r.End();
}

void ReflectionListV1(const Target& t) { ReflectionList<V1Stream>(t, "grpc.reflection.v1.ServerReflection"); }

void ReflectionListV1alpha(const Target& t) {
  ReflectionList<V1alphaStream>(t, "grpc.reflection.v1alpha.ServerReflection");
}

std::string SymbolRequest(const std::string& symbol) { return "{file_containing_symbol:" + Quote(symbol) + "}"; }

// {file_containing_symbol:symbol}: the files of the file_descriptor_response, decoded.
std::vector<google::protobuf::FileDescriptorProto> FileContainingSymbol(V1Stream& r, const std::string& symbol) {
  std::string request = SymbolRequest(symbol);
  v1::ServerReflectionRequest req;
  req.set_file_containing_symbol(symbol);
  v1::ServerReflectionResponse resp = r.Ask(request, req);
  if (!resp.has_file_descriptor_response()) {
    Fail(r.Call(request) + ": expected a file_descriptor_response, got " + resp.ShortDebugString());
  }
  std::vector<google::protobuf::FileDescriptorProto> files;
  const auto& encoded = resp.file_descriptor_response().file_descriptor_proto();
  for (int i = 0; i < encoded.size(); ++i) {
    google::protobuf::FileDescriptorProto file;
    if (!file.ParseFromString(encoded[i])) {
      Fail(r.Call(request) + ": file_descriptor_proto " + std::to_string(i) + " is not a FileDescriptorProto");
    }
    files.push_back(std::move(file));
  }
  return files;
}

// The declaration named `name` among `decls` of the files of package pkg.
template <typename Decls>
auto Declared(const std::string& call, const std::vector<google::protobuf::FileDescriptorProto>& files,
              const std::string& pkg, const std::string& kind, const std::string& name, Decls decls) {
  std::string shown;
  for (const auto& file : files) {
    shown += (shown.empty() ? "" : ", ") + file.name() + " (package " + Quote(file.package()) + ")";
    if (file.package() != pkg) continue;
    for (const auto& d : decls(file)) {
      if (d.name() == name) return d;
    }
  }
  Fail(call + ": expected a file of package " + Quote(pkg) + " declaring " + kind + " " + name + ", got " +
       std::to_string(files.size()) + " files: " + shown);
}

void ReflectionFileContainingSymbol(const Target& t) {
  V1Stream r(t, "grpc.reflection.v1.ServerReflection");
  std::string call = r.Call(SymbolRequest("interop.scripted.Scripted"));
  auto service = Declared(call, FileContainingSymbol(r, "interop.scripted.Scripted"), "interop.scripted", "service",
                          "Scripted", [](const google::protobuf::FileDescriptorProto& f) { return f.service(); });
  std::string methods;
  for (const auto& m : service.method()) {
    methods += (methods.empty() ? "" : "; ") + m.name() + " client_streaming=" + Show(m.client_streaming()) +
               " server_streaming=" + Show(m.server_streaming());
  }
  Expect(call + ": service Scripted's methods",
         std::string("Unary client_streaming=false server_streaming=false; "
                     "ServerStream client_streaming=false server_streaming=true; "
                     "ClientStream client_streaming=true server_streaming=false; "
                     "BidiStream client_streaming=true server_streaming=true"),
         methods);
  call = r.Call(SymbolRequest("helloworld.HelloRequest"));
  Declared(call, FileContainingSymbol(r, "helloworld.HelloRequest"), "helloworld", "message", "HelloRequest",
           [](const google::protobuf::FileDescriptorProto& f) { return f.message_type(); });

  std::string unknown = SymbolRequest("no.such.Service");
  v1::ServerReflectionRequest req;
  req.set_file_containing_symbol("no.such.Service");
  v1::ServerReflectionResponse resp = r.Ask(unknown, req);
  if (!resp.has_error_response()) Fail(r.Call(unknown) + ": expected an error_response, got " + resp.ShortDebugString());
  Expect(r.Call(unknown) + ": error_response.error_code", CodeName(StatusCode::NOT_FOUND),
         CodeName(static_cast<StatusCode>(resp.error_response().error_code())));
  r.ListServices();
  r.End();
}

std::string HealthCall(const std::string& method, const std::string& service) {
  return "Health/" + method + "{service:" + Quote(service) + "}";
}

std::string StatusName(const health::HealthCheckResponse& reply) {
  return health::HealthCheckResponse_ServingStatus_Name(reply.status());
}

void ExpectServing(const Target& t, health::Health::Stub& stub, const std::string& service) {
  ClientContext ctx;
  t.SetDeadline(ctx);
  health::HealthCheckRequest req;
  req.set_service(service);
  health::HealthCheckResponse reply;
  Status status = stub.Check(&ctx, req, &reply);
  ExpectOk(HealthCall("Check", service), status, std::string("SERVING"), StatusName(reply));
}

// The next message of a Watch stream has status want; `which` says which ("first", "next").
void ExpectWatchMessage(grpc::ClientReader<health::HealthCheckResponse>& stream, const std::string& call,
                        const std::string& which, const std::string& want) {
  health::HealthCheckResponse reply;
  if (!stream.Read(&reply)) {
    Status status = stream.Finish();
    if (status.ok()) Fail(call + ": expected a " + which + " message with status " + want + ", got the end of the stream");
    Fail(call + ": expected a " + which + " message with status " + want + ", got status " + Describe(status));
  }
  Expect(call + ": " + which + " message", want, StatusName(reply));
}

void HealthWatchServing(const Target& t) {
  auto stub = health::Health::NewStub(t.Dial());
  ClientContext ctx;
  t.SetDeadline(ctx);
  health::HealthCheckRequest req;
  auto stream = stub->Watch(&ctx, req);
  ExpectWatchMessage(*stream, HealthCall("Watch", ""), "first", "SERVING");
  ctx.TryCancel();  // the client cancels the stream once it has the first message
  stream->Finish();
}

std::string RandomHex() {
  std::random_device device;
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) out += digits[device() & 15];
  return out;
}

void HealthWatchUpdates(const Target& t) {
  const std::string service = "interop.watched." + RandomHex();
  auto channel = t.Dial();
  auto stub = health::Health::NewStub(channel);
  auto scripted_stub = scripted::Scripted::NewStub(channel);
  const std::string call = HealthCall("Watch", service);
  ClientContext ctx;
  t.SetDeadline(ctx);
  health::HealthCheckRequest req;
  req.set_service(service);
  auto stream = stub->Watch(&ctx, req);
  ExpectWatchMessage(*stream, call, "first", "SERVICE_UNKNOWN");
  for (const std::string status : {"SERVING", "NOT_SERVING"}) {
    scripted::ScriptedRequest set;
    auto* change = set.mutable_script()->add_set_health();
    change->set_service(service);
    change->set_status(status);
    ClientContext set_ctx;
    t.SetDeadline(set_ctx);
    scripted::ScriptedResponse ignored;
    ExpectOk("Scripted/Unary{script:{set_health:[{service:" + Quote(service) + ",status:" + Quote(status) + "}]}}",
             scripted_stub->Unary(&set_ctx, set, &ignored));
    ExpectWatchMessage(*stream, call + " after set_health " + status, "next", status);
  }
  ClientContext check_ctx;
  t.SetDeadline(check_ctx);
  health::HealthCheckResponse reply;
  Status status = stub->Check(&check_ctx, req, &reply);
  ctx.TryCancel();  // the client cancels the stream once it has seen every status
  stream->Finish();
  ExpectOk(HealthCall("Check", service), status, std::string("NOT_SERVING"), StatusName(reply));
}

void HealthCheckEveryService(const Target& t) {
  auto stub = health::Health::NewStub(t.Dial());
  ExpectServing(t, *stub, "");
  for (const auto& service : kServedServices) ExpectServing(t, *stub, service);
}

}  // namespace

CaseList DiscoveryCases() {
  return {
      {"reflection_list_v1", ReflectionListV1},
      {"reflection_list_v1alpha", ReflectionListV1alpha},
      {"reflection_file_containing_symbol", ReflectionFileContainingSymbol},
      {"health_watch_serving", HealthWatchServing},
      {"health_watch_updates", HealthWatchUpdates},
      {"health_check_every_service", HealthCheckEveryService},
  };
}

}  // namespace interop
