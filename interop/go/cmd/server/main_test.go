package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"interopmatrix/gen/health"
	"interopmatrix/internal/binarytest"
	"interopmatrix/internal/cases"
	"interopmatrix/internal/scripted"
	"interopmatrix/internal/transporttest"
)

var (
	serverBin string
	buildErr  error
)

func TestMain(m *testing.M) {
	bin, cleanup, err := binarytest.Build("server")
	serverBin, buildErr = bin, err
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// serverProcess is a running server binary.
type serverProcess struct {
	cmd    *exec.Cmd
	port   int
	stdout *bufio.Reader // what follows the listening line
	stderr bytes.Buffer
}

// startServer runs the server binary with args and waits for its listening line.
func startServer(t *testing.T, args ...string) *serverProcess {
	t.Helper()
	if buildErr != nil {
		t.Skipf("cannot build the server binary, skipping: %v", buildErr)
	}
	s := &serverProcess{cmd: exec.Command(serverBin, args...)}
	s.cmd.Stderr = &s.stderr
	s.cmd.WaitDelay = 2 * time.Second // workers share stderr: do not wait on a leaked one
	pipe, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	s.stdout = bufio.NewReader(pipe)
	line := make(chan string, 1)
	go func() {
		text, _ := s.stdout.ReadString('\n')
		line <- text
	}()
	select {
	case text := <-line:
		var l struct {
			Event string `json:"event"`
			Port  int    `json:"port"`
		}
		if err := json.Unmarshal([]byte(text), &l); err != nil || l.Event != "listening" || l.Port <= 0 {
			t.Fatalf("first stdout line %q is not a listening line; stderr:\n%s", text, &s.stderr)
		}
		s.port = l.Port
	case <-time.After(15 * time.Second):
		t.Fatalf("no listening line after 15s; stderr:\n%s", &s.stderr)
	}
	return s
}

func (s *serverProcess) target() cases.Target {
	return cases.Target{Host: "127.0.0.1", Port: s.port, RPCTimeout: 5 * time.Second}
}

// stop sends sig and returns the exit code, or fails the test if the server does not exit
// within limit. It also checks that nothing followed the listening line on stdout.
func (s *serverProcess) stop(t *testing.T, sig os.Signal, limit time.Duration) int {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	return s.wait(t, sig.String(), limit)
}

// wait returns the exit code once the server exits, or fails the test if it does not within
// limit (after what, for the message). It also checks that nothing followed the listening line
// on stdout.
func (s *serverProcess) wait(t *testing.T, what string, limit time.Duration) int {
	t.Helper()
	rest := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(s.stdout)
		rest <- b
	}()
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	select {
	case err := <-exited:
		if b := <-rest; len(b) > 0 {
			t.Errorf("stdout after the listening line: %q", b)
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		return 0
	case <-time.After(limit):
		t.Fatalf("still running %v after %s; stderr:\n%s", limit, what, &s.stderr)
		return -1
	}
}

func TestServesAndStopsCleanly(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGTERM, syscall.SIGINT} {
		s := startServer(t, "--port=0")
		if err := cases.Run("greeter_say_hello", s.target()); err != nil {
			t.Error(err)
		}
		if code := s.stop(t, sig, 5*time.Second); code != 0 {
			t.Errorf("exit code %d after %v; stderr:\n%s", code, sig, &s.stderr)
		}
	}
}

func TestStopCancelsCallsStillRunningAfterOneSecond(t *testing.T) {
	s := startServer(t, "--port=0")
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", s.port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	watch, err := health.NewHealthClient(conn).Watch(ctx, &health.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := watch.Recv(); err != nil { // the Watch call is now in flight for good
		t.Fatal(err)
	}
	start := time.Now()
	if code := s.stop(t, syscall.SIGTERM, 5*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if elapsed := time.Since(start); elapsed < 900*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("stopped %v after SIGTERM with a call in flight, want about 1s", elapsed)
	}
}

func TestWorkersShareThePortAndStopTogether(t *testing.T) {
	s := startServer(t, "--port=0", "--workers=4")
	workers := children(t, s.cmd.Process.Pid)
	if len(workers) != 3 {
		t.Fatalf("--workers=4 started %d worker processes %v, want 3", len(workers), workers)
	}
	if err := cases.Run("reuseport_workers", s.target()); err != nil {
		t.Error(err)
	}
	if code := s.stop(t, syscall.SIGTERM, 8*time.Second); code != 0 {
		t.Errorf("exit code %d; stderr:\n%s", code, &s.stderr)
	}
	requireGone(t, workers, 0)
}

