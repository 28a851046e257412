package cases

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/grpctesting"
)

// cancelAfterBegin: a StreamingInputCall cancelled before it sends anything → CANCELLED.
// Under --client_fault=no-cancel it half-closes instead, and must fail.
func cancelAfterBegin(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		const call = "StreamingInputCall cancelled before sending anything"
		ctx, cancelRPC := t.rpcContext()
		defer cancelRPC()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := grpctesting.NewTestServiceClient(conn).StreamingInputCall(ctx)
		if err != nil {
			return failed(call, err)
		}
		if t.NoCancel {
			_ = stream.CloseSend() // CloseAndRecv reports the call's status
		} else {
			cancel()
		}
		_, err = stream.CloseAndRecv()
		return expectStatus(call, err, codes.Canceled, "")
	})
}
