#include "bench.h"

#include <algorithm>
#include <numeric>
#include <ostream>

#include "checks.h"
#include "grpc/testing/test.grpc.pb.h"
#include "target.h"

namespace interop {
namespace {

using namespace grpc::testing;
using Micros = std::chrono::duration<double, std::micro>;
using Millis = std::chrono::duration<double, std::milli>;

// A measurement whose RPC failed: its reason.
struct BenchFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string Reason(const grpc::Status& status) { return CodeName(status.error_code()) + ": " + status.error_message(); }

Json Unary(const Target& t, TestService::Stub& stub, const Load& load) {
  SimpleRequest req;
  req.set_response_type(COMPRESSABLE);
  req.set_response_size(load.size);
  req.mutable_payload()->set_type(COMPRESSABLE);
  req.mutable_payload()->set_body(std::string(load.size, '\0'));
  auto call = [&] {
    grpc::ClientContext ctx;
    t.SetDeadline(ctx);
    SimpleResponse reply;
    grpc::Status status = stub.UnaryCall(&ctx, req, &reply);
    if (!status.ok()) throw BenchFailure(Reason(status));
  };
  auto began = Clock::now();
  auto in_time = [&] { return Clock::now() - began < load.time_limit; };
  for (int i = 0; i < load.warmup && in_time(); ++i) call();
  std::vector<Clock::duration> latencies;
  latencies.reserve(load.calls);
  auto measured = Clock::now();
  while (static_cast<int>(latencies.size()) < load.calls && in_time()) {
    auto start = Clock::now();
    call();
    latencies.push_back(Clock::now() - start);
  }
  Json line;
  line["bench"] = "unary";
  line["calls"] = latencies.size();
  double p50 = 0, p99 = 0, mean = 0;
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    // Nearest rank: the value at index ceil(p/100·N)−1, in integers so that no rounding moves it.
    auto percentile = [&](size_t p) { return latencies[(p * latencies.size() + 99) / 100 - 1]; };
    p50 = Tenths(Micros(percentile(50)).count());
    p99 = Tenths(Micros(percentile(99)).count());
    auto sum = std::accumulate(latencies.begin(), latencies.end(), Clock::duration::zero());
    mean = Tenths(Micros(sum / latencies.size()).count());
  }
  line["p50_us"] = p50;
  line["p99_us"] = p99;
  line["mean_us"] = mean;
  line["elapsed_ms"] = MillisSince(measured);
  return line;
}

Json ServerStreaming(TestService::Stub& stub, const Load& load) {
  StreamingOutputCallRequest req;
  req.set_response_type(COMPRESSABLE);
  for (int i = 0; i < load.messages; ++i) req.add_response_parameters()->set_size(load.size);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + load.time_limit);
  auto start = Clock::now();
  auto reader = stub.StreamingOutputCall(&ctx, req);
  StreamingOutputCallResponse reply;
  int received = 0;
  while (reader->Read(&reply)) ++received;
  grpc::Status status = reader->Finish();
  auto elapsed = Clock::now() - start;
  if (!status.ok()) throw BenchFailure(Reason(status));
  if (received != load.messages) {
    throw BenchFailure("StreamingOutputCall{" + std::to_string(load.messages) + " responses of " + std::to_string(load.size) +
                       " bytes}: expected " + std::to_string(load.messages) + " responses, got " + std::to_string(received) +
                       " before OK");
  }
  Json line;
  line["bench"] = "server_streaming";
  line["messages"] = received;
  line["bytes_per_message"] = load.size;
  line["elapsed_ms"] = Tenths(Millis(elapsed).count());
  line["msgs_per_s"] = Tenths(received / std::chrono::duration<double>(elapsed).count());
  return line;
}

}  // namespace

int RunBench(const Config& cfg, std::ostream& out, std::ostream& err) {
  Target target;
  target.host = cfg.host;
  target.port = cfg.port;
  target.rpc_timeout = cfg.rpc_timeout;
  target.transport = cfg.transport;
  auto stub = TestService::NewStub(target.Dial());
  int code = 0;
  for (const auto& name : cfg.bench) {
    Json line;
    try {
      line = name == "unary" ? Unary(target, *stub, cfg.load) : ServerStreaming(*stub, cfg.load);
    } catch (const BenchFailure& failure) {
      code = 1;
      err << "bench " << name << ": FAILED: " << failure.what() << std::endl;
      line = Json{{"bench", name}, {"error", failure.what()}};
    }
    WriteLine(out, line);
  }
  return code;
}

}  // namespace interop
