// Package servertest starts the Go peer's server in-process, for tests.
package servertest

import (
	"net"
	"testing"

	"google.golang.org/grpc"

	"interopmatrix/internal/faults"
	"interopmatrix/internal/services"
)

// Start serves every service, with faults f, on an ephemeral 127.0.0.1 port until the test
// ends, and returns the port; opts add server options (the transport credentials, for one).
func Start(tb testing.TB, f faults.Set, opts ...grpc.ServerOption) int {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := services.NewServer(f, opts...)
	go s.Serve(lis)
	tb.Cleanup(s.Stop)
	return lis.Addr().(*net.TCPAddr).Port
}
