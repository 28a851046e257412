// Package cases holds the client's test cases of the seeds suite, one function per case, and
// the registry that runs them by name (docs/peer-contract.md, "Cases of the seeds suite").
package cases

import (
	"context"
	"net"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Target is the server under test.
type Target struct {
	Host       string
	Port       int
	RPCTimeout time.Duration // the deadline of every RPC, and of every stream as a whole
}

// rpcContext returns the context for one RPC or one whole stream.
func (t Target) rpcContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), t.RPCTimeout)
}

// dial opens a new channel to the target.
func (t Target) dial() (*grpc.ClientConn, error) {
	return grpc.NewClient(net.JoinHostPort(t.Host, strconv.Itoa(t.Port)),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
}

// onChannel runs f on a new channel to the target, then closes the channel.
func (t Target) onChannel(f func(*grpc.ClientConn) error) error {
	conn, err := t.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	return f(conn)
}

// invoke makes one unary call with the RPC deadline.
func invoke[Req, Resp any](t Target, rpc func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (Resp, error) {
	ctx, cancel := t.rpcContext()
	defer cancel()
	return rpc(ctx, req)
}
