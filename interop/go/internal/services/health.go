package services

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"interopmatrix/gen/health"
	"interopmatrix/internal/faults"
)

// healthService is grpc.health.v1.Health: every served service is always SERVING (but for the
// self-test faults).
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

// status is service's health (SERVING), and whether it is served (SERVICE_UNKNOWN, false when
// not). The fault health-services-not-serving reports every named service NOT_SERVING; "", the
// whole server (the runner's readiness probe), stays SERVING.
func (h *healthService) status(service string) (health.HealthCheckResponse_ServingStatus, bool) {
	switch {
	case !h.serves(service):
		return health.HealthCheckResponse_SERVICE_UNKNOWN, false
	case service != "" && h.faults.Has(faults.HealthServicesNotServing):
		return health.HealthCheckResponse_NOT_SERVING, true
	}
	return health.HealthCheckResponse_SERVING, true
}

func (h *healthService) Check(_ context.Context, req *health.HealthCheckRequest) (*health.HealthCheckResponse, error) {
	current, served := h.status(req.GetService())
	if !served {
		return nil, status.Errorf(codes.NotFound, "unknown service %q", req.GetService())
	}
	return &health.HealthCheckResponse{Status: current}, nil
}

// Watch sends the current status once, then holds the stream open until the client cancels
// (or the server stops). The fault health-watch-silent sends nothing, and holds it all the same.
func (h *healthService) Watch(req *health.HealthCheckRequest, stream grpc.ServerStreamingServer[health.HealthCheckResponse]) error {
	current, _ := h.status(req.GetService()) // SERVICE_UNKNOWN when not served
	if !h.faults.Has(faults.HealthWatchSilent) {
		if err := stream.Send(&health.HealthCheckResponse{Status: current}); err != nil {
			return err
		}
	}
	<-stream.Context().Done()
	return status.FromContextError(stream.Context().Err()).Err()
}
