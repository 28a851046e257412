package cases

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/grpctesting"
)

// statusCodeAndMessage: UnaryCall{response_status:{code:2, message:"test status message"}}
// → UNKNOWN with exactly that message; the same over FullDuplexCall (one request, then
// half-close).
func statusCodeAndMessage(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		const message = "test status message"
		client := grpctesting.NewTestServiceClient(conn)
		if err := expectEchoedUnaryStatus(t, client, codes.Unknown, message); err != nil {
			return err
		}
		const call = `FullDuplexCall{response_status:{code:2, message:"test status message"}}`
		ctx, cancel := t.rpcContext()
		defer cancel()
		stream, err := client.FullDuplexCall(ctx)
		if err != nil {
			return failed(call, err)
		}
		// A failed Send ends the call; the Recv reports its status.
		_ = stream.Send(&grpctesting.StreamingOutputCallRequest{ResponseStatus: echoStatus(codes.Unknown, message)})
		if err := stream.CloseSend(); err != nil {
			return failed(call+": half-close", err)
		}
		_, err = stream.Recv() // the status, and no response before it
		return expectExactStatus(call, err, codes.Unknown, message)
	})
}
