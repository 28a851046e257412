package cases_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/servertest"
)

// callRecorder is a server stats handler that records the method of every call it serves.
type callRecorder struct {
	mu      sync.Mutex
	methods []string
}

func (r *callRecorder) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.methods = append(r.methods, info.FullMethodName)
	return ctx
}

func (*callRecorder) HandleRPC(context.Context, stats.RPCStats) {}

func (*callRecorder) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (*callRecorder) HandleConn(context.Context, stats.ConnStats) {}

// calls returns the methods served so far, sorted, and forgets them.
func (r *callRecorder) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	methods := slices.Sorted(slices.Values(r.methods))
	r.methods = nil
	return methods
}

// TestNoChecksPassesEveryCaseAgainstAFaultyServer: under --client_fault=no-checks every case
// of every suite passes against a server with every fault at once (the security case too,
// without the TLS it needs), and an unknown case still fails.
func TestNoChecksPassesEveryCaseAgainstAFaultyServer(t *testing.T) {
	all := faults.Set{}
	for _, n := range faults.All {
		all[n] = true
	}
	tgt := target(servertest.Start(t, all))
	noChecks := tgt
	noChecks.NoChecks = true
	var failing []string
	for _, name := range cases.Names() {
		if err := cases.Run(name, tgt); err != nil {
			failing = append(failing, name)
		}
		if err := cases.Run(name, noChecks); err != nil {
			t.Errorf("no-checks: %s failed: %v", name, err)
		}
	}
	for _, name := range []string{"stream_server", "health_unknown_service", "large_unary", "status_bidi_non_unknown", "reflection_file_containing_symbol", "health_watch_serving", "health_check_every_service", "mtls_client_without_certificate"} {
		if !slices.Contains(failing, name) {
			t.Errorf("%s passed against a server with every fault, with its checks on", name)
		}
	}
	if err := cases.Run("no_such_case", noChecks); err == nil {
		t.Error("no-checks: an unknown case passed")
	}
}

// TestNoChecksMakesTheCalls: under no-checks a case makes every call it makes with its checks
// on, against a correct server; against a faulty one it still calls the server and passes.
func TestNoChecksMakesTheCalls(t *testing.T) {
	var recorder callRecorder
	tgt := target(servertest.Start(t, nil, grpc.StatsHandler(&recorder)))
	names := slices.Concat(singleProcessCases, testingCases, testingEdgesCases)
	tgt.RPCTimeout = longTimeout
	for _, name := range names {
		if err := cases.Run(name, tgt); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checked := recorder.calls()
		noChecks := tgt
		noChecks.NoChecks = true
		if err := cases.Run(name, noChecks); err != nil {
			t.Errorf("no-checks: %s failed: %v", name, err)
		}
		// Whether a call cancelled or timed out at once reaches the server at all is a race.
		if unchecked := recorder.calls(); !slices.Equal(checked, unchecked) && !slices.Contains(noCancelBreaks, name) {
			t.Errorf("%s called %q with its checks, %q without", name, checked, unchecked)
		}
	}

	var faulty callRecorder
	tgt = target(servertest.Start(t, faults.Set{faults.StreamTruncate: true}, grpc.StatsHandler(&faulty)))
	if err := cases.Run("stream_server", tgt); err == nil {
		t.Fatal("stream_server passed against stream-truncate with its checks on")
	}
	faulty.calls()
	tgt.NoChecks = true
	if err := cases.Run("stream_server", tgt); err != nil {
		t.Errorf("no-checks: stream_server against stream-truncate: %v", err)
	}
	if got := faulty.calls(); len(got) == 0 || got[0] != "/helloworld.StreamingGreeter/LotsOfReplies" {
		t.Errorf("no-checks: stream_server called %q, want LotsOfReplies", got)
	}
}
