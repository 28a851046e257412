package cases

import (
	"fmt"

	"google.golang.org/grpc"

	"interopmatrix/gen/grpctesting"
)

// pingPong: FullDuplexCall in lockstep, 4 rounds of one request and its one response, then
// half-close → OK with no further response.
func pingPong(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		ctx, cancel := t.rpcContext()
		defer cancel()
		stream, err := grpctesting.NewTestServiceClient(conn).FullDuplexCall(ctx)
		if err != nil {
			return failed("FullDuplexCall", err)
		}
		for _, round := range []struct{ response, request int32 }{{31415, 27182}, {9, 8}, {2653, 1828}, {58979, 45904}} {
			call := fmt.Sprintf("FullDuplexCall: ping {response size %d, payload %d}", round.response, round.request)
			// A failed Send ends the call; the Recv reports its status.
			_ = stream.Send(&grpctesting.StreamingOutputCallRequest{
				ResponseType:       grpctesting.PayloadType_COMPRESSABLE,
				ResponseParameters: sizes(round.response),
				Payload:            zeros(int(round.request)),
			})
			if err := recvPayload(call, stream, int(round.response)); err != nil {
				return err
			}
		}
		if err := stream.CloseSend(); err != nil {
			return failed("FullDuplexCall: half-close", err)
		}
		return expectEnd("FullDuplexCall: after half-close", stream)
	})
}
