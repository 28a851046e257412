package scripted_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"interopmatrix/gen/health"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/servertest"
)

// script.set_health (docs/peer-contract.md, the scripted server's step 2) and the health service
// it drives ("Health": Check and Watch answer the status set, Watch streams are told of each
// change), the fault health-watch-no-updates, and the table kept across a restart. The table is
// the process's, shared by every server of this test binary: each test sets fresh names only.

const codeInvalidArgument = 3

// freshName is a service name no other test sets: interop.watched.TEST.<16 hex digits>.
func freshName(t *testing.T) string {
	b := make([]byte, 8)
	rand.Read(b)
	return "interop.watched." + t.Name() + "." + hex.EncodeToString(b)
}

// setHealth is a unary call whose script sets the health statuses changes ("SERVICE=STATUS", in
// order); it returns the observation.
func setHealth(t *testing.T, conn *grpc.ClientConn, changes ...string) map[string]any {
	t.Helper()
	var entries []string
	for _, c := range changes {
		service, st, _ := strings.Cut(c, "=")
		entries = append(entries, fmt.Sprintf(`{"service":%q,"status":%q}`, service, st))
	}
	return observe(t, conn, []byte(`{"method":"Unary","requests":[{"script":{"set_health":[`+strings.Join(entries, ",")+`]}}]}`))
}

// expectCheck checks that Health/Check{service} answers want.
func expectCheck(t *testing.T, conn *grpc.ClientConn, service string, want health.HealthCheckResponse_ServingStatus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if reply, err := health.NewHealthClient(conn).Check(ctx, &health.HealthCheckRequest{Service: service}); err != nil || reply.GetStatus() != want {
		t.Errorf("Check(%q) = %v, %v; want %v", service, reply, err, want)
	}
}

// watch opens Health/Watch{service} on conn until the test ends (or within, the deadline d).
func watch(t *testing.T, conn *grpc.ClientConn, service string, d time.Duration) grpc.ServerStreamingClient[health.HealthCheckResponse] {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	stream, err := health.NewHealthClient(conn).Watch(ctx, &health.HealthCheckRequest{Service: service})
	if err != nil {
		t.Fatal(err)
	}
	return stream
}

// expectNext checks that the next message of a Watch stream has status want.
func expectNext(t *testing.T, what string, stream grpc.ServerStreamingClient[health.HealthCheckResponse], want health.HealthCheckResponse_ServingStatus) {
	t.Helper()
	if reply, err := stream.Recv(); err != nil || reply.GetStatus() != want {
		t.Fatalf("%s: Watch message %v, %v; want %v", what, reply, err, want)
	}
}

