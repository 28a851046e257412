package services

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"interopmatrix/gen/health"
	"interopmatrix/internal/faults"
)

// healthService is grpc.health.v1.Health: every served service is always SERVING.
type healthService struct {
	health.UnimplementedHealthServer
	faults faults.Set
	served map[string]bool // full service names; "" stands for the whole server
}

// notServed is registered only by a self-test fault, and is never reported as served.
const notServed = "grpc.testing.UnimplementedService"

// setServed records the services of a server; call it once every service is registered.
func (h *healthService) setServed(services map[string]grpc.ServiceInfo) {
	h.served = map[string]bool{"": true}
	for name := range services {
		h.served[name] = name != notServed
	}
}

// serves reports whether service is served; the health-serving-any fault says so of any name.
func (h *healthService) serves(service string) bool {
	return h.served[service] || h.faults.Has(faults.HealthServingAny)
}

func (h *healthService) Check(_ context.Context, req *health.HealthCheckRequest) (*health.HealthCheckResponse, error) {
	if !h.serves(req.GetService()) {
		return nil, status.Errorf(codes.NotFound, "unknown service %q", req.GetService())
	}
	return &health.HealthCheckResponse{Status: health.HealthCheckResponse_SERVING}, nil
}

// Watch sends the current status once, then holds the stream open until the client cancels
// (or the server stops).
func (h *healthService) Watch(req *health.HealthCheckRequest, stream grpc.ServerStreamingServer[health.HealthCheckResponse]) error {
	current := health.HealthCheckResponse_SERVICE_UNKNOWN
	if h.serves(req.GetService()) {
		current = health.HealthCheckResponse_SERVING
	}
	if err := stream.Send(&health.HealthCheckResponse{Status: current}); err != nil {
		return err
	}
	<-stream.Context().Done()
	return status.FromContextError(stream.Context().Err()).Err()
}
