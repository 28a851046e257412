// The seeds suite (docs/peer-contract.md, "Cases of the seeds suite").
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <set>
#include <thread>

#include <google/protobuf/empty.pb.h>

#include "checks.h"
#include "compute/compute.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "helloworld/helloworld.grpc.pb.h"
#include "helloworld/streaming.grpc.pb.h"
#include "interop/server_info.grpc.pb.h"
#include "panda/panda.grpc.pb.h"
#include "registry.h"
#include "rpc_package/hello_world_service.grpc.pb.h"
#include "test_server/test_server.grpc.pb.h"
#include "user_recommend/user_recommend.grpc.pb.h"

namespace interop {
namespace {

using grpc::ClientContext;
using grpc::Status;
using grpc::StatusCode;
namespace health = grpc::health::v1;

std::string Greeting(const std::string& name) { return "Hello, " + name + "!"; }

void SayHello(const Target& t, helloworld::Greeter::Stub& stub, const std::string& name) {
  ClientContext ctx;
  t.SetDeadline(ctx);
  helloworld::HelloRequest req;
  req.set_name(name);
  helloworld::HelloReply reply;
  Status status = stub.SayHello(&ctx, req, &reply);
  ExpectOk("SayHello(" + Quote(name) + ")", status, Greeting(name), reply.message());
}

void GreeterSayHello(const Target& t) {
  auto stub = helloworld::Greeter::NewStub(t.Dial());
  for (const char* name : {"world", "世界🌏"}) SayHello(t, *stub, name);
}

void GreeterSayHelloAgain(const Target& t) {
  auto stub = helloworld::Greeter::NewStub(t.Dial());
  SayHello(t, *stub, "world");
  ClientContext ctx;
  t.SetDeadline(ctx);
  helloworld::HelloRequest req;
  req.set_name("world");
  helloworld::HelloReply reply;
  Status status = stub->SayHelloAgain(&ctx, req, &reply);
  ExpectOk("SayHelloAgain(\"world\")", status, std::string("Hello again, world!"), reply.message());
}

void HelloworldService(const Target& t) {
  auto stub = rpc_package::HelloWorldService::NewStub(t.Dial());
  ClientContext ctx;
  t.SetDeadline(ctx);
  rpc_package::HelloRequest req;
  req.set_name("shen");
  rpc_package::HelloReply reply;
  Status status = stub->SayHello(&ctx, req, &reply);
  ExpectOk("HelloWorldService/SayHello(\"shen\")", status, std::string("Hello, shen!"), reply.message());
}

void ComputeLength(const Target& t) {
  auto stub = compute::Compute::NewStub(t.Dial());
  for (auto [text, length] : std::vector<std::pair<std::string, std::string>>{{"123456", "6"}, {"你好😈", "3"}, {"", "0"}}) {
    ClientContext ctx;
    t.SetDeadline(ctx);
    compute::HelloRequest req;
    req.set_helloworld(text);
    compute::HelloReply reply;
    Status status = stub->SayHello(&ctx, req, &reply);
    ExpectOk("Compute/SayHello(" + Quote(text) + ")", status, length, reply.result());
  }
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string RecommendCall(int32_t n) { return "UserRecommend(article_num=" + std::to_string(n) + ")"; }

Status Recommend(const Target& t, UserRecommend::Stub& stub, int32_t n, UserResponse* reply) {
  ClientContext ctx;
  t.SetDeadline(ctx);
  UserRequest req;
  req.set_user_id(1);
  req.set_channel_id(1);
  req.set_article_num(n);
  req.set_time_stamp(NowMs());
  return stub.UserRecommend(&ctx, req, reply);
}

// Asks for n articles and checks the exposer and the number of articles.
UserResponse ExpectRecommends(const Target& t, UserRecommend::Stub& stub, int32_t n) {
  std::string call = RecommendCall(n);
  UserResponse reply;
  ExpectOk(call, Recommend(t, stub, n, &reply));
  Expect(call + ": exposer", std::string("exposure"), reply.exposer());
  Expect(call + ": number of recommends", n, reply.recommends_size());
  return reply;
}

void UserRecommendCase(const Target& t) {
  auto stub = UserRecommend::NewStub(t.Dial());
  std::string call = RecommendCall(10);
  UserResponse reply = ExpectRecommends(t, *stub, 10);
  constexpr int64_t kMaxSkewMs = 5 * 60 * 1000;
  int64_t skew = std::llabs(NowMs() - reply.time_stamp());
  if (skew > kMaxSkewMs) {
    Fail(call + ": expected time_stamp within 5m0s of the client's clock, got " + std::to_string(reply.time_stamp()) +
         " (" + std::to_string(skew) + " ms off)");
  }
  for (int i = 0; i < reply.recommends_size(); ++i) {
    const auto& article = reply.recommends(i);
    std::string path = call + ": recommends[" + std::to_string(i) + "]";
    Expect(path + ".article_id", int64_t{i + 1}, article.article_id());
    if (!article.has_track()) Fail(path + ": expected a track, got none");
    const auto& track = article.track();
    Expect(path + ".track.click", std::string("click param"), track.click());
    Expect(path + ".track.collect", std::string("collect param"), track.collect());
    Expect(path + ".track.read", std::string("read param"), track.read());
    Expect(path + ".track.share", std::string(""), track.share());
  }
  ExpectRecommends(t, *stub, 0);
  for (int32_t n : {-1, 1001}) {
    UserResponse ignored;
    ExpectStatus(RecommendCall(n), Recommend(t, *stub, n, &ignored), StatusCode::INVALID_ARGUMENT, "article_num");
  }
}

void UserRecommendMaxArticles(const Target& t) {
  auto stub = UserRecommend::NewStub(t.Dial());
  constexpr int32_t kMax = 1000;
  std::string call = RecommendCall(kMax);
  UserResponse reply;
  ExpectOk(call, Recommend(t, *stub, kMax, &reply));
  Expect(call + ": number of recommends", kMax, reply.recommends_size());
  for (int i = 0; i < reply.recommends_size(); ++i) {
    Expect(call + ": recommends[" + std::to_string(i) + "].article_id", int64_t{i + 1}, reply.recommends(i).article_id());
  }
}

void RandomGet(const Target& t) {
  auto stub = TestServer::NewStub(t.Dial());
  constexpr int kCalls = 20;
  std::vector<int32_t> randoms;
  for (int i = 1; i <= kCalls; ++i) {
    std::string id = "req-" + std::to_string(i);
    std::string call = "GetRandom(" + Quote(id) + ")";
    ClientContext ctx;
    t.SetDeadline(ctx);
    Request req;
    req.set_id(id);
    Response reply;
    Status status = stub->GetRandom(&ctx, req, &reply);
    ExpectOk(call + ": id", status, id, reply.id());
    if (reply.random() < 0 || reply.random() >= 1000) {
      Fail(call + ": expected random in [0, 1000), got " + std::to_string(reply.random()));
    }
    randoms.push_back(reply.random());
  }
  auto [lo, hi] = std::minmax_element(randoms.begin(), randoms.end());
  if (*lo == *hi) {
    Fail(std::to_string(kCalls) + " GetRandom calls: expected differing random values, got " + std::to_string(*lo) + " every time");
  }
}

void PandaGetinfo(const Target& t) {
  auto stub = panda::Panda::NewStub(t.Dial());
  auto getinfo = [&](int64_t arg, panda::GetinfoReply* reply) {
    ClientContext ctx;
    t.SetDeadline(ctx);
    panda::GetinfoRequest req;
    req.set_arg(arg);
    return stub->Getinfo(&ctx, req, reply);
  };
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();
  for (auto [arg, want] : std::vector<std::pair<int64_t, int64_t>>{{123, 124}, {9007199254740993, 9007199254740994}, {kMin, kMin + 1}}) {
    panda::GetinfoReply reply;
    Status status = getinfo(arg, &reply);
    ExpectOk("Getinfo(" + std::to_string(arg) + ")", status, want, reply.reply());
  }
  panda::GetinfoReply reply;
  ExpectStatus("Getinfo(" + std::to_string(kMax) + ")", getinfo(kMax, &reply), StatusCode::OUT_OF_RANGE);
}

std::string RepliesCall(const std::string& name, int32_t count) {
  return "LotsOfReplies(name=" + Quote(name) + ", count=" + std::to_string(count) + ")";
}

// Reads the whole LotsOfReplies stream: its messages and its status.
Status LotsOfReplies(const Target& t, helloworld::StreamingGreeter::Stub& stub, const std::string& name, int32_t count,
                     std::vector<std::string>* messages) {
  ClientContext ctx;
  t.SetDeadline(ctx);
  helloworld::HelloStreamRequest req;
  req.set_name(name);
  req.set_count(count);
  auto reader = stub.LotsOfReplies(&ctx, req);
  helloworld::HelloReply reply;
  while (reader->Read(&reply)) messages->push_back(reply.message());
  return reader->Finish();
}

void StreamServer(const Target& t) {
  auto stub = helloworld::StreamingGreeter::NewStub(t.Dial());
  for (int32_t count : {5, 0}) {
    std::vector<std::string> want, got;
    for (int i = 1; i <= count; ++i) want.push_back("Hello, a! #" + std::to_string(i));
    Status status = LotsOfReplies(t, *stub, "a", count, &got);
    ExpectOk(RepliesCall("a", count), status);
    ExpectList(RepliesCall("a", count), want, got);
  }
  std::vector<std::string> ignored;
  ExpectStatus(RepliesCall("a", -5), LotsOfReplies(t, *stub, "a", -5, &ignored), StatusCode::INVALID_ARGUMENT);
}

// Reads the first reply of LotsOfReplies{name, count}, then cancels the call.
Status FirstReply(const Target& t, helloworld::StreamingGreeter::Stub& stub, const std::string& name, int32_t count,
                  std::string* first) {
  ClientContext ctx;
  t.SetDeadline(ctx);
  helloworld::HelloStreamRequest req;
  req.set_name(name);
  req.set_count(count);
  auto reader = stub.LotsOfReplies(&ctx, req);
  helloworld::HelloReply reply;
  if (reader->Read(&reply)) {
    *first = reply.message();
    ctx.TryCancel();
    reader->Finish();
    return Status::OK;
  }
  Status status = reader->Finish();
  if (status.ok()) return Status(StatusCode::UNKNOWN, "the stream ended OK without a reply");
  return status;
}

void StreamServerMaxCount(const Target& t) {
  auto stub = helloworld::StreamingGreeter::NewStub(t.Dial());
  constexpr int32_t kMax = 10000;
  std::string first;
  Status status = FirstReply(t, *stub, "m", kMax, &first);
  ExpectOk(RepliesCall("m", kMax), status);
  Expect(RepliesCall("m", kMax) + " first reply", std::string("Hello, m! #1"), first);
  ExpectStatus(RepliesCall("m", kMax + 1), FirstReply(t, *stub, "m", kMax + 1, &first), StatusCode::INVALID_ARGUMENT, "count");
}

void StreamClient(const Target& t) {
  auto stub = helloworld::StreamingGreeter::NewStub(t.Dial());
  for (auto& [names, want] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"a", "b", "c"}, "Hello, a, b, c!"}, {{}, "Hello, !"}}) {
    ClientContext ctx;
    t.SetDeadline(ctx);
    helloworld::HelloReply reply;
    auto writer = stub->LotsOfGreetings(&ctx, &reply);
    for (auto& name : names) {
      helloworld::HelloRequest req;
      req.set_name(name);
      if (!writer->Write(req)) break;  // the call has ended; Finish gives its status
    }
    writer->WritesDone();
    Status status = writer->Finish();
    std::string quoted = "[";
    for (size_t i = 0; i < names.size(); ++i) quoted += (i ? " " : "") + Quote(names[i]);
    ExpectOk("LotsOfGreetings(" + quoted + "])", status, want, reply.message());
  }
}

