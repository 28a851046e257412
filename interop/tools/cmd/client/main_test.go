package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildClient builds this command into a fresh directory, where the tests put fake tools
// beside it as build.sh puts the real ones.
func buildClient(t *testing.T) (dir, exe string) {
	t.Helper()
	dir = t.TempDir()
	exe = filepath.Join(dir, "client")
	if out, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir, exe
}

func runExe(t *testing.T, exe string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(exe, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	dir, exe := buildClient(t)
	recs := loadRecordings(t)
	fakeTool(t, dir, "grpc-health-probe", reply{"no.such.Service", recs["probe_unknown"]}, reply{"-addr=", recs["probe_server"]})
	probe := []string{"--tool=grpc-health-probe", "--server_port=4000"}

	code, stdout, stderr := runExe(t, exe, append(probe, "--test_case=health_probe_service,health_probe_unknown_service")...)
	if code != 0 || strings.Count(stdout, `"status":"passed"`) != 2 || strings.Count(stdout, "\n") != 2 {
		t.Errorf("every case passed: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = runExe(t, exe, append(probe, "--test_case=health_probe_service,grpcurl_list")...)
	if code != 1 || !strings.Contains(stdout, `{"case":"grpcurl_list","status":"failed","ms":`) {
		t.Errorf("a case failed: exit %d, stdout %q", code, stdout)
	}
	// Bad flags: exit 2, nothing on stdout, one line on stderr.
	for _, args := range [][]string{
		append(probe, "--test_case=health_probe_service", "--bogus=1"),
		{"--server_port=4000", "--test_case=health_probe_service"},
		append(probe, "--test_case=health_probe_service", "--client_fault=no-cancel"),
	} {
		code, stdout, stderr := runExe(t, exe, args...)
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "client: ") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	code, stdout, stderr = runExe(t, exe, "-h")
	if code != 0 || stdout != "" || !strings.Contains(stderr, "-tool") {
		t.Errorf("-h: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestToolsFoundBesideTheExecutable: through a symbolic link too (the link's target's
// directory holds the tools).
func TestToolsFoundBesideTheExecutable(t *testing.T) {
	dir, exe := buildClient(t)
	fakeTool(t, dir, "grpcurl", reply{" list", loadRecordings(t)["list_python"]})
	link := filepath.Join(t.TempDir(), "client")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runExe(t, link, "--tool=grpcurl", "--server_port=4000", "--test_case=grpcurl_list"); code != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
