package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"interopraw/internal/rawtest"
)

// The tests here run the program as a process: the test binary runs main's code when
// clientEnv is set (TestMain), so no separate build is needed.

// runProcess runs the client with these flags from the repository root and returns its exit
// code, stdout and stderr.
func runProcess(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), rawtest.HangGuard)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Dir = rawtest.RepoRoot(t)
	cmd.Env = append(os.Environ(), clientEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the client did not exit in %v; stderr:\n%s", rawtest.HangGuard, stderr.String())
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

func TestProcessBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--test_case=a"},
		{"--server_port=1"},
		{"--server_port=1", "--test_case="},
		{"--server_port=0", "--test_case=a"},
		{"--server_port=65536", "--test_case=a"},
		{"--server_port=x", "--test_case=a"},
		{"--server_port=1", "--test_case=a,,b"},
		{"--server_port=1", "--test_case=a", "--rpc_timeout_ms=0"},
		{"--server_port=1", "--test_case=a", "--rpc_timeout_ms=-5"},
		{"--server_port=1", "--test_case=a", "--rpc_timeout_ms=x"},
		{"--server_port=1", "--test_case=a", "--client_fault=scripted-lenient"},
		{"--server_port=1", "--test_case=a", "--client_fault=raw-client-well-behaved,"},
		{"--server_port=1", "--test_case=a", "--no_such_flag=1"},
		{"--server_port=1", "--test_case=a", "--use_tls=maybe"},
		{"--server_port=1", "--test_case=a", "--server_host="},
		{"--server_port=1", "--test_case=a", "extra"},
		{"--server_port=1", "--test_case=a", "--executor"},
		{"--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runProcess(t, args...)
			if code != 2 {
				t.Errorf("exit code %d, want 2; stderr %q", code, stderr)
			}
			if lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n"); len(lines) != 1 || lines[0] == "" {
				t.Errorf("stderr %q, want one line", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

// Every case on a connection of its own, the lines in order; the default --ca_file is
// certs/ca.pem in the working directory; single-dash flags and a bare --use_tls work.
func TestProcessRunsCases(t *testing.T) {
	h := &grpcHandler{}
	port := startH2(t, h, serverTLS(t, "h2"))
	cases := writeCases(t, map[string]any{"one": grpcRequest(), "two": grpcRequest()})
	code, stdout, stderr := runProcess(t, "-server_port="+port, "--test_case=one,two", "-cases_file="+cases, "--use_tls", "--use_test_ca",
		"--server_host_override=foo.test.google.fr", "--server_unix_socket=/nonexistent.sock", "--rpc_timeout_ms=20000")
	lines := parseLines(t, stdout)
	if code != 0 || len(lines) != 2 || lines[0].Case != "one" || lines[1].Case != "two" {
		t.Fatalf("exit code %d, stdout %q; want 0 and two lines; stderr:\n%s", code, stdout, stderr)
	}
	for _, l := range lines {
		wantOK(t, l)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.reqs) != 2 {
		t.Errorf("the server received %d calls, want 2", len(h.reqs))
	}
	for _, want := range []string{"case one: connected to 127.0.0.1:" + port + " over TLS", "case two: connected to",
		"case one: sent HEADERS stream=1", "case one: received HEADERS stream=1", "    :status: 200", "case two: the stream ended: end_stream",
		"case one: received DATA stream=1 len=7"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the log has no %q:\n%s", want, stderr)
		}
	}
}

func TestProcessExitsOneWhenACaseFails(t *testing.T) {
	h := &grpcHandler{}
	port := startH2(t, h, nil)
	code, stdout, stderr := runProcess(t, "--server_port="+port, "--test_case=nope,ok", "--cases_file="+writeCases(t, map[string]any{"ok": grpcRequest()}))
	lines := parseLines(t, stdout)
	if code != 1 || len(lines) != 2 || lines[0].Status != "failed" || lines[0].Error != "unknown test case: nope" || lines[1].Status != "passed" {
		t.Errorf("exit code %d, stdout %q; want 1, nope failed and ok passed", code, stdout)
	}
	if !strings.Contains(stderr, "case nope: failed: unknown test case: nope") {
		t.Errorf("stderr %q, want the reason", stderr)
	}
}
