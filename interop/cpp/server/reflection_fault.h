// The fault reflection-incomplete: gRPC C++'s reflection (grpc.reflection.v1alpha) as if
// interop.scripted.Scripted were not registered with it.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>

namespace interop {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewReflectionWithoutScripted();

}  // namespace interop
