// The seed services (SPEC §1.1) and interop.ServerInfo.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "compute/compute.grpc.pb.h"
#include "helloworld/helloworld.grpc.pb.h"
#include "helloworld/streaming.grpc.pb.h"
#include "interop/server_info.grpc.pb.h"
#include "panda/panda.grpc.pb.h"
#include "rpc_package/hello_world_service.grpc.pb.h"
#include "services.h"
#include "test_server/test_server.grpc.pb.h"
#include "user_recommend/user_recommend.grpc.pb.h"

namespace interop {
namespace {

using grpc::ServerContext;
using grpc::Status;
using grpc::StatusCode;

constexpr int kMaxReplies = 10000;
constexpr int kMaxArticles = 1000;

std::string Greeting(const std::string& name) { return "Hello, " + name + "!"; }

class Greeter final : public helloworld::Greeter::Service {
 public:
  explicit Greeter(const Faults& faults) : faults_(faults) {}

  Status SayHello(ServerContext*, const helloworld::HelloRequest* req, helloworld::HelloReply* reply) override {
    // Counted per process: the fault fails the 10th, 20th, … call whichever server took it.
    static std::atomic<int64_t> calls{0};
    int64_t call = ++calls;
    if (faults_.Has("unary-every-10th-unavailable") && call % 10 == 0) {
      return Status(StatusCode::UNAVAILABLE, "fault unary-every-10th-unavailable: call " + std::to_string(call) + " refused");
    }
    reply->set_message(faults_.Has("greeting-punctuation") ? "Hello, " + req->name() : Greeting(req->name()));
    return Status::OK;
  }

  Status SayHelloAgain(ServerContext*, const helloworld::HelloRequest* req, helloworld::HelloReply* reply) override {
    reply->set_message(faults_.Has("again-wrong") ? Greeting(req->name()) : "Hello again, " + req->name() + "!");
    return Status::OK;
  }

 private:
  Faults faults_;
};

class StreamingGreeter final : public helloworld::StreamingGreeter::Service {
 public:
  explicit StreamingGreeter(const Faults& faults) : faults_(faults) {}

  Status LotsOfReplies(ServerContext* ctx, const helloworld::HelloStreamRequest* req,
                       grpc::ServerWriter<helloworld::HelloReply>* writer) override {
    int limit = kMaxReplies;
    if (faults_.Has("count-limit-none")) {
      limit = INT_MAX;
    } else if (faults_.Has("count-limit-low")) {
      limit = kMaxReplies - 1;
    }
    int count = req->count();
    if (count < 0 || count > limit) {
      return Status(StatusCode::INVALID_ARGUMENT,
                    "count must be in 0.." + std::to_string(limit) + ", got " + std::to_string(count));
    }
    if (faults_.Has("stream-truncate")) count = std::max(count - 1, 0);
    for (int i = 1; i <= count; ++i) {
      helloworld::HelloReply reply;
      reply.set_message("Hello, " + req->name() + "! #" + std::to_string(i));
      if (!writer->Write(reply)) break;
    }
    if (ctx->IsCancelled()) return Status(StatusCode::CANCELLED, "cancelled");
    return Status::OK;
  }

  Status LotsOfGreetings(ServerContext*, grpc::ServerReader<helloworld::HelloRequest>* reader,
                         helloworld::HelloReply* reply) override {
    std::vector<std::string> names;
    helloworld::HelloRequest req;
    while (reader->Read(&req)) names.push_back(req.name());
    if (faults_.Has("greetings-reversed")) std::reverse(names.begin(), names.end());
    std::string joined;
    for (size_t i = 0; i < names.size(); ++i) joined += (i ? ", " : "") + names[i];
    reply->set_message(Greeting(joined));
    return Status::OK;
  }

  Status BidiHello(ServerContext*,
                   grpc::ServerReaderWriter<helloworld::HelloReply, helloworld::HelloRequest>* stream) override {
    std::vector<helloworld::HelloReply> held;  // what bidi-buffered holds back until half-close
    helloworld::HelloRequest req;
    while (stream->Read(&req)) {
      helloworld::HelloReply reply;
      reply.set_message(Greeting(req.name()));
      if (faults_.Has("bidi-buffered")) {
        held.push_back(reply);
      } else if (!stream->Write(reply)) {
        break;
      }
    }
    for (const auto& reply : held) {
      if (!stream->Write(reply)) break;
    }
    return Status::OK;
  }

 private:
  Faults faults_;
};

class HelloWorldService final : public rpc_package::HelloWorldService::Service {
 public:
  explicit HelloWorldService(const Faults& faults) : faults_(faults) {}

  Status SayHello(ServerContext*, const rpc_package::HelloRequest* req, rpc_package::HelloReply* reply) override {
    reply->set_message(faults_.Has("service-wrong") ? "Hi, " + req->name() + "!" : Greeting(req->name()));
    return Status::OK;
  }

 private:
  Faults faults_;
};

class Compute final : public compute::Compute::Service {
 public:
  explicit Compute(const Faults& faults) : faults_(faults) {}

