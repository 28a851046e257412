package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"interopmatrix/internal/binarytest"
	"interopmatrix/internal/cases"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/servertest"
	"interopmatrix/internal/transporttest"
)

var (
	clientBin string
	buildErr  error
)

func TestMain(m *testing.M) {
	bin, cleanup, err := binarytest.Build("client")
	clientBin, buildErr = bin, err
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// runClient runs the client binary and returns its exit code, stdout and stderr.
func runClient(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	if buildErr != nil {
		t.Skipf("cannot build the client binary, skipping: %v", buildErr)
	}
	cmd := exec.Command(clientBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

// resultLines checks that stdout is one well-formed JSON result line per case, and
// returns each line's status and error.
func resultLines(t *testing.T, stdout string, names []string) (statuses, errs []string) {
	t.Helper()
	statuses, errs, _ = observedLines(t, stdout, names)
	return statuses, errs
}

// observedLines is resultLines, and also returns each line's "observed" (nil for none).
func observedLines(t *testing.T, stdout string, names []string) (statuses, errs []string, observed []map[string]any) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != len(names) {
		t.Fatalf("%d lines on stdout for %d cases:\n%s", len(lines), len(names), stdout)
	}
	for i, line := range lines {
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		status, _ := fields["status"].(string)
		errText, hasErr := fields["error"].(string)
		_, msIsNumber := fields["ms"].(float64)
		seen, hasObserved := fields["observed"].(map[string]any)
		wantKeys := 3 // case, status, ms
		if hasErr {
			wantKeys++
		}
		if hasObserved {
			wantKeys++
		}
		if fields["case"] != names[i] || !msIsNumber || len(fields) != wantKeys ||
			(status == "passed") == hasErr || (status != "passed" && status != "failed") {
			t.Errorf("malformed result line %q for case %s", line, names[i])
		}
		statuses, errs, observed = append(statuses, status), append(errs, errText), append(observed, seen)
	}
	return statuses, errs, observed
}

func serverArgs(port int, names ...string) []string {
	return []string{"--server_host=127.0.0.1", "--server_port=" + strconv.Itoa(port), "--test_case=" + strings.Join(names, ",")}
}

func TestEverySingleProcessCasePasses(t *testing.T) {
	names := slices.Concat(slices.DeleteFunc(cases.SeedsNames(), func(name string) bool { return name == "reuseport_workers" }), cases.DiscoveryNames())
	code, stdout, stderr := runClient(t, serverArgs(servertest.Start(t, nil), names...)...)
	statuses, _ := resultLines(t, stdout, names)
	if code != 0 || stderr != "" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	for i, status := range statuses {
		if status != "passed" {
			t.Errorf("%s: %s", names[i], status)
		}
	}
}

// TestTransports runs the client binary with the contract's flags of each transport against
// a server of that transport: every grpc.testing case passes, and the seeds cases that dial
// their own way.
func TestTransports(t *testing.T) {
	names := append(cases.TestingNames(), "greeter_say_hello", "multi_address_failover")
	for _, transport := range transporttest.Names {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			port := servertest.Start(t, nil, grpc.Creds(transporttest.ServerCreds(t, transport)))
			code, stdout, stderr := runClient(t, append(serverArgs(port, names...), transporttest.ClientArgs(transport)...)...)
			statuses, _ := resultLines(t, stdout, names)
			if code != 0 {
				t.Errorf("exit %d, statuses %q, stderr:\n%s", code, statuses, stderr)
			}
		})
	}
}

func TestTLSClientFailsWithTheWrongServerName(t *testing.T) {
	port := servertest.Start(t, nil, grpc.Creds(transporttest.ServerCreds(t, "tls")))
	names := []string{"empty_unary", "multi_address_failover"}
	args := append(serverArgs(port, names...), "--use_tls=true", "--use_test_ca=true", "--server_host_override=foo.example.org", "--rpc_timeout_ms=1000")
	code, stdout, stderr := runClient(t, args...)
	statuses, errs := resultLines(t, stdout, names)
	if code != 1 || !slices.Equal(statuses, []string{"failed", "failed"}) || !strings.Contains(errs[0], "foo.example.org") {
		t.Errorf("exit %d, statuses %q, errors %q, stderr:\n%s", code, statuses, errs, stderr)
	}
}

func TestNoCancelFaultBreaksTheCancellingCases(t *testing.T) {
	names := []string{"cancel_after_begin", "cancel_after_first_response", "timeout_on_sleeping_server", "empty_unary"}
	code, stdout, _ := runClient(t, append(serverArgs(servertest.Start(t, nil), names...), "--client_fault=no-cancel")...)
	statuses, errs := resultLines(t, stdout, names)
	if code != 1 || !slices.Equal(statuses, []string{"failed", "failed", "failed", "passed"}) {
		t.Errorf("exit %d, statuses %q, errors %q", code, statuses, errs)
	}
}