// TestSetHealthTellsCheckAndWatch: a new name is known once set_health gives it a status; Check
// answers each status set (UNKNOWN too), and every Watch stream of the name gets each change,
// not a status equal to the one it sent last; a Watch of another name is not told.
func TestSetHealthTellsCheckAndWatch(t *testing.T) {
	conn := dial(t, nil)
	name, other := freshName(t), freshName(t)
	first, second := watch(t, conn, name, timeout), watch(t, conn, name, timeout)
	bystander := watch(t, conn, other, timeout)
	for _, s := range []grpc.ServerStreamingClient[health.HealthCheckResponse]{first, second, bystander} {
		expectNext(t, "before set_health", s, health.HealthCheckResponse_SERVICE_UNKNOWN)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := health.NewHealthClient(conn).Check(ctx, &health.HealthCheckRequest{Service: name}); status.Code(err) != codes.NotFound {
		t.Errorf("Check(%q) before set_health: %v, want NOT_FOUND", name, err)
	}

	expectCode(t, "set_health SERVING", setHealth(t, conn, name+"=SERVING"), codeOK)
	expectCheck(t, conn, name, health.HealthCheckResponse_SERVING)
	expectNext(t, "first stream after SERVING", first, health.HealthCheckResponse_SERVING)
	expectNext(t, "second stream after SERVING", second, health.HealthCheckResponse_SERVING)
	// SERVING again is no change: the next message of each stream is the NOT_SERVING after it.
	expectCode(t, "set_health SERVING again", setHealth(t, conn, name+"=SERVING"), codeOK)
	expectCode(t, "set_health NOT_SERVING", setHealth(t, conn, name+"=NOT_SERVING"), codeOK)
	expectCheck(t, conn, name, health.HealthCheckResponse_NOT_SERVING)
	expectNext(t, "first stream after SERVING, NOT_SERVING", first, health.HealthCheckResponse_NOT_SERVING)
	expectNext(t, "second stream after SERVING, NOT_SERVING", second, health.HealthCheckResponse_NOT_SERVING)
	expectCode(t, "set_health UNKNOWN", setHealth(t, conn, name+"=UNKNOWN"), codeOK)
	expectCheck(t, conn, name, health.HealthCheckResponse_UNKNOWN)
	expectNext(t, "first stream after UNKNOWN", first, health.HealthCheckResponse_UNKNOWN)
	// A new Watch starts with the status set.
	expectNext(t, "a new stream", watch(t, conn, name, timeout), health.HealthCheckResponse_UNKNOWN)
	// The other name's stream was told nothing of these: its next message is its own change.
	expectCode(t, "set_health of the other name", setHealth(t, conn, other+"=NOT_SERVING"), codeOK)
	expectNext(t, "the other name's stream", bystander, health.HealthCheckResponse_NOT_SERVING)
}

// TestSetHealthInOrder: the entries of one script are set in order (the last one of a name
// wins), each name its own.
func TestSetHealthInOrder(t *testing.T) {
	conn := dial(t, nil)
	a, b := freshName(t), freshName(t)
	expectCode(t, "set_health", setHealth(t, conn, a+"=SERVING", b+"=UNKNOWN", a+"=NOT_SERVING"), codeOK)
	expectCheck(t, conn, a, health.HealthCheckResponse_NOT_SERVING)
	expectCheck(t, conn, b, health.HealthCheckResponse_UNKNOWN)
}

// TestSetHealthRefusesOtherStatuses: a status name other than SERVING, NOT_SERVING, UNKNOWN
// (exactly) ends the call INVALID_ARGUMENT before anything is sent, RequestInfo in the trailer;
// the entries before it were set, the name refused is not.
func TestSetHealthRefusesOtherStatuses(t *testing.T) {
	conn := dial(t, nil)
	for _, bad := range []string{"SERVICE_UNKNOWN", "serving", "", "1"} {
		before, refused := freshName(t), freshName(t)
		o := setHealth(t, conn, before+"=SERVING", refused+"="+bad)
		expectCode(t, "set_health "+bad, o, codeInvalidArgument, fmt.Sprintf("set_health: unknown status %q for service %q", bad, refused))
		if at(o, "headers") != nil || at(o, "responses") != nil || at(o, "request_info", "requests") == nil {
			t.Errorf("set_health %q: %v; want no headers, no response, RequestInfo in the trailers", bad, o)
		}
		expectCheck(t, conn, before, health.HealthCheckResponse_SERVING)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		if _, err := health.NewHealthClient(conn).Check(ctx, &health.HealthCheckRequest{Service: refused}); status.Code(err) != codes.NotFound {
			t.Errorf("set_health %q: Check(%q) = %v, want NOT_FOUND", bad, refused, err)
		}
		cancel()
	}
	// scripted-status-unknown sends it as UNKNOWN, as every non-zero code.
	o := setHealth(t, dial(t, faults.Set{faults.ScriptedStatusUnknown: true}), freshName(t)+"=BROKEN")
	expectCode(t, "set_health BROKEN under scripted-status-unknown", o, 2, "unknown status")
}

// TestSetHealthBeatsTheHealthFaults: a name set by set_health answers its set status, whatever
// the faults say of the names they cover (health-serving-any: every name SERVING).
func TestSetHealthBeatsTheHealthFaults(t *testing.T) {
	conn := dial(t, faults.Set{faults.HealthServingAny: true})
	name := freshName(t)
	expectCheck(t, conn, name, health.HealthCheckResponse_SERVING)
	stream := watch(t, conn, name, timeout)
	expectNext(t, "before set_health", stream, health.HealthCheckResponse_SERVING)
	expectCode(t, "set_health", setHealth(t, conn, name+"=NOT_SERVING"), codeOK)
	expectCheck(t, conn, name, health.HealthCheckResponse_NOT_SERVING)
	expectNext(t, "after set_health", stream, health.HealthCheckResponse_NOT_SERVING)
}

// TestHealthWatchNoUpdatesFault: under health-watch-no-updates a Watch sends the status current
// when it starts and nothing more (the stream stays open until its deadline), while Check
// answers the status set; under health-watch-silent it sends nothing at all.
func TestHealthWatchNoUpdatesFault(t *testing.T) {
	conn := dial(t, faults.Set{faults.HealthWatchNoUpdates: true})
	name := freshName(t)
	stream := watch(t, conn, name, 500*time.Millisecond)
	expectNext(t, "the first message", stream, health.HealthCheckResponse_SERVICE_UNKNOWN)
	expectCode(t, "set_health SERVING", setHealth(t, conn, name+"=SERVING"), codeOK)
	expectCheck(t, conn, name, health.HealthCheckResponse_SERVING)
	if reply, err := stream.Recv(); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("health-watch-no-updates: second Recv = %v, %v; want nothing until the deadline", reply, err)
	}
	// A new stream starts with the status set.
	expectNext(t, "a new stream", watch(t, conn, name, timeout), health.HealthCheckResponse_SERVING)

	conn = dial(t, faults.Set{faults.HealthWatchSilent: true})
	stream = watch(t, conn, name, 500*time.Millisecond)
	expectCode(t, "set_health NOT_SERVING", setHealth(t, conn, name+"=NOT_SERVING"), codeOK)
	expectCheck(t, conn, name, health.HealthCheckResponse_NOT_SERVING)
	if reply, err := stream.Recv(); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("health-watch-silent: Recv = %v, %v; want nothing until the deadline", reply, err)
	}
}

// TestRestartKeepsTheHealthTable: the statuses are the process's: once a call has set one and
// restarted the server (script.restart_server_after_ms), the new server answers it.
func TestRestartKeepsTheHealthTable(t *testing.T) {
	port := servertest.Serve(t, "--port=0")
	p := peerOn(t, port)
	name := freshName(t)
	refused := refusedMeanwhile(port)
	o := p.run(t, `{"method":"Unary","requests":[{"script":{"set_health":[{"service":"`+name+`","status":"NOT_SERVING"}],"restart_server_after_ms":1000}}]}`)
	expectCode(t, "the call that sets and restarts", o, codeOK)
	if !<-refused {
		t.Fatal("the server never stopped listening")
	}
	// A new channel, waiting for the server that listens again.
	conn, err := p.opts.Dial("127.0.0.1:" + strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if reply, err := health.NewHealthClient(conn).Check(ctx, &health.HealthCheckRequest{Service: name}, grpc.WaitForReady(true)); err != nil || reply.GetStatus() != health.HealthCheckResponse_NOT_SERVING {
		t.Errorf("Check(%q) after the restart = %v, %v; want NOT_SERVING", name, reply, err)
	}
}
