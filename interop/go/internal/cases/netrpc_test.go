package cases_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/repo"
)

// netrpcCases is the netrpc suite, in the contract's order.
var netrpcCases = []string{
	"netrpc_jsonrpc_getinfo", "netrpc_jsonrpc_beyond_2_53", "netrpc_jsonrpc_int64_edges",
	"netrpc_jsonrpc_wraps", "netrpc_jsonrpc_not_an_int", "netrpc_jsonrpc_unknown_method",
	"netrpc_jsonrpc_pipelined", "netrpc_http_panda", "netrpc_gob_getinfo", "netrpc_gob_unknown_method",
}

// netrpcBroken is the contract's table of the netrpc server's faults and the cases each breaks;
// every other case passes.
var netrpcBroken = map[string][]string{
	"reply-plus-two": {"netrpc_jsonrpc_getinfo", "netrpc_jsonrpc_beyond_2_53", "netrpc_jsonrpc_int64_edges",
		"netrpc_jsonrpc_wraps", "netrpc_jsonrpc_pipelined", "netrpc_gob_getinfo"},
	// float64(MaxInt64) + 1 is 2^63, which the fault turns into MinInt64 (as amd64's conversion
	// does): what the wrap gives, so netrpc_jsonrpc_wraps passes.
	"reply-float64":     {"netrpc_jsonrpc_beyond_2_53", "netrpc_jsonrpc_int64_edges", "netrpc_gob_getinfo"},
	"reply-saturate":    {"netrpc_jsonrpc_wraps", "netrpc_gob_getinfo"},
	"panda-text":        {"netrpc_http_panda"},
	"unknown-method-ok": {"netrpc_jsonrpc_unknown_method", "netrpc_gob_unknown_method"},
	"ids-swapped":       {"netrpc_jsonrpc_pipelined"},
	"params-coerced":    {"netrpc_jsonrpc_not_an_int"},
}

var (
	netrpcBuild    sync.Once
	netrpcServer   string
	netrpcBuildErr error
)

// netrpcBinary builds interop/netrpc's server (once per test binary) into a temporary directory.
func netrpcBinary(t *testing.T) string {
	t.Helper()
	netrpcBuild.Do(func() {
		root, err := repo.Root()
		if err != nil {
			netrpcBuildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "interop-go-netrpc")
		if err != nil {
			netrpcBuildErr = err
			return
		}
		netrpcServer = filepath.Join(dir, "server")
		cmd := exec.Command("go", "build", "-o", netrpcServer, "./server")
		cmd.Dir = filepath.Join(root, "interop", "netrpc")
		if out, err := cmd.CombinedOutput(); err != nil {
			netrpcBuildErr = fmt.Errorf("go build interop/netrpc/server: %v\n%s", err, out)
		}
	})
	if netrpcBuildErr != nil {
		t.Fatalf("cannot build the netrpc server: %v", netrpcBuildErr)
	}
	return netrpcServer
}

