package cases

import (
	"fmt"

	"google.golang.org/grpc"

	"interopmatrix/gen/grpctesting"
)

// serverStreaming: StreamingOutputCall{sizes 31415, 9, 2653, 58979} → those 4 payloads in
// order, then OK.
func serverStreaming(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		const call = "StreamingOutputCall{response sizes 31415, 9, 2653, 58979}"
		ctx, cancel := t.rpcContext()
		defer cancel()
		want := []int32{31415, 9, 2653, 58979}
		stream, err := grpctesting.NewTestServiceClient(conn).StreamingOutputCall(ctx,
			&grpctesting.StreamingOutputCallRequest{ResponseType: grpctesting.PayloadType_COMPRESSABLE, ResponseParameters: sizes(want...)})
		if err != nil {
			return failed(call, err)
		}
		for i, size := range want {
			if err := recvPayload(fmt.Sprintf("%s: response %d", call, i+1), stream, int(size)); err != nil {
				return err
			}
		}
		return expectEnd(call+": after response 4", stream)
	})
}