// TestServerInfoVersionObserved: server_info_version passes and its line carries exactly what
// GetInfo returned, the version-wrong fault's version included; no other line carries any.
func TestServerInfoVersionObserved(t *testing.T) {
	names := []string{"server_info_version", "greeter_say_hello"}
	for _, tc := range []struct {
		faults  faults.Set
		version string
	}{
		{nil, grpc.Version},
		{faults.Set{faults.VersionWrong: true}, "0.0.0-fault"},
	} {
		code, stdout, stderr := runClient(t, serverArgs(servertest.Start(t, tc.faults), names...)...)
		statuses, _, observed := observedLines(t, stdout, names)
		want := map[string]any{"language": "go", "implementation": "grpc-go", "version": tc.version}
		if code != 0 || !slices.Equal(statuses, []string{"passed", "passed"}) || !reflect.DeepEqual(observed[0], want) || observed[1] != nil {
			t.Errorf("faults %q: exit %d, statuses %q, observed %v, stderr %q; want observed %v first", tc.faults, code, statuses, observed, stderr, want)
		}
	}
}

// TestNoChecksFaultPassesWhatAFaultBreaks: --client_fault=no-checks makes the cases a server
// fault breaks pass, in every suite.
func TestNoChecksFaultPassesWhatAFaultBreaks(t *testing.T) {
	f := faults.Set{faults.StreamTruncate: true, faults.TestingStatusUnknown: true, faults.TestingEmptyPayload: true}
	names := []string{"stream_server", "status_unary_non_unknown", "large_unary", "mtls_client_without_certificate"}
	port := servertest.Start(t, f)
	code, stdout, _ := runClient(t, serverArgs(port, names...)...)
	if statuses, _ := resultLines(t, stdout, names); code != 1 || slices.Contains(statuses, "passed") {
		t.Fatalf("with its checks: exit %d, statuses %q; want every case failed", code, statuses)
	}
	code, stdout, stderr := runClient(t, append(serverArgs(port, names...), "--client_fault=no-checks")...)
	statuses, _ := resultLines(t, stdout, names)
	if code != 0 || stderr != "" || !slices.Equal(statuses, []string{"passed", "passed", "passed", "passed"}) {
		t.Errorf("no-checks: exit %d, statuses %q, stderr %q; want every case passed", code, statuses, stderr)
	}
}

func TestFailuresExitOne(t *testing.T) {
	names := []string{"greeter_say_hello", "helloworld_service", "bogus"}
	port := servertest.Start(t, faults.Set{faults.GreetingPunctuation: true})
	code, stdout, stderr := runClient(t, serverArgs(port, names...)...)
	statuses, errs := resultLines(t, stdout, names)
	if code != 1 || !slices.Equal(statuses, []string{"failed", "passed", "failed"}) {
		t.Fatalf("exit %d, statuses %q", code, statuses)
	}
	if errs[0] != `SayHello("world"): expected "Hello, world!", got "Hello, world"` || errs[2] != "unknown test case: bogus" {
		t.Errorf("errors %q", errs)
	}
	for _, reason := range []string{errs[0], errs[2]} {
		if !strings.Contains(stderr, reason) {
			t.Errorf("stderr %q lacks %q", stderr, reason)
		}
	}
}

func TestHungServerFailsInBoundedTime(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts connections, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	names := []string{"greeter_say_hello", "stream_bidi"}
	start := time.Now()
	args := append(serverArgs(silent.Addr().(*net.TCPAddr).Port, names...), "--rpc_timeout_ms=300")
	code, stdout, _ := runClient(t, args...)
	statuses, _ := resultLines(t, stdout, names)
	if code != 1 || !slices.Equal(statuses, []string{"failed", "failed"}) {
		t.Errorf("exit %d, statuses %q", code, statuses)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("took %v against a hung server", elapsed)
	}
}