func TestWorkersExitWhenTheParentDies(t *testing.T) {
	s := startServer(t, "--port=0", "--workers=3")
	workers := children(t, s.cmd.Process.Pid)
	if len(workers) != 2 {
		t.Fatalf("--workers=3 started %d worker processes, want 2", len(workers))
	}
	s.stop(t, syscall.SIGKILL, 5*time.Second)
	requireGone(t, workers, 5*time.Second)
}

func TestWorkersRunTheParentsFaults(t *testing.T) {
	s := startServer(t, "--port=0", "--workers=3", "--fault=again-wrong")
	for i := range 8 { // new channels, spread over the workers
		if err := cases.Run("greeter_say_hello_again", s.target()); err == nil {
			t.Errorf("channel %d: greeter_say_hello_again passed against --fault=again-wrong", i)
		}
	}
	s.stop(t, syscall.SIGTERM, 8*time.Second)
}

// TestWorkersRunTheNewFaults: every worker runs the parent's faults of the newer seeds and
// testing-edges cases too.
func TestWorkersRunTheNewFaults(t *testing.T) {
	s := startServer(t, "--port=0", "--workers=3", "--fault=count-limit-low,health-serving-any,version-wrong,testing-status-unknown")
	for i := range 8 { // new channels, spread over the workers
		for _, name := range []string{"stream_server_max_count", "health_unknown_service", "status_unary_non_unknown"} {
			if err := cases.Run(name, s.target()); err == nil {
				t.Errorf("channel %d: %s passed against its fault", i, name)
			}
		}
		observed, err := cases.RunObserved("server_info_version", s.target())
		if got, _ := json.Marshal(observed); err != nil || !strings.Contains(string(got), `"version":"0.0.0-fault"`) {
			t.Errorf("channel %d: server_info_version observed %s, %v; want version 0.0.0-fault", i, got, err)
		}
	}
	s.stop(t, syscall.SIGTERM, 8*time.Second)
}

// TestEveryWorkerServesTheDiscoverySuite: every worker serves reflection and health (every
// discovery case passes on new channels), and runs the discovery faults.
func TestEveryWorkerServesTheDiscoverySuite(t *testing.T) {
	s := startServer(t, "--port=0", "--workers=3")
	for i := range 8 { // new channels, spread over the workers
		for _, name := range cases.DiscoveryNames() {
			if err := cases.Run(name, s.target()); err != nil {
				t.Errorf("channel %d: %s: %v", i, name, err)
			}
		}
	}
	s.stop(t, syscall.SIGTERM, 8*time.Second)

	s = startServer(t, "--port=0", "--workers=3", "--fault=reflection-incomplete,health-watch-silent,health-services-not-serving")
	tgt := s.target()
	tgt.RPCTimeout = 300 * time.Millisecond // health_watch_serving waits for it
	for i := range 8 {
		for _, name := range []string{"reflection_list_v1", "reflection_list_v1alpha", "reflection_file_containing_symbol", "health_watch_serving", "health_check_every_service"} {
			if err := cases.Run(name, tgt); err == nil {
				t.Errorf("channel %d: %s passed against its fault", i, name)
			}
		}
	}
	s.stop(t, syscall.SIGTERM, 8*time.Second)
}

// TestMessageLimitsInEveryWorker: --max_receive_message_length and --max_send_message_length
// apply to every service of every worker (RESOURCE_EXHAUSTED from grpc-go past them); with
// --fault=scripted-limits-ignored they are ignored.
func TestMessageLimitsInEveryWorker(t *testing.T) {
	// A request of 2 + 2 + 2 + 1000 bytes; a response of 1000 bytes and RequestInfo.
	const big = `{"method":"Unary","requests":[{"script":{},"$fill_bytes":1000}]}`
	const bigReply = `{"method":"Unary","requests":[{"script":{"replies":[{"fill_bytes":1000}]}}]}`
	const small = `{"method":"Unary","requests":[{"script":{},"$fill_bytes":10}]}`
	for _, ignored := range []bool{false, true} {
		args := []string{"--port=0", "--workers=3", "--max_receive_message_length=500", "--max_send_message_length=800"}
		if ignored {
			args = append(args, "--fault=scripted-limits-ignored")
		}
		s := startServer(t, args...)
		for i := range 8 { // new channels, spread over the workers
			conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(s.port), grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				instruction string
				code        codes.Code
			}{{small, codes.OK}, {big, codes.ResourceExhausted}, {bigReply, codes.ResourceExhausted}} {
				if ignored {
					tc.code = codes.OK
				}
				obs, err := scripted.Execute(conn, json.RawMessage(tc.instruction), 5*time.Second)
				if err != nil || obs.Status == nil || codes.Code(obs.Status.Code) != tc.code {
					t.Errorf("%q, channel %d: %s: %+v, %v; want %v", args, i, tc.instruction, obs, err, tc.code)
				}
			}
			conn.Close()
		}
		s.stop(t, syscall.SIGTERM, 8*time.Second)
	}
}

