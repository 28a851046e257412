package scripted_test

import (
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"interopmatrix/internal/servertest"
)

// The server's restart (docs/peer-contract.md, the scripted server's "Restart":
// script.restart_server_after_ms, the fault scripted-shutdown-abrupt), against the server of the
// command line (servertest.Serve: server.Serve, which makes the new server and binds the
// addresses again).

// restartStream is a server stream that restarts its server (300 ms of downtime) right away and
// sends 4 replies 200 ms apart, recorded under call_id; then, on the same channel, a unary call
// 2.5 s after it ended, which reports that record (the records table outlives the server).
const restartStream = `{"method":"ServerStream","channel":{},"timeout_ms":10000,
	"requests":[{"script":{"call_id":"restart-{run}","restart_server_after_ms":300,"replies":[
		{"delay_ms":200,"values":{"i32":1}},{"delay_ms":200,"values":{"i32":2}},
		{"delay_ms":200,"values":{"i32":3}},{"delay_ms":200,"values":{"i32":4}}]}}],
	"followups":[{"after_ms":2500,"method":"Unary","timeout_ms":10000,"requests":[{"script":{"report_call":"restart-{run}"}}]}]}`

// refusedMeanwhile dials port every 20 ms until a connection is refused (the server stopped
// listening), for at most 5 s, and reports on the channel it returns whether it was.
func refusedMeanwhile(port int) <-chan bool {
	refused := make(chan bool, 1)
	go func() {
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
			if err != nil {
				refused <- true
				return
			}
			conn.Close()
			time.Sleep(20 * time.Millisecond)
		}
		refused <- false
	}()
	return refused
}

// listening checks that the server accepts connections on port again.
func listening(t *testing.T, port int) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 2*time.Second)
	if err != nil {
		t.Errorf("not listening on port %d after the restart: %v", port, err)
		return
	}
	conn.Close()
}

// TestRestartLetsTheStreamEnd: the server shuts down gracefully while the stream is in flight
// (it stops listening meanwhile), and the stream still ends OK with its 4 replies; the call 2.5 s
// later on the same channel succeeds over a new connection (another client address) to the
// server listening again on the same port, and reports the stream completed with its 4 replies.
func TestRestartLetsTheStreamEnd(t *testing.T) {
	port := servertest.Serve(t, "--port=0")
	p := peerOn(t, port)
	refused := refusedMeanwhile(port)
	o := p.run(t, restartStream)
	expectCode(t, "the stream", o, codeOK)
	responses := listAt(o, "responses")
	if len(responses) != 4 {
		t.Fatalf("%d responses, want 4: %v", len(responses), o)
	}
	for i := range responses {
		if got := fmt.Sprint(at(o, "responses", i, "values", "i32")); got != strconv.Itoa(i+1) {
			t.Errorf("response %d: i32 %s, want %d", i, got, i+1)
		}
	}
	if !<-refused {
		t.Error("the server never stopped listening during the stream")
	}
	followup, _ := at(o, "followups", 0).(map[string]any)
	if followup == nil {
		t.Fatalf("no follow-up: %v", o)
	}
	expectCode(t, "the call after the restart", followup, codeOK)
	check(t, reported(o), map[string]any{"ended": "completed", "replies_sent": "4"})
	first, _ := at(o, "responses", 3, "request_info", "peer").(string)
	next, _ := at(followup, "responses", 0, "request_info", "peer").(string)
	if first == "" || next == "" || first == next {
		t.Errorf("the call after the restart came from %q, the stream from %q: want two connections", next, first)
	}
	listening(t, port)
}

// TestRestartAbrupt: under scripted-shutdown-abrupt the restart stops the server at once: the
// stream that asked is cancelled (not OK, fewer than 4 replies; recorded cancelled), and so is a
// unary call that asked, which has nothing to wait for; the server still listens again on the
// same port.
func TestRestartAbrupt(t *testing.T) {
	port := servertest.Serve(t, "--port=0", "--fault=scripted-shutdown-abrupt")
	p := peerOn(t, port)
	o := p.run(t, restartStream)
	if code(o) == codeOK || len(listAt(o, "responses")) == 4 {
		t.Errorf("the stream ended %v with %d responses, want it cut short", at(o, "status"), len(listAt(o, "responses")))
	}
	followup, _ := at(o, "followups", 0).(map[string]any)
	if followup == nil {
		t.Fatalf("no follow-up: %v", o)
	}
	expectCode(t, "the call after the restart", followup, codeOK)
	check(t, reported(o), "cancelled", "ended")
	listening(t, port)
	stream := at(o, "status")
	o = p.run(t, restartUnary)
	if code(o) == codeOK {
		t.Errorf("the unary call that asked ended OK, want it cancelled: %v", o)
	}
	t.Logf("the stream ended %v, the unary call %v", stream, at(o, "status"))
	expectCode(t, "the call after the restart", at(o, "followups", 0).(map[string]any), codeOK)
}

// restartUnary is a unary call that restarts its server (300 ms of downtime) and has nothing to
// wait for, then a unary call 2.5 s later on the same channel.
const restartUnary = `{"method":"Unary","channel":{},"timeout_ms":10000,"requests":[{"script":{"restart_server_after_ms":300}}],
	"followups":[{"after_ms":2500,"method":"Unary","timeout_ms":10000,"requests":[{"script":{}}]}]}`

// TestRestartUnary: a unary call that restarts its server gracefully ends OK, and so does the
// call after the restart.
func TestRestartUnary(t *testing.T) {
	o := peerOn(t, servertest.Serve(t, "--port=0")).run(t, restartUnary)
	expectCode(t, "the unary call that asked", o, codeOK)
	expectCode(t, "the call after the restart", at(o, "followups", 0).(map[string]any), codeOK)
}

// TestRestartNotWithoutAWay: a server made without the process's restart (servertest.Start)
// ignores restart_server_after_ms: the call ends OK and the server keeps listening.
func TestRestartNotWithoutAWay(t *testing.T) {
	p, _ := newPeer(t, nil, false)
	o := p.run(t, `{"method":"Unary","requests":[{"script":{"restart_server_after_ms":100}}],
		"followups":[{"method":"Unary","requests":[{"script":{}}]}]}`)
	expectCode(t, "the call", o, codeOK)
	expectCode(t, "the next call", at(o, "followups", 0).(map[string]any), codeOK)
	if first, next := at(o, "responses", 0, "request_info", "peer"), at(o, "followups", 0, "responses", 0, "request_info", "peer"); first == nil || first != next {
		t.Errorf("the next call came from %v, the first from %v: want the same connection", next, first)
	}
}
