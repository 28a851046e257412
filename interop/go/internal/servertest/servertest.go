// Package servertest starts the Go peer's server in-process, for tests.
package servertest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"

	"interopmatrix/internal/faults"
	"interopmatrix/internal/server"
	"interopmatrix/internal/services"
)

// Start serves every service, with faults f, on an ephemeral 127.0.0.1 port until the test
// ends, and returns the port; opts add server options (the transport credentials, for one).
// The server cannot restart (script.restart_server_after_ms): Serve's can.
func Start(tb testing.TB, f faults.Set, opts ...grpc.ServerOption) int {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := services.NewServer(f, nil, opts...)
	go s.Serve(lis)
	tb.Cleanup(s.Stop)
	return lis.Addr().(*net.TCPAddr).Port
}

// Serve runs the server of the command line args (server.ParseFlags, then server.Serve: every
// address it listens on, --ipv6_loopback's, --second_host's and --unix_socket's included) until
// the test ends, and returns the port of its listening line.
func Serve(tb testing.TB, args ...string) int {
	tb.Helper()
	cfg, err := server.ParseFlags(args)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stdout, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := server.Serve(ctx, cfg, w)
		w.Close()
		done <- err
	}()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("server %q: %v", args, err)
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var listening struct{ Port int }
	if err != nil || json.Unmarshal([]byte(line), &listening) != nil || listening.Port <= 0 {
		tb.Fatalf("server %q: no listening line: %q, %v", args, line, err)
	}
	go io.Copy(io.Discard, stdout) // nothing more comes
	return listening.Port
}

// SocketPath is an absolute path for a Unix domain socket in a new temporary directory, removed
// when the test ends. It is short (a socket's path has at most 107 bytes): under os.TempDir,
// not the test's own (longer) temporary directory.
func SocketPath(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "interop-go")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "server.sock")
}
