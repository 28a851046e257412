package cases

import (
	"google.golang.org/grpc"

	"interopmatrix/gen/health"
)

// healthWatchServing: Health/Watch{service:""} first sends SERVING; the client then cancels.
func healthWatchServing(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		return expectWatchFirst(t, health.NewHealthClient(conn), "", "SERVING")
	})
}
