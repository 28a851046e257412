package cases

import (
	"google.golang.org/grpc"

	"interopmatrix/gen/grpctesting"
)

// emptyStream: FullDuplexCall half-closed at once → no response, OK.
func emptyStream(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		ctx, cancel := t.rpcContext()
		defer cancel()
		stream, err := grpctesting.NewTestServiceClient(conn).FullDuplexCall(ctx)
		if err != nil {
			return failed("FullDuplexCall", err)
		}
		if err := stream.CloseSend(); err != nil {
			return failed("FullDuplexCall: half-close", err)
		}
		return expectEnd("FullDuplexCall half-closed at once", stream)
	})
}
