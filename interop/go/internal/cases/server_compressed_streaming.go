package cases

import (
	"fmt"

	"google.golang.org/grpc"

	"interopmatrix/gen/grpctesting"
)

// serverCompressedStreaming: StreamingOutputCall{[{31415, compressed}, {92653, uncompressed}]}
// → payloads 31415 and 92653, the first compressed on the wire and the second not.
func serverCompressedStreaming(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		const call = "StreamingOutputCall{[{size:31415, compressed:true}, {size:92653, compressed:false}]}"
		ctx, cancel := t.rpcContext()
		defer cancel()
		ctx, w := observed(ctx)
		params := sizes(31415, 92653)
		params[0].Compressed = &grpctesting.BoolValue{Value: true}
		params[1].Compressed = &grpctesting.BoolValue{Value: false}
		stream, err := grpctesting.NewTestServiceClient(conn).StreamingOutputCall(ctx,
			&grpctesting.StreamingOutputCallRequest{ResponseType: grpctesting.PayloadType_COMPRESSABLE, ResponseParameters: params})
		if err != nil {
			return failed(call, err)
		}
		for i, size := range []int{31415, 92653} {
			if err := recvPayload(fmt.Sprintf("%s: response %d", call, i+1), stream, size); err != nil {
				return err
			}
		}
		if err := expectEnd(call+": after response 2", stream); err != nil {
			return err
		}
		return expectCompression(call, "response", []bool{true, false}, w.receivedCompressed())
	})
}
