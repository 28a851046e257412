// grpc.health.v1.Health, implemented from protos/grpc/health/v1/health.proto
// (docs/peer-contract.md, "Health"), not gRPC C++'s built-in health service.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <set>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include "services.h"
#include "state.h"

namespace interop {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// The served services of the contract; "" stands for the server as a whole.
const std::set<std::string>& Served() {
  static const std::set<std::string> served = {
      "",
      "helloworld.Greeter",
      "helloworld.StreamingGreeter",
      "rpc_package.HelloWorldService",
      "compute.Compute",
      "UserRecommend",
      "TestServer",
      "panda.Panda",
      "grpc.testing.TestService",
      "grpc.health.v1.Health",
      "interop.ServerInfo",
      "interop.scripted.Scripted",
  };
  return served;
}

class Health final : public grpc::health::v1::Health::Service {
 public:
  explicit Health(const Faults& faults) : faults_(faults) {}

  grpc::Status Check(grpc::ServerContext*, const HealthCheckRequest* req, HealthCheckResponse* resp) override {
    uint64_t generation;
    auto status = StatusOf(req->service(), &generation);
    if (!status) return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service \"" + req->service() + "\"");
    resp->set_status(*status);
    return grpc::Status::OK;
  }

  // Sends the current status, then each new one set_health gives (not one equal to the status
  // it sent last, as grpc-go's health server does), until the client cancels.
  grpc::Status Watch(grpc::ServerContext* ctx, const HealthCheckRequest* req,
                     grpc::ServerWriter<HealthCheckResponse>* writer) override {
    bool sent = false;
    ServingStatus last = HealthCheckResponse::UNKNOWN;
    bool updates = !faults_.Has("health-watch-silent");
    while (!ctx->IsCancelled()) {
      uint64_t generation;
      auto status = StatusOf(req->service(), &generation);
      ServingStatus current = status.value_or(HealthCheckResponse::SERVICE_UNKNOWN);
      if (updates && (!sent || current != last)) {
        HealthCheckResponse resp;
        resp.set_status(current);
        if (!writer->Write(resp)) break;
        sent = true;
        last = current;
        if (faults_.Has("health-watch-no-updates")) updates = false;
      }
      HealthTable::Get().WaitChange(generation, std::chrono::milliseconds(20));
    }
    return grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled");
  }

 private:
  // A status set_health gave is the name's status whatever the faults; otherwise a served
  // service is SERVING (NOT_SERVING under health-services-not-serving, but for ""), any other
  // name unknown (nullopt).
  std::optional<ServingStatus> StatusOf(const std::string& service, uint64_t* generation) {
    if (auto set = HealthTable::Get().Lookup(service, generation)) return set;
    if (!Served().count(service) && !faults_.Has("health-serving-any")) return std::nullopt;
    if (!service.empty() && faults_.Has("health-services-not-serving")) return HealthCheckResponse::NOT_SERVING;
    return HealthCheckResponse::SERVING;
  }

  Faults faults_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewHealth(const Faults& f) { return std::make_unique<Health>(f); }

}  // namespace interop
