package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"interopraw/internal/rawtest"
)

// The tests here run the program as a process: the test binary runs main's code when
// serverEnv is set (TestMain), so no separate build is needed.

const serverEnv = "INTEROPRAW_TEST_RUN_SERVER"

func TestMain(m *testing.M) { rawtest.Main(m, serverEnv, run) }

// command is the server program, run from the repository root with these flags.
func command(t *testing.T, args ...string) (*exec.Cmd, *rawtest.Buffer) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Dir = rawtest.RepoRoot(t)
	cmd.Env = append(os.Environ(), serverEnv+"=1")
	stderr := &rawtest.Buffer{}
	cmd.Stderr = stderr
	return cmd, stderr
}

type serverProcess struct {
	cmd    *exec.Cmd
	stderr *rawtest.Buffer
	lines  chan string   // stdout, line by line; closed at its end
	exited chan struct{} // closed once the process has exited; then err is set
	err    error
}

// startProcess starts the server with these flags and returns it with the port of its
// listening line.
func startProcess(t *testing.T, args ...string) (*serverProcess, int) {
	t.Helper()
	cmd, stderr := command(t, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, stderr: stderr, lines: make(chan string, 100), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.err = cmd.Wait() // after stdout's end: Wait closes the pipe
		close(p.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("server stderr:\n%s", stderr.String())
		}
	})

	var line string
	select {
	case l, ok := <-p.lines:
		if !ok {
			t.Fatalf("the server printed nothing and closed its stdout; stderr:\n%s", stderr.String())
		}
		line = l
	case <-time.After(rawtest.HangGuard):
		t.Fatalf("no listening line in %v", rawtest.HangGuard)
	}
	var ev struct {
		Event string `json:"event"`
		Port  int    `json:"port"`
	}
	if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Event != "listening" || ev.Port <= 0 ||
		line != fmt.Sprintf(`{"event":"listening","port":%d}`, ev.Port) {
		t.Fatalf("first stdout line %q, want {\"event\":\"listening\",\"port\":P}", line)
	}
	return p, ev.Port
}

// wait waits for the process to exit and returns its exit code.
func (p *serverProcess) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(rawtest.HangGuard):
		t.Fatalf("the server did not exit in %v", rawtest.HangGuard)
	}
	var ee *exec.ExitError
	if p.err != nil && !errors.As(p.err, &ee) {
		t.Fatal(p.err)
	}
	for l := range p.lines {
		t.Errorf("more on stdout: %q", l)
	}
	return p.cmd.ProcessState.ExitCode()
}

func TestProcessStopsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			p, port := startProcess(t, "--port=0")
			addr := fmt.Sprintf("127.0.0.1:%d", port)

			probe, err := net.Dial("tcp", addr) // the runner's readiness probe
			if err != nil {
				t.Fatal(err)
			}
			probe.Close()

			c := dial(t, addr)
			wantCount(t, c.until(c.call(scenario(headersAction(okHeaders, true)))), 1)
			sleeping := c.call(scenario(headersAction(okHeaders, false), map[string]any{"sleep_ms": 3_600_000}))
			wantHeaders(t, c.next(), okHeaders, false)

			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := p.wait(t); code != 0 {
				t.Errorf("exit code %d, want 0", code)
			}
			if evs := c.until(sleeping); len(evs) != 1 || !evs[0].EOF {
				t.Errorf("the open connection got %+v, want its end", evs)
			}
		})
	}
}

func TestProcessBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--port=x"},
		{"--port=70000"},
		{"--port=-1"},
		{"--port=0", "--no_such_flag=1"},
		{"--port=0", "--use_tls=maybe"},
		{"--port=0", "--fault=stream-truncate"},
		{"--port=0", "--fault=raw-well-behaved,"},
		{"--port=0", "extra"},
		{"--port=0", "--host="},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			cmd, stderr := command(t, args...)
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit: %v, want exit code 2; stderr %q", err, stderr.String())
			}
			if lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n"); len(lines) != 1 || lines[0] == "" {
				t.Errorf("stderr %q, want one line", stderr.String())
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}

// TLS with the default certificate paths (relative to the repository root), and the fault.
func TestProcessTLSAndFault(t *testing.T) {
	p, port := startProcess(t, "--port=0", "--use_tls=true", "--fault=raw-well-behaved")
	rt := &http2.Transport{TLSClientConfig: clientTLSConfig(t)}
	defer rt.CloseIdleConnections()
	resp, body := grpcPost(t, rt, fmt.Sprintf("https://127.0.0.1:%d", port), scenario(map[string]any{"close": true}))
	if resp.TLS == nil || resp.TLS.NegotiatedProtocol != "h2" {
		t.Fatalf("TLS state %+v, want ALPN h2", resp.TLS)
	}
	wantHeader(t, resp.Header, "content-type", "application/grpc")
	if !bytes.Equal(body, []byte{0, 0, 0, 0, 0}) {
		t.Errorf("body %x, want one empty message", body)
	}
	wantHeader(t, resp.Trailer, "grpc-status", "0")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

func TestProcessMissingCertificate(t *testing.T) {
	cmd, stderr := command(t, "--port=0", "--use_tls=true", "--tls_cert_file=certs/no-such.pem")
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "no-such.pem") {
		t.Errorf("exit: %v, stderr %q; want exit code 1 and the reason", err, stderr.String())
	}
}
