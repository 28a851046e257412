package cases

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/grpctesting"
)

// statusBidiNonUnknown: FullDuplexCall, one request {response size 8, payload 8} answered by
// one payload of 8, then a request with response_status:{code:6, message:"already exists:
// edges"} → ALREADY_EXISTS with exactly that message, and no further payload.
func statusBidiNonUnknown(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		const message = "already exists: edges"
		ctx, cancel := t.rpcContext()
		defer cancel()
		stream, err := grpctesting.NewTestServiceClient(conn).FullDuplexCall(ctx)
		if err != nil {
			return failed("FullDuplexCall", err)
		}
		// A failed Send ends the call; the Recv reports its status.
		_ = stream.Send(&grpctesting.StreamingOutputCallRequest{
			ResponseType:       grpctesting.PayloadType_COMPRESSABLE,
			ResponseParameters: sizes(8),
			Payload:            zeros(8),
		})
		if err := recvPayload("FullDuplexCall: {response size 8, payload 8}", stream, 8); err != nil {
			return err
		}
		_ = stream.Send(&grpctesting.StreamingOutputCallRequest{ResponseStatus: echoStatus(codes.AlreadyExists, message)})
		// The status request ends the call; the half-close only makes a server that ignores it
		// end the call too (OK), instead of waiting for the deadline.
		_ = stream.CloseSend()
		call := fmt.Sprintf("FullDuplexCall: {response_status:{code:6, message:%q}}", message)
		return expectEndWithStatus(call, stream, codes.AlreadyExists, message)
	})
}
