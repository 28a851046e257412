package client

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/result"
	"interopmatrix/internal/servertest"
)

// run runs names against a server with faults f and returns the exit code, the result
// lines and stderr.
func run(t *testing.T, f faults.Set, names ...string) (int, []result.Line, string) {
	t.Helper()
	return runTarget(t, cases.Target{Host: "127.0.0.1", Port: servertest.Start(t, f), RPCTimeout: time.Second}, names...)
}

// runTarget runs names against target and returns the exit code, the result lines and stderr.
func runTarget(t *testing.T, target cases.Target, names ...string) (int, []result.Line, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	code := Run(Config{Target: target, Cases: names}, &stdout, &stderr)
	var lines []result.Line
	for _, text := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		var line result.Line
		if err := json.Unmarshal([]byte(text), &line); err != nil {
			t.Fatalf("stdout line %q is not JSON: %v", text, err)
		}
		lines = append(lines, line)
	}
	return code, lines, stderr.String()
}

func TestRunPasses(t *testing.T) {
	code, lines, stderr := run(t, nil, "greeter_say_hello", "stream_bidi")
	if code != 0 || len(lines) != 2 || stderr != "" {
		t.Fatalf("exit %d, lines %+v, stderr %q", code, lines, stderr)
	}
	for i, name := range []string{"greeter_say_hello", "stream_bidi"} {
		if lines[i].Case != name || lines[i].Status != "passed" || lines[i].Error != "" || lines[i].Ms < 0 {
			t.Errorf("line %d = %+v", i, lines[i])
		}
	}
}

func TestRunGoesOnAfterAFailure(t *testing.T) {
	code, lines, stderr := run(t, faults.Set{faults.AgainWrong: true}, "greeter_say_hello_again", "no_such_case", "greeter_say_hello")
	if code != 1 || len(lines) != 3 {
		t.Fatalf("exit %d, lines %+v", code, lines)
	}
	if lines[0].Status != "failed" || !strings.Contains(lines[0].Error, "SayHelloAgain") ||
		lines[1].Status != "failed" || lines[1].Error != "unknown test case: no_such_case" ||
		lines[2].Status != "passed" {
		t.Errorf("lines %+v", lines)
	}
	for _, reason := range []string{lines[0].Error, lines[1].Error} {
		if !strings.Contains(stderr, reason) {
			t.Errorf("stderr %q lacks the failure reason %q", stderr, reason)
		}
	}
}

// TestRunReportsObserved: server_info_version's line carries what GetInfo returned, and no
// other line carries anything.
func TestRunReportsObserved(t *testing.T) {
	code, lines, stderr := run(t, faults.Set{faults.VersionWrong: true}, "server_info_version", "greeter_say_hello")
	if code != 0 || len(lines) != 2 || stderr != "" {
		t.Fatalf("exit %d, lines %+v, stderr %q", code, lines, stderr)
	}
	want := map[string]any{"language": "go", "implementation": "grpc-go", "version": "0.0.0-fault"}
	if lines[0].Status != "passed" || !reflect.DeepEqual(lines[0].Observed, want) {
		t.Errorf("server_info_version: %+v, want passed with observed %v", lines[0], want)
	}
	if lines[1].Observed != nil {
		t.Errorf("greeter_say_hello observed %v", lines[1].Observed)
	}
}

// TestRunNoChecks: under no-checks the cases a fault breaks pass, and the exit code is 0.
func TestRunNoChecks(t *testing.T) {
	target := cases.Target{Host: "127.0.0.1", Port: servertest.Start(t, faults.Set{faults.StreamTruncate: true, faults.HealthServingAny: true}), RPCTimeout: time.Second, NoChecks: true}
	code, lines, stderr := runTarget(t, target, "stream_server", "health_unknown_service", "stream_server_max_count")
	if code != 0 || len(lines) != 3 || stderr != "" {
		t.Fatalf("exit %d, lines %+v, stderr %q", code, lines, stderr)
	}
	for _, line := range lines {
		if line.Status != "passed" || line.Error != "" {
			t.Errorf("no-checks: %+v", line)
		}
	}
}
