//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// repoRoot is the repository root, four levels above this package.
func repoRoot(t *testing.T) string {
	root, err := filepath.Abs("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// needFile skips the test when a build output is missing.
func needFile(t *testing.T, path, how string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s is not built (%s)", path, how)
	}
}

// startGoServer starts the Go peer's server with args and --port=0 and returns its port; the
// server is killed when the test ends.
func startGoServer(t *testing.T, server string, args ...string) int {
	t.Helper()
	cmd := exec.Command(server, append([]string{"--port=0"}, args...)...)
	logPath := filepath.Join(t.TempDir(), "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	serverLog := func() string { data, _ := os.ReadFile(logPath); return string(data) }
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	select {
	case line := <-lines:
		var listening struct {
			Event string `json:"event"`
			Port  int    `json:"port"`
		}
		if err := json.Unmarshal([]byte(line), &listening); err != nil || listening.Event != "listening" {
			t.Fatalf("%s %q printed %q, want the listening line; stderr:\n%s", server, args, line, serverLog())
		}
		return listening.Port
	case <-time.After(time.Minute): // only a bound on a broken server, not a timing assumption
		t.Fatalf("%s %q printed no listening line; stderr:\n%s", server, args, serverLog())
		return 0
	}
}

// TestAgainstTheGoServer runs the cases with the real tools against the Go peer's server over
// each transport, with the contract's flags. The health-probe cases need only grpc.health.v1;
// the grpcurl cases need server reflection, and are skipped while the server has none.
func TestAgainstTheGoServer(t *testing.T) {
	root := repoRoot(t)
	server := filepath.Join(root, "build/go/server")
	tools := filepath.Join(root, "build/tools-peers")
	needFile(t, server, "bash interop/go/build.sh")
	needFile(t, filepath.Join(tools, "grpc-health-probe"), "bash interop/tools/build.sh")
	needFile(t, filepath.Join(tools, "grpcurl"), "bash interop/tools/build.sh")
	t.Chdir(root) // where the runner runs clients: certs/ is relative to it
	serverArgs := map[string][]string{"insecure": nil, "tls": {"--use_tls=true"}, "mtls": {"--use_tls=true", "--require_client_cert=true"}}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			port := startGoServer(t, server, serverArgs[tr.name]...)
			run := func(tool, cases string) (int, []result, string) {
				cfg, err := parseFlags(append([]string{"--tool=" + tool, "--server_port=" + strconv.Itoa(port), "--test_case=" + cases}, tr.args...))
				if err != nil {
					t.Fatal(err)
				}
				var stdout, log strings.Builder
				code := runner{dir: tools, killMargin: killMargin}.run(cfg, &stdout, &log)
				var lines []result
				for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
					var r result
					if err := json.Unmarshal([]byte(l), &r); err != nil {
						t.Fatalf("result line %q: %v", l, err)
					}
					lines = append(lines, r)
				}
				return code, lines, log.String()
			}
			if code, lines, log := run("grpc-health-probe", "health_probe_service,health_probe_unknown_service"); code != 0 {
				t.Errorf("grpc-health-probe: exit %d, %+v; log:\n%s", code, lines, log)
			}
			code, lines, log := run("grpcurl", "grpcurl_list,grpcurl_describe,grpcurl_call,grpcurl_health")
			if strings.Contains(log, "server does not support the reflection API") {
				t.Skipf("grpcurl: the Go server has no reflection yet")
			}
			if code != 0 {
				t.Errorf("grpcurl: exit %d, %+v; log:\n%s", code, lines, log)
			}
		})
	}
}