// startNetrpc starts the netrpc server with these flags and returns the port of its listening
// line; the test's cleanup stops it.
func startNetrpc(t *testing.T, flags ...string) int {
	t.Helper()
	cmd := exec.Command(netrpcBinary(t), append([]string{"--port=0"}, flags...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	line := make(chan string, 1)
	go func() { l, _ := bufio.NewReader(out).ReadString('\n'); line <- l }()
	select {
	case l := <-line:
		var got struct{ Port int }
		if err := json.Unmarshal([]byte(l), &got); err != nil || got.Port == 0 {
			t.Fatalf("netrpc server listening line %q: %v", l, err)
		}
		return got.Port
	case <-time.After(10 * time.Second):
		t.Fatal("the netrpc server printed no listening line within 10 s")
	}
	return 0
}

func TestNetrpcCasesPassAgainstTheNetrpcServer(t *testing.T) {
	tgt := target(startNetrpc(t))
	for _, name := range netrpcCases {
		if err := cases.Run(name, tgt); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestNetrpcFaultsBreakExactlyTheirCases(t *testing.T) {
	for fault, breaks := range netrpcBroken {
		t.Run(fault, func(t *testing.T) {
			tgt := target(startNetrpc(t, "--fault="+fault))
			for _, name := range netrpcCases {
				err := cases.Run(name, tgt)
				switch {
				case slices.Contains(breaks, name) && err == nil:
					t.Errorf("%s passed, but %s must break it", name, fault)
				case !slices.Contains(breaks, name) && err != nil:
					t.Errorf("%s failed, but %s must not break it: %v", name, fault, err)
				case err != nil:
					t.Logf("%s: %v", name, err)
				}
				// Under no-checks every case passes against every fault.
				noChecks := tgt
				noChecks.NoChecks = true
				if err := cases.Run(name, noChecks); err != nil {
					t.Errorf("no-checks: %s failed: %v", name, err)
				}
			}
		})
	}
}

func TestNetrpcErrorsNameCallExpectedAndGot(t *testing.T) {
	tgt := target(startNetrpc(t, "--fault=reply-plus-two,panda-text,unknown-method-ok"))
	for name, want := range map[string]string{
		"netrpc_jsonrpc_getinfo":        `JSON-RPC Panda.Getinfo(123): expected result 124 and error null, got {"id":1,"result":125,"error":null}`,
		"netrpc_jsonrpc_wraps":          `JSON-RPC Panda.Getinfo(9223372036854775807): expected result -9223372036854775808 and error null, got {"id":1,"result":-9223372036854775807,"error":null}`,
		"netrpc_jsonrpc_unknown_method": `JSON-RPC Panda.Nope(123): expected error "rpc: can't find method Panda.Nope" and a null result, got {"id":1,"result":125,"error":null}`,
		"netrpc_http_panda":             fmt.Sprintf(`GET http://127.0.0.1:%d/panda: expected 200 "panda", got 200 "Panda"`, tgt.Port),
		"netrpc_gob_getinfo":            "gob Panda.Getinfo(123): expected 124, got 125",
		"netrpc_jsonrpc_pipelined":      `JSON-RPC Panda.Getinfo(1099511627777), request id 1 of 16 pipelined: expected result 1099511627778 and error null, got {"id":1,"result":1099511627779,"error":null}`,
	} {
		err := cases.Run(name, tgt)
		if err == nil || err.Error() != want {
			t.Errorf("%s: error %v, want %s", name, err, want)
		}
	}
}

// TestNetrpcNotAnIntReportsTheAnswer: a server that answers params it cannot take with a result
// (here: the rpc-level answer of a JSON-RPC server that is not Go's, simulated) fails the case,
// quoting the answer; against Go's server the errors are non-empty strings.
func TestNetrpcNotAnIntReportsTheAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				dec := json.NewDecoder(conn)
				for {
					var req struct {
						ID json.RawMessage `json:"id"`
					}
					if dec.Decode(&req) != nil {
						return
					}
					fmt.Fprintf(conn, "{\"id\":%s,\"result\":0,\"error\":null}\n", req.ID)
				}
			}()
		}
	}()
	err = cases.Run("netrpc_jsonrpc_not_an_int", target(ln.Addr().(*net.TCPAddr).Port))
	const want = `JSON-RPC Panda.Getinfo(9223372036854775808): expected a non-empty string error and a null result, got {"id":1,"result":0,"error":null}`
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

// TestNetrpcCasesFailAtTheirDeadlineAgainstASilentServer: a server that accepts and never answers
// fails every case within about the RPC deadline.
func TestNetrpcCasesFailAtTheirDeadlineAgainstASilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	var conns []net.Conn
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	tgt := target(ln.Addr().(*net.TCPAddr).Port)
	tgt.RPCTimeout = 300 * time.Millisecond
	for _, name := range netrpcCases {
		start := time.Now()
		err := cases.Run(name, tgt)
		if err == nil {
			t.Errorf("%s passed against a silent server", name)
		}
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("%s took %v against a silent server (deadline 300 ms)", name, elapsed)
		}
		t.Logf("%s: %v", name, err)
	}
}
