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
			_ = stream.CloseSend()
		} else {
			cancel()
		}
		// Only wait for the status: a half-close after cancel() (CloseAndRecv) could reach the
		// server before grpc-go acts on the cancellation, and the server would rightly answer OK.
		err = stream.RecvMsg(new(grpctesting.StreamingInputCallResponse))
		return expectStatus(call, err, codes.Canceled, "")
	})
}
