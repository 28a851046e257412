package services

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"interopmatrix/gen/health"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/healthstatus"
)

// healthService is grpc.health.v1.Health: every served service is SERVING (but for the
// self-test faults), and a name the scripted service's set_health gave a status (the process's
// table, internal/healthstatus) has that status, served or not.
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

// status is service's health, whether it is known (SERVICE_UNKNOWN, false when not), and a
// channel closed when the next set_health of the process may change it. A status set_health gave
// the name is its status, whatever the faults. Otherwise a served service is SERVING, any other
// name unknown; the fault health-services-not-serving reports every named service NOT_SERVING
// ("", the whole server, the runner's readiness probe, stays SERVING).
func (h *healthService) status(service string) (health.HealthCheckResponse_ServingStatus, bool, <-chan struct{}) {
	set, ok, changed := healthstatus.Get(service)
	switch {
	case ok:
		return set, true, changed
	case !h.serves(service):
		return health.HealthCheckResponse_SERVICE_UNKNOWN, false, changed
	case service != "" && h.faults.Has(faults.HealthServicesNotServing):
		return health.HealthCheckResponse_NOT_SERVING, true, changed
	}
	return health.HealthCheckResponse_SERVING, true, changed
}

func (h *healthService) Check(_ context.Context, req *health.HealthCheckRequest) (*health.HealthCheckResponse, error) {
	current, known, _ := h.status(req.GetService())
	if !known {
		return nil, status.Errorf(codes.NotFound, "unknown service %q", req.GetService())
	}
	return &health.HealthCheckResponse{Status: current}, nil
}

// Watch sends the current status, then each new status of the service as set_health changes it
// (not one equal to the status it sent last, as grpc-go's own health server does:
// health/server.go, Watch), until the client cancels (or the server stops). The fault
// health-watch-silent sends nothing, health-watch-no-updates only the first status; both hold the
// stream open all the same.
func (h *healthService) Watch(req *health.HealthCheckRequest, stream grpc.ServerStreamingServer[health.HealthCheckResponse]) error {
	ctx := stream.Context()
	sent := false
	var last health.HealthCheckResponse_ServingStatus
	for !h.faults.Has(faults.HealthWatchSilent) {
		current, _, changed := h.status(req.GetService()) // SERVICE_UNKNOWN when not known
		if !sent || current != last {
			if err := stream.Send(&health.HealthCheckResponse{Status: current}); err != nil {
				return err
			}
			sent, last = true, current
		}
		if h.faults.Has(faults.HealthWatchNoUpdates) {
			break
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
	<-ctx.Done()
	return status.FromContextError(ctx.Err()).Err()
}
