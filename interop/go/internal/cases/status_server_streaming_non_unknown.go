package cases

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/grpctesting"
)

// statusServerStreamingNonUnknown: StreamingOutputCall{sizes 8, 8, response_status:{code:11,
// message:"out of range after 2"}} → exactly two payloads of 8 bytes, then OUT_OF_RANGE with
// exactly that message.
func statusServerStreamingNonUnknown(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		const message = "out of range after 2"
		call := fmt.Sprintf("StreamingOutputCall{response sizes 8, 8, response_status:{code:11, message:%q}}", message)
		ctx, cancel := t.rpcContext()
		defer cancel()
		stream, err := grpctesting.NewTestServiceClient(conn).StreamingOutputCall(ctx, &grpctesting.StreamingOutputCallRequest{
			ResponseType:       grpctesting.PayloadType_COMPRESSABLE,
			ResponseParameters: sizes(8, 8),
			ResponseStatus:     echoStatus(codes.OutOfRange, message),
		})
		if err != nil {
			return failed(call, err)
		}
		for i := range 2 {
			if err := recvPayload(fmt.Sprintf("%s: response %d", call, i+1), stream, 8); err != nil {
				return err
			}
		}
		return expectEndWithStatus(call+": after response 2", stream, codes.OutOfRange, message)
	})
}