// TestLifecycleInEveryWorker: --max_concurrent_streams=1 applies to every worker (each channel,
// whichever worker it reaches, has its two calls at once handled one after the other:
// active_calls 1); with --fault=scripted-lifecycle-ignored it is ignored.
func TestLifecycleInEveryWorker(t *testing.T) {
	const two = `{"method":"Unary","concurrent":2,"timeout_ms":10000,"requests":[{"script":{"delay_ms":200}}]}`
	for _, ignored := range []bool{false, true} {
		args := []string{"--port=0", "--workers=3", "--max_concurrent_streams=1", "--keepalive_min_time_ms=1000", "--keepalive_permit_without_calls=true"}
		if ignored {
			args = append(args, "--fault=scripted-lifecycle-ignored")
		}
		s := startServer(t, args...)
		overlapped := 0
		for i := range 6 { // new channels, spread over the workers
			conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(s.port), grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			// The first call connects: the client knows the worker's limit before the two.
			if obs, err := scripted.Execute(conn, json.RawMessage(`{"method":"Unary","requests":[{"script":{}}]}`), 5*time.Second); err != nil || obs.Status == nil || obs.Status.Code != 0 {
				t.Fatalf("%q, channel %d: %+v, %v", args, i, obs, err)
			}
			obs, err := scripted.Execute(conn, json.RawMessage(two), 15*time.Second)
			if err != nil || len(obs.Concurrent) != 1 {
				t.Fatalf("%q, channel %d: %+v, %v", args, i, obs, err)
			}
			for _, o := range []*scripted.Observed{obs, obs.Concurrent[0]} {
				if o.Status == nil || o.Status.Code != 0 || len(o.Responses) != 1 {
					t.Fatalf("%q, channel %d: %+v", args, i, o)
				}
				info, _ := o.Responses[0]["request_info"].(map[string]any)
				if info["active_calls"] != "1" {
					overlapped++
				}
			}
			conn.Close()
		}
		if (overlapped > 0) != ignored {
			t.Errorf("%q: %d calls of 12 saw another one running", args, overlapped)
		}
		s.stop(t, syscall.SIGTERM, 8*time.Second)
	}
}

func TestSingleWorkerFaultBreaksReuseportWorkers(t *testing.T) {
	s := startServer(t, "--port=0", "--workers=4", "--fault=single-worker")
	if workers := children(t, s.cmd.Process.Pid); len(workers) != 0 {
		t.Errorf("single-worker started workers %v", workers)
	}
	if err := cases.Run("reuseport_workers", s.target()); err == nil {
		t.Error("reuseport_workers passed against --fault=single-worker")
	}
	s.stop(t, syscall.SIGTERM, 5*time.Second)
}

// TestTLSWorkers: an mTLS server with --workers serves mTLS from every worker, and turns
// away a client without a certificate.
func TestTLSWorkers(t *testing.T) {
	s := startServer(t, "--port=0", "--use_tls=true", "--require_client_cert=true", "--workers=4")
	tgt := s.target()
	tgt.Creds = transporttest.ClientCreds(t, "mtls")
	for _, name := range []string{"reuseport_workers", "multi_address_failover", "server_compressed_streaming"} {
		if err := cases.Run(name, tgt); err != nil {
			t.Errorf("%s over mTLS: %v", name, err)
		}
	}
	tgt.Creds = transporttest.ClientCreds(t, "tls")
	for i := range 4 { // new channels, spread over the workers
		if err := cases.Run("empty_unary", tgt); err == nil {
			t.Errorf("channel %d: empty_unary passed without a client certificate", i)
		}
	}
	tgt.Creds = nil
	if err := cases.Run("empty_unary", tgt); err == nil {
		t.Error("empty_unary passed in plaintext against a TLS server")
	}
	if code := s.stop(t, syscall.SIGTERM, 8*time.Second); code != 0 {
		t.Errorf("exit code %d; stderr:\n%s", code, &s.stderr)
	}
}