  Status SayHello(ServerContext*, const compute::HelloRequest* req, compute::HelloReply* reply) override {
    reply->set_result(std::to_string(Length(req->helloworld())));
    return Status::OK;
  }

 private:
  // Counts Unicode code points (protobuf has checked the UTF-8), or the unit a fault asks for.
  size_t Length(const std::string& s) const {
    if (faults_.Has("length-bytes")) return s.size();
    size_t points = 0, utf16 = 0;
    for (unsigned char c : s) {
      if ((c & 0xC0) == 0x80) continue;  // a continuation byte
      ++points;
      utf16 += c >= 0xF0 ? 2 : 1;        // four-byte sequences are surrogate pairs in UTF-16
    }
    return faults_.Has("length-utf16") ? utf16 : points;
  }

  Faults faults_;
};

class UserRecommendService final : public ::UserRecommend::Service {
 public:
  explicit UserRecommendService(const Faults& faults) : faults_(faults) {}

  Status UserRecommend(ServerContext*, const ::UserRequest* req, ::UserResponse* resp) override {
    int limit = faults_.Has("article-limit-low") ? kMaxArticles - 1 : kMaxArticles;
    int n = req->article_num();
    if (n < 0 || n > limit) {
      if (!faults_.Has("recommend-no-validation")) {
        return Status(StatusCode::INVALID_ARGUMENT,
                      "article_num must be in 0.." + std::to_string(limit) + ", got " + std::to_string(n));
      }
      n = std::min(std::max(n, 0), limit);
    }
    resp->set_exposer("exposure");
    resp->set_time_stamp(std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count());
    for (int i = 0; i < n; ++i) {
      auto* article = resp->add_recommends();
      article->set_article_id(i + 1);
      auto* track = article->mutable_track();
      track->set_click("click param");
      track->set_collect("collect param");
      track->set_read("read param");
      if (faults_.Has("recommend-share-set")) track->set_share("share param");
    }
    return Status::OK;
  }

 private:
  Faults faults_;
};

class RandomService final : public ::TestServer::Service {
 public:
  explicit RandomService(const Faults& faults) : faults_(faults) {}

  Status GetRandom(ServerContext*, const ::Request* req, ::Response* resp) override {
    thread_local std::mt19937 rng{std::random_device{}()};
    std::uniform_int_distribution<int32_t> dist(0, 999);
    resp->set_random(faults_.Has("random-constant") ? 7 : dist(rng));
    resp->set_id(req->id());
    return Status::OK;
  }

 private:
  Faults faults_;
};

class Panda final : public panda::Panda::Service {
 public:
  explicit Panda(const Faults& faults) : faults_(faults) {}

  Status Getinfo(ServerContext*, const panda::GetinfoRequest* req, panda::GetinfoReply* reply) override {
    int64_t arg = req->arg();
    if (arg == INT64_MAX) {
      return Status(StatusCode::OUT_OF_RANGE, "arg + 1 would overflow int64 (arg = " + std::to_string(arg) + ")");
    }
    reply->set_reply(faults_.Has("panda-float64") ? static_cast<int64_t>(static_cast<double>(arg) + 1) : arg + 1);
    return Status::OK;
  }

 private:
  Faults faults_;
};

class ServerInfoService final : public interop::ServerInfo::Service {
 public:
  explicit ServerInfoService(const Faults& faults) : faults_(faults) {}

  Status GetInfo(ServerContext*, const google::protobuf::Empty*, ServerInfoReply* reply) override {
    reply->set_language("cpp");
    reply->set_implementation("grpc-cpp");
    reply->set_version(faults_.Has("version-wrong") ? "0.0.0-fault" : grpc::Version());
    reply->set_pid(static_cast<int32_t>(getpid()));
    return Status::OK;
  }

 private:
  Faults faults_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewGreeter(const Faults& f) { return std::make_unique<Greeter>(f); }
std::unique_ptr<grpc::Service> NewStreamingGreeter(const Faults& f) { return std::make_unique<StreamingGreeter>(f); }
std::unique_ptr<grpc::Service> NewHelloWorldService(const Faults& f) { return std::make_unique<HelloWorldService>(f); }
std::unique_ptr<grpc::Service> NewCompute(const Faults& f) { return std::make_unique<Compute>(f); }
std::unique_ptr<grpc::Service> NewUserRecommend(const Faults& f) { return std::make_unique<UserRecommendService>(f); }
std::unique_ptr<grpc::Service> NewRandom(const Faults& f) { return std::make_unique<RandomService>(f); }
std::unique_ptr<grpc::Service> NewPanda(const Faults& f) { return std::make_unique<Panda>(f); }
std::unique_ptr<grpc::Service> NewServerInfo(const Faults& f) { return std::make_unique<ServerInfoService>(f); }

bool SleepUnlessCancelled(ServerContext* ctx, std::chrono::microseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  for (;;) {
    if (ctx->IsCancelled()) return false;
    auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(2)));
  }
}

}  // namespace interop