void StreamBidi(const Target& t) {
  auto stub = helloworld::StreamingGreeter::NewStub(t.Dial());
  ClientContext ctx;
  t.SetDeadline(ctx);
  auto stream = stub->BidiHello(&ctx);
  helloworld::HelloReply reply;
  for (const std::string name : {"x", "y", "z"}) {
    std::string call = "BidiHello: reply to " + Quote(name);
    helloworld::HelloRequest req;
    req.set_name(name);
    stream->Write(req);  // a failed write ends the call; the read below reports it
    if (!stream->Read(&reply)) {
      Status status = stream->Finish();
      if (status.ok()) Fail(call + ": expected " + Quote(Greeting(name)) + ", got the end of the stream");
      ExpectOk(call, status);
    }
    Expect(call, Greeting(name), reply.message());
  }
  stream->WritesDone();
  if (stream->Read(&reply)) {
    ctx.TryCancel();
    stream->Finish();
    Fail("BidiHello: after half-close: expected the end of the stream, got reply " + Quote(reply.message()));
  }
  ExpectOk("BidiHello: after half-close", stream->Finish());
}

void ConcurrentUnary(const Target& t) {
  auto stub = helloworld::Greeter::NewStub(t.Dial());
  constexpr int kCalls = 100;
  std::vector<std::optional<std::string>> errors(kCalls);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      try {
        SayHello(t, *stub, "user-" + std::to_string(i));
      } catch (const CaseFailure& failure) {
        errors[i] = failure.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  int failures = 0;
  std::optional<std::string> first;
  for (auto& e : errors) {
    if (!e) continue;
    ++failures;
    if (!first) first = e;
  }
  if (failures > 0) {
    Fail(std::to_string(failures) + " of " + std::to_string(kCalls) + " concurrent calls failed, the first: " + *first);
  }
}

// A loopback port nothing listens on: one the kernel just handed out and took back.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) Fail("finding a closed port: socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    Fail("finding a closed port: bind failed");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

void MultiAddressFailover(const Target& t) {
  std::string target = "ipv4:127.0.0.1:" + std::to_string(ClosedPort()) + ",127.0.0.1:" + std::to_string(t.port);
  auto stub = helloworld::Greeter::NewStub(t.Dial(target, t.Arguments()));
  try {
    SayHello(t, *stub, "failover");
  } catch (const CaseFailure& failure) {
    Fail("via " + target + ": " + failure.what());
  }
}

void ReuseportWorkers(const Target& t) {
  constexpr int kChannels = 16;
  std::vector<std::shared_ptr<grpc::Channel>> channels;  // all stay open to the end
  std::set<int32_t> pids;
  for (int i = 0; i < kChannels; ++i) {
    // gRPC C++ shares subchannels between channels with the same target and arguments unless
    // the channel has a pool of its own.
    grpc::ChannelArguments args = t.Arguments();
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channels.push_back(t.Dial(t.Address(), args));
    auto stub = interop::ServerInfo::NewStub(channels.back());
    ClientContext ctx;
    t.SetDeadline(ctx);
    interop::ServerInfoReply reply;
    Status status = stub->GetInfo(&ctx, google::protobuf::Empty(), &reply);
    ExpectOk("ServerInfo/GetInfo on channel " + std::to_string(i + 1) + " of " + std::to_string(kChannels), status);
    pids.insert(reply.pid());
  }
  if (pids.size() < 2) {
    std::string list;
    for (auto pid : pids) list += (list.empty() ? "" : " ") + std::to_string(pid);
    Fail("ServerInfo/GetInfo on " + std::to_string(kChannels) + " channels: expected at least 2 distinct pids, got [" + list + "]");
  }
}

std::string HealthCall(const std::string& method, const std::string& service) {
  return "Health/" + method + "{service:" + Quote(service) + "}";
}

void HealthUnknownService(const Target& t) {
  auto stub = health::Health::NewStub(t.Dial());
  const std::string served = "helloworld.Greeter", unknown = "no.such.Service";
  auto check = [&](const std::string& service, health::HealthCheckResponse* reply) {
    ClientContext ctx;
    t.SetDeadline(ctx);
    health::HealthCheckRequest req;
    req.set_service(service);
    return stub->Check(&ctx, req, reply);
  };
  health::HealthCheckResponse reply;
  Status status = check(served, &reply);
  ExpectOk(HealthCall("Check", served), status, std::string("SERVING"),
           health::HealthCheckResponse_ServingStatus_Name(reply.status()));
  ExpectStatus(HealthCall("Check", unknown), check(unknown, &reply), StatusCode::NOT_FOUND);

  std::string call = HealthCall("Watch", unknown);
  ClientContext ctx;
  t.SetDeadline(ctx);
  health::HealthCheckRequest req;
  req.set_service(unknown);
  auto reader = stub->Watch(&ctx, req);
  if (!reader->Read(&reply)) {
    Status end = reader->Finish();
    if (end.ok()) Fail(call + ": expected a first message with status SERVICE_UNKNOWN, got the end of the stream");
    Fail(call + ": expected a first message with status SERVICE_UNKNOWN, got status " + Describe(end));
  }
  ctx.TryCancel();  // the client cancels the stream once it has the first message
  reader->Finish();
  Expect(call + ": first message", std::string("SERVICE_UNKNOWN"), health::HealthCheckResponse_ServingStatus_Name(reply.status()));
}

void ServerInfoVersion(const Target& t) {
  auto stub = interop::ServerInfo::NewStub(t.Dial());
  ClientContext ctx;
  t.SetDeadline(ctx);
  interop::ServerInfoReply reply;
  Status status = stub->GetInfo(&ctx, google::protobuf::Empty(), &reply);
  ExpectOk("ServerInfo/GetInfo", status);
  Json observed;
  observed["language"] = reply.language();
  observed["implementation"] = reply.implementation();
  observed["version"] = reply.version();
  t.Report(observed);
}

}  // namespace

CaseList SeedsCases() {
  return {
      {"greeter_say_hello", GreeterSayHello},
      {"greeter_say_hello_again", GreeterSayHelloAgain},
      {"helloworld_service", HelloworldService},
      {"compute_length", ComputeLength},
      {"user_recommend", UserRecommendCase},
      {"random_get", RandomGet},
      {"panda_getinfo", PandaGetinfo},
      {"stream_server", StreamServer},
      {"stream_client", StreamClient},
      {"stream_bidi", StreamBidi},
      {"concurrent_unary", ConcurrentUnary},
      {"multi_address_failover", MultiAddressFailover},
      {"reuseport_workers", ReuseportWorkers},
      {"stream_server_max_count", StreamServerMaxCount},
      {"user_recommend_max_articles", UserRecommendMaxArticles},
      {"health_unknown_service", HealthUnknownService},
      {"server_info_version", ServerInfoVersion},
  };
}

}  // namespace interop
