package cases

import (
	"google.golang.org/grpc"

	"interopmatrix/gen/grpctesting"
)

// clientStreaming: StreamingInputCall with payloads 27182, 8, 1828, 45904 → aggregated 74922.
func clientStreaming(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		const call = "StreamingInputCall[payload 27182, 8, 1828, 45904]"
		ctx, cancel := t.rpcContext()
		defer cancel()
		stream, err := grpctesting.NewTestServiceClient(conn).StreamingInputCall(ctx)
		if err != nil {
			return failed(call, err)
		}
		for _, size := range []int{27182, 8, 1828, 45904} {
			// A failed Send ends the call; CloseAndRecv reports its status.
			_ = stream.Send(&grpctesting.StreamingInputCallRequest{Payload: zeros(size)})
		}
		reply, err := stream.CloseAndRecv()
		return expectOK(call+": aggregated_payload_size", err, int32(74922), reply.GetAggregatedPayloadSize())
	})
}