// TestBenchOverEachTransport runs the load mode with a small load, with the contract's client
// flags of each transport: one JSON line per measurement on stdout, and nothing else.
func TestBenchOverEachTransport(t *testing.T) {
	for _, transport := range transporttest.Names {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			port := servertest.Start(t, nil, grpc.Creds(transporttest.ServerCreds(t, transport)))
			args := append([]string{"--server_port=" + strconv.Itoa(port), "--bench=unary,server_streaming",
				"--bench_calls=50", "--bench_warmup=5", "--bench_messages=500"}, transporttest.ClientArgs(transport)...)
			code, stdout, stderr := runClient(t, args...)
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if code != 0 || stderr != "" || len(lines) != 2 {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			var unary, stream struct {
				Bench    string
				Calls    int
				Messages int
			}
			if json.Unmarshal([]byte(lines[0]), &unary) != nil || unary.Bench != "unary" || unary.Calls != 50 ||
				json.Unmarshal([]byte(lines[1]), &stream) != nil || stream.Bench != "server_streaming" || stream.Messages != 500 {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
}

func TestBadFlagsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"--test_case=greeter_say_hello"},
		{"--server_port=1"},
		{"--server_port=1", "--test_case=greeter_say_hello", "--client_fault=nope"},
		{"--server_port=1", "--test_case=greeter_say_hello", "--use_tls=true", "--client_cert_file=certs/client.pem"},
		{"--server_port=1", "--test_case=greeter_say_hello", "--use_tls=true", "--use_test_ca=true", "--ca_file=/nonexistent/ca.pem"},
		{"--server_port=1", "--test_case=greeter_say_hello", "--no_such_flag"},
		{"--server_port=abc", "--test_case=greeter_say_hello"},
		{"--server_port=1", "--bench=nope"},
		{"--server_port=1", "--bench=unary", "--test_case=greeter_say_hello"},
		{"--server_port=1", "--bench_calls=50"},
	} {
		code, stdout, stderr := runClient(t, args...)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2, nothing, one line", args, code, stdout, stderr)
		}
	}
}

// TestExecutorFlagAlone: --executor with any other flag is a usage error; alone, with stdin at
// its end, the executor prints nothing and exits 0.
func TestExecutorFlagAlone(t *testing.T) {
	for _, args := range [][]string{{"--executor", "--server_port=1"}, {"--test_case=greeter_say_hello", "--executor"}, {"--executor", "-h"}} {
		code, stdout, stderr := runClient(t, args...)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--executor") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2, nothing, one line", args, code, stdout, stderr)
		}
	}
	if code, stdout, stderr := runClient(t, "--executor"); code != 0 || stdout != "" || stderr != "" {
		t.Errorf("--executor at end of stdin: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestExecutorAnswersAsItGoes runs the executor binary with a request at a time: each
// request's case lines and end line arrive before the next request is sent (nothing waits in a
// buffer), a -help request is a flag error, and the end of stdin ends the process with 0.
func TestExecutorAnswersAsItGoes(t *testing.T) {
	if buildErr != nil {
		t.Skipf("cannot build the client binary, skipping: %v", buildErr)
	}
	cmd := exec.Command(clientBin, "--executor")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string, 64) // buffered: a failed test does not leave the reader blocked
	go func() {
		defer close(lines)
		for scanner := bufio.NewScanner(stdout); scanner.Scan(); {
			lines <- scanner.Text()
		}
		exited <- cmd.Wait() // after stdout's end, as Wait closes it
	}()
	next := func() string {
		t.Helper()
		select {
		case line := <-lines:
			return line
		case <-time.After(10 * time.Second):
			t.Fatal("no line on stdout within 10 s")
		}
		return ""
	}
	port := servertest.Start(t, nil)
	for _, step := range []struct {
		request string
		want    []string // the lines it must print, the end line last
	}{
		{`{"run":1,"args":` + jsonList(serverArgs(port, "greeter_say_hello")) + `}`, []string{`{"case":"greeter_say_hello","status":"passed"`, `{"run":1,"exit_code":0}`}},
		{`{"run":2,"args":["-help"]}`, []string{`{"run":2,"exit_code":2,"error":"-help is not taken in executor mode"}`}},
	} {
		if _, err := io.WriteString(stdin, step.request+"\n"); err != nil {
			t.Fatal(err)
		}
		for _, want := range step.want {
			if line := next(); !strings.HasPrefix(line, want) {
				t.Fatalf("request %s: line %q, want %s…", step.request, line, want)
			}
		}
	}
	stdin.Close()
	if line, open := <-lines; open {
		t.Fatalf("after the last request: %q", line)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("at end of stdin: %v, stderr %q", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the executor did not exit within 10 s of the end of stdin")
	}
	if log := stderr.String(); !strings.HasPrefix(log, `{"run":1,"exit_code":0}`+"\n") || !strings.HasSuffix(log, `{"run":2,"exit_code":2,"error":"-help is not taken in executor mode"}`+"\n") {
		t.Errorf("stderr %q", log)
	}
}

// jsonList is list as a JSON array.
func jsonList(list []string) string {
	text, _ := json.Marshal(list)
	return string(text)
}
