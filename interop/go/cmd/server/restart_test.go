package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "interopmatrix/gen/scripted"
	"interopmatrix/internal/scripted"
	"interopmatrix/internal/servertest"
)

// The server process's restart (docs/peer-contract.md, the scripted server's "Restart":
// script.restart_server_after_ms): the addresses bound again, no second listening line, the
// stop signals during and after it, a bind that fails, --workers.

// dial is a channel to target, closed when the test ends.
func dial(t *testing.T, target string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// askRestart makes a unary call whose script restarts the server after ms of downtime, and
// checks that it ends OK.
func askRestart(t *testing.T, conn *grpc.ClientConn, ms int) {
	t.Helper()
	instruction := `{"method":"Unary","requests":[{"script":{"restart_server_after_ms":` + strconv.Itoa(ms) + `}}]}`
	obs, err := scripted.Execute(conn, json.RawMessage(instruction), 5*time.Second)
	if err != nil || obs.Status == nil || obs.Status.Code != 0 {
		t.Fatalf("the call that restarts the server: %+v, %v", obs, err)
	}
}

// awaitRefused waits (at most 5 s) until a connection to 127.0.0.1:port is refused: the server
// has stopped listening.
func awaitRefused(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err != nil {
			return
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatalf("127.0.0.1:%d still accepts connections 5 s after the restart was asked", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRestartServesTheSameAddresses: after a restart the server serves 127.0.0.1, [::1] and the
// --second_host 127.0.0.2 at the port it bound at first (--port=0: not a new ephemeral one) and
// the Unix socket, without a second listening line; SIGTERM then stops it cleanly (exit 0).
func TestRestartServesTheSameAddresses(t *testing.T) {
	socket := servertest.SocketPath(t)
	s := startServer(t, "--port=0", "--ipv6_loopback=true", "--second_host=127.0.0.2", "--unix_socket="+socket)
	port := strconv.Itoa(s.port)
	askRestart(t, dial(t, "127.0.0.1:"+port), 300)
	awaitRefused(t, s.port)
	for _, target := range []string{"127.0.0.1:" + port, "[::1]:" + port, "127.0.0.2:" + port, "unix:" + socket} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		// Wait for ready: the server is down for 300 ms, and the channel may be in its backoff.
		_, err := pb.NewScriptedClient(dial(t, target)).Unary(ctx, &pb.ScriptedRequest{Script: &pb.Script{}}, grpc.WaitForReady(true))
		cancel()
		if err != nil {
			t.Errorf("%s after the restart: %v", target, err)
		}
	}
	if code := s.stop(t, syscall.SIGTERM, 5*time.Second); code != 0 {
		t.Errorf("exit code %d after the restart; stderr:\n%s", code, &s.stderr)
	}
	if want := "restart: serving again on 127.0.0.1:" + port + ", [::1]:" + port + ", 127.0.0.2:" + port + ", " + socket; !strings.Contains(s.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, &s.stderr)
	}
}

// TestSignalDuringRestart: SIGTERM (or SIGINT) while the server is down (10 s of downtime) stops
// the process cleanly at once, without a new server; and so does SIGTERM while the graceful
// shutdown waits for a call in flight (the current server is the stopping one, cancelled after
// the one second of grace).
func TestSignalDuringRestart(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGTERM, syscall.SIGINT} {
		s := startServer(t, "--port=0")
		askRestart(t, dial(t, "127.0.0.1:"+strconv.Itoa(s.port)), 10_000)
		awaitRefused(t, s.port)
		if code := s.stop(t, sig, 3*time.Second); code != 0 {
			t.Errorf("exit code %d after %v during the downtime; stderr:\n%s", code, sig, &s.stderr)
		}
		if strings.Contains(s.stderr.String(), "serving again") {
			t.Errorf("a new server after %v during the downtime; stderr:\n%s", sig, &s.stderr)
		}
	}

	s := startServer(t, "--port=0")
	conn := dial(t, "127.0.0.1:"+strconv.Itoa(s.port))
	const stream = `{"method":"ServerStream","timeout_ms":10000,"requests":[{"script":{"restart_server_after_ms":300,
		"replies":[{"delay_ms":3000},{"delay_ms":3000}]}}]}`
	ended := make(chan *scripted.Observed, 1)
	go func() {
		obs, _ := scripted.Execute(conn, json.RawMessage(stream), 10*time.Second)
		ended <- obs
	}()
	awaitRefused(t, s.port)
	if code := s.stop(t, syscall.SIGTERM, 5*time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM during the graceful shutdown; stderr:\n%s", code, &s.stderr)
	}
	if obs := <-ended; obs == nil || obs.Status == nil || obs.Status.Code == 0 {
		t.Errorf("the stream in flight at SIGTERM: %+v, want it cut short", obs)
	}
}

// TestRestartThatCannotBindExitsOne: when the port is taken during the downtime, the restart
// fails: exit 1, the reason on stderr, no second listening line.
func TestRestartThatCannotBindExitsOne(t *testing.T) {
	s := startServer(t, "--port=0")
	address := "127.0.0.1:" + strconv.Itoa(s.port)
	askRestart(t, dial(t, address), 1500)
	var taken net.Listener
	deadline := time.Now().Add(5 * time.Second)
	for taken == nil {
		l, err := net.Listen("tcp", address)
		if err == nil {
			taken = l
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never released %s: %v", address, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer taken.Close()
	if code := s.wait(t, "the port was taken", 10*time.Second); code != 1 {
		t.Errorf("exit code %d, want 1; stderr:\n%s", code, &s.stderr)
	}
	if want := "restart: listen tcp " + address + ": bind: address already in use"; !strings.Contains(s.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, &s.stderr)
	}
}

// TestWorkersIgnoreTheRestart: with --workers the process that gets the call does not restart
// (one line on stderr): the same connection serves the next calls.
func TestWorkersIgnoreTheRestart(t *testing.T) {
	s := startServer(t, "--port=0", "--workers=2")
	conn := dial(t, "127.0.0.1:"+strconv.Itoa(s.port))
	askRestart(t, conn, 300)
	for range 5 {
		time.Sleep(200 * time.Millisecond)
		obs, err := scripted.Execute(conn, json.RawMessage(`{"method":"Unary","requests":[{"script":{}}]}`), 5*time.Second)
		if err != nil || obs.Status == nil || obs.Status.Code != 0 {
			t.Fatalf("a call after the ignored restart: %+v, %v", obs, err)
		}
	}
	if code := s.stop(t, syscall.SIGTERM, 8*time.Second); code != 0 {
		t.Errorf("exit code %d; stderr:\n%s", code, &s.stderr)
	}
	const want = "restart_server_after_ms=300 ignored: a process of --workers does not restart"
	if n := strings.Count(s.stderr.String(), want); n != 1 || strings.Contains(s.stderr.String(), "restart: ") {
		t.Errorf("stderr has %q %d times (want 1) or a restart:\n%s", want, n, &s.stderr)
	}
}
