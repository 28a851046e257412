package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"interopmatrix/internal/binarytest"
	"interopmatrix/internal/cases"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/servertest"
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
		wantKeys := 3 // case, status, ms
		if hasErr {
			wantKeys++
		}
		if fields["case"] != names[i] || !msIsNumber || len(fields) != wantKeys ||
			(status == "passed") == hasErr || (status != "passed" && status != "failed") {
			t.Errorf("malformed result line %q for case %s", line, names[i])
		}
		statuses, errs = append(statuses, status), append(errs, errText)
	}
	return statuses, errs
}

func serverArgs(port int, names ...string) []string {
	return []string{"--server_host=127.0.0.1", "--server_port=" + strconv.Itoa(port), "--test_case=" + strings.Join(names, ",")}
}

func TestEverySingleProcessCasePasses(t *testing.T) {
	names := slices.DeleteFunc(cases.Names(), func(name string) bool { return name == "reuseport_workers" })
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

func TestBadFlagsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"--test_case=greeter_say_hello"},
		{"--server_port=1"},
		{"--server_port=1", "--test_case=greeter_say_hello", "--use_tls=true"},
		{"--server_port=1", "--test_case=greeter_say_hello", "--no_such_flag"},
		{"--server_port=abc", "--test_case=greeter_say_hello"},
	} {
		code, stdout, stderr := runClient(t, args...)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2, nothing, one line", args, code, stdout, stderr)
		}
	}
}
