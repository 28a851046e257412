package scripted

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	pb "interopmatrix/gen/scripted"
)

// The server's view of its own calls (docs/peer-contract.md, the scripted server's step 2,
// "Cancellation" and "Call records"): how many calls of Scripted the process is handling
// (RequestInfo.active_calls), and how each call with a script.call_id ended
// (RequestInfo.reported_call of a later call's script.report_call).

// How a recorded call ended (CallRecord.ended).
const (
	endedRunning   = "running"
	endedCompleted = "completed"
	endedCancelled = "cancelled"
	endedUnknown   = "unknown"
)

// reportWait bounds how long script.report_call waits for the call it names to end.
const reportWait = 5 * time.Second

// activeCalls is the number of Scripted handlers running in this process: every handler adds
// itself when it starts, before it reads its first request, and takes itself off when it returns.
var activeCalls atomic.Int32

// callRecord is the record of one call with a call_id.
type callRecord struct {
	// done is closed once the call has ended (ended is then completed or cancelled).
	done chan struct{}
	mu   sync.Mutex
	// ended is running until done is closed; repliesSent counts the replies the handler handed
	// to grpc-go.
	ended       string
	repliesSent int32
}

// records is the process's table of call records, by call_id.
var records = struct {
	mu   sync.Mutex
	byID map[string]*callRecord
}{byID: map[string]*callRecord{}}

// startRecord records a call under id as running, in place of any earlier call with that id.
func startRecord(id string) *callRecord {
	r := &callRecord{done: make(chan struct{}), ended: endedRunning}
	records.mu.Lock()
	defer records.mu.Unlock()
	records.byID[id] = r
	return r
}

// replySent counts one reply handed to grpc-go; r may be nil (a call without call_id).
func (r *callRecord) replySent() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.repliesSent++
}

// end records how the call ended; r may be nil.
func (r *callRecord) end(cancelled bool) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended = endedCompleted
	if cancelled {
		r.ended = endedCancelled
	}
	close(r.done)
}

// proto is the record as RequestInfo reports it.
func (r *callRecord) proto() *pb.CallRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return &pb.CallRecord{Ended: r.ended, RepliesSent: r.repliesSent}
}

// reportCall is script.report_call: the record of the call under id once it has ended, waiting
// for that at most reportWait (running after it) or until ctx is done (then the record as it
// stands, with ctx's error: the call asking was cancelled); unknown when no call with that id
// started in this process. A nil ctx never ends the wait early (scripted-cancel-ignored).
func reportCall(ctx context.Context, id string) (*pb.CallRecord, error) {
	records.mu.Lock()
	r := records.byID[id]
	records.mu.Unlock()
	if r == nil {
		return &pb.CallRecord{Ended: endedUnknown}, nil
	}
	t := time.NewTimer(reportWait)
	defer t.Stop()
	var cancelled <-chan struct{}
	if ctx != nil {
		cancelled = ctx.Done()
	}
	select {
	case <-r.done:
	case <-t.C:
	case <-cancelled:
		return r.proto(), ctx.Err()
	}
	return r.proto(), nil
}