func TestBadFlagsExitTwo(t *testing.T) {
	if buildErr != nil {
		t.Skipf("cannot build the server binary, skipping: %v", buildErr)
	}
	for _, args := range [][]string{
		{},
		{"--port=0", "--fault=no-such-fault"},
		{"--port=0", "--fault=again-wrong,"},
		{"--port=0", "--workers=0"},
		{"--port=0", "--require_client_cert=true"},
		{"--port=0", "--use_tls=true", "--tls_cert_file=/nonexistent/server.pem"},
		{"--port=0", "--no_such_flag=1"},
		{"--port=70000"},
		{"--port=0", "--max_receive_message_length=-1"},
		{"--port=0", "--max_receive_message_length=4194304x"},
		{"--port=0", "--max_send_message_length=2147483648"},
		{"--port=0", "--workers=2", "--ipv6_loopback=true"},
		{"--port=0", "--workers=2", "--unix_socket=/tmp/server.sock"},
		{"--port=0", "--workers=2", "--second_host=127.0.0.2"},
		{"--port=0", "--second_host=localhost"},
		{"--port=0", "--unix_socket="},
		{"--port=0", "--max_concurrent_streams=-1"},
		{"--port=0", "--max_connection_age_ms=2147483648"},
		{"--port=0", "--max_connection_age_grace_ms=1s"},
		{"--port=0", "--max_connection_idle_ms="},
		{"--port=0", "--keepalive_time_ms=-5"},
		{"--port=0", "--keepalive_timeout_ms=1.5"},
		{"--port=0", "--keepalive_min_time_ms=x"},
		{"--port=0", "--keepalive_permit_without_calls=yes"},
	} {
		cmd := exec.Command(serverBin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || stdout.Len() != 0 || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%q: %v, stdout %q, stderr %q; want exit 2, nothing, one line", args, err, &stdout, &stderr)
		}
	}
}

// TestIPv6PortTakenExitsOne: with --ipv6_loopback, a port already taken on [::1] is a start-up
// failure: exit 1, no listening line, the reason on stderr.
func TestIPv6PortTakenExitsOne(t *testing.T) {
	if buildErr != nil {
		t.Skipf("cannot build the server binary, skipping: %v", buildErr)
	}
	taken, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cmd := exec.Command(serverBin, "--port="+strconv.Itoa(taken.Addr().(*net.TCPAddr).Port), "--ipv6_loopback=true")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "--ipv6_loopback: listen tcp [::1]:") {
		t.Errorf("%v, stdout %q, stderr %q; want exit 1, nothing, the reason", err, &stdout, &stderr)
	}
}

// TestSecondHostPortTakenExitsOne: with --second_host, a port already taken on that address is a
// start-up failure: exit 1, no listening line, the reason on stderr.
func TestSecondHostPortTakenExitsOne(t *testing.T) {
	if buildErr != nil {
		t.Skipf("cannot build the server binary, skipping: %v", buildErr)
	}
	taken, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)
	cmd := exec.Command(serverBin, "--port="+port, "--second_host=127.0.0.2")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "--second_host: listen tcp 127.0.0.2:"+port) {
		t.Errorf("%v, stdout %q, stderr %q; want exit 1, nothing, the reason", err, &stdout, &stderr)
	}
}

// children returns the pids of the running processes whose parent is ppid.
func children(t *testing.T, ppid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, path := range stats {
		pid, parent, state, ok := readStat(path)
		if ok && parent == ppid && state != "Z" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// requireGone fails the test if any of pids is still running after grace, and kills it.
func requireGone(t *testing.T, pids []int, grace time.Duration) {
	t.Helper()
	deadline := time.Now().Add(grace)
	for _, pid := range pids {
		for running(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if running(pid) {
			t.Errorf("worker %d still running %v after its parent exited", pid, grace)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// running reports whether pid is a live process (not gone, not a zombie).
func running(pid int) bool {
	_, _, state, ok := readStat(fmt.Sprintf("/proc/%d/stat", pid))
	return ok && state != "Z"
}

// readStat reads a process's pid, parent pid and state from /proc/PID/stat.
func readStat(path string) (pid, ppid int, state string, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, "", false
	}
	text := string(b)
	end := strings.LastIndexByte(text, ')') // the command name may hold spaces and parentheses
	fields := strings.Fields(text[end+1:])
	if end < 0 || len(fields) < 2 {
		return 0, 0, "", false
	}
	pid, err1 := strconv.Atoi(strings.Fields(text)[0])
	ppid, err2 := strconv.Atoi(fields[1])
	return pid, ppid, fields[0], err1 == nil && err2 == nil
}
