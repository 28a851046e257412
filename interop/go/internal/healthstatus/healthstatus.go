// Package healthstatus is the process's table of the health statuses set by the scripted
// service's script.set_health (docs/peer-contract.md, "Health" and the scripted server's step 2):
// the scripted handler sets them (internal/scripted), the health service answers Check and Watch
// with them (internal/services). Like the call records, the table belongs to the process: a
// restarted server keeps it, and every server of the process shares it.
package healthstatus

import (
	"sync"

	"interopmatrix/gen/health"
)

// Status is a serving status of grpc.health.v1.
type Status = health.HealthCheckResponse_ServingStatus

// settable are the status names script.set_health takes: the names of
// grpc.health.v1.HealthCheckResponse.ServingStatus but SERVICE_UNKNOWN, which only Watch sends.
var settable = map[string]Status{
	"SERVING":     health.HealthCheckResponse_SERVING,
	"NOT_SERVING": health.HealthCheckResponse_NOT_SERVING,
	"UNKNOWN":     health.HealthCheckResponse_UNKNOWN,
}

// Parse is the status a set_health entry names: SERVING, NOT_SERVING or UNKNOWN, exactly; ok is
// false for any other name.
func Parse(name string) (s Status, ok bool) {
	s, ok = settable[name]
	return s, ok
}

// table is the process's statuses, by service name.
var table = struct {
	mu     sync.Mutex
	byName map[string]Status
	// changed is closed when a status is set, and replaced by a new one.
	changed chan struct{}
}{byName: map[string]Status{}, changed: make(chan struct{})}

// Set sets the status of service (a new name becomes known) and wakes every Watch, each of
// which then compares its service's status with the one it sent last.
func Set(service string, s Status) {
	table.mu.Lock()
	defer table.mu.Unlock()
	table.byName[service] = s
	close(table.changed)
	table.changed = make(chan struct{})
}

// Get is the status set for service (set false when none was), and a channel closed when a
// status (of any service) is set next: a Watch that has sent what Get gave waits on it.
func Get(service string) (s Status, set bool, changed <-chan struct{}) {
	table.mu.Lock()
	defer table.mu.Unlock()
	s, set = table.byName[service]
	return s, set, table.changed
}
