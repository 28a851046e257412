// Every service of protos/, as one bundle per gRPC server (a restart builds a new bundle; what
// the process keeps across servers lives in state.h).
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "faults.h"

namespace interop {

// How a scripted call restarts the server it came on (script.restart_server_after_ms): sets off
// the shutdown (graceful, or abrupt under scripted-shutdown-abrupt) and returns at once; false
// when no restart was set off (a worker, a restart under way, a server stopping).
using RestartFn = std::function<bool(std::chrono::milliseconds after, bool graceful)>;

// Registers every service on builder; the returned objects must outlive the server.
std::vector<std::unique_ptr<grpc::Service>> RegisterServices(grpc::ServerBuilder& builder, const Faults& faults,
                                                             RestartFn restart);

// The service constructors, one per file.
std::unique_ptr<grpc::Service> NewGreeter(const Faults& faults);
std::unique_ptr<grpc::Service> NewStreamingGreeter(const Faults& faults);
std::unique_ptr<grpc::Service> NewHelloWorldService(const Faults& faults);
std::unique_ptr<grpc::Service> NewCompute(const Faults& faults);
std::unique_ptr<grpc::Service> NewUserRecommend(const Faults& faults);
std::unique_ptr<grpc::Service> NewRandom(const Faults& faults);
std::unique_ptr<grpc::Service> NewPanda(const Faults& faults);
std::unique_ptr<grpc::Service> NewServerInfo(const Faults& faults);
std::unique_ptr<grpc::Service> NewHealth(const Faults& faults);
std::vector<std::unique_ptr<grpc::Service>> NewTestingServices(const Faults& faults);
std::unique_ptr<grpc::Service> NewScripted(const Faults& faults, RestartFn restart);

// Waits d, or until the call is cancelled (the sync API has no cancellation callback, so it is
// polled); false when the call was cancelled.
bool SleepUnlessCancelled(grpc::ServerContext* ctx, std::chrono::microseconds d);

}  // namespace interop
