package cases

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/grpctesting"
)

// cancelAfterFirstResponse: a FullDuplexCall cancelled once its first response (31415)
// arrived → CANCELLED. Under --client_fault=no-cancel it half-closes instead, and must fail.
func cancelAfterFirstResponse(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		const call = "FullDuplexCall cancelled after the first response"
		ctx, cancelRPC := t.rpcContext()
		defer cancelRPC()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := grpctesting.NewTestServiceClient(conn).FullDuplexCall(ctx)
		if err != nil {
			return failed(call, err)
		}
		// A failed Send ends the call; the Recv reports its status.
		_ = stream.Send(&grpctesting.StreamingOutputCallRequest{
			ResponseType:       grpctesting.PayloadType_COMPRESSABLE,
			ResponseParameters: sizes(31415),
			Payload:            zeros(27182),
		})
		if err := recvPayload("FullDuplexCall{response size 31415, payload 27182}: first response", stream, 31415); err != nil {
			return err
		}
		if t.NoCancel {
			_ = stream.CloseSend() // the Recv below reports the call's status
		} else {
			cancel()
		}
		_, err = finalStatus(stream)
		return expectStatus(call, err, codes.Canceled, "")
	})
}
