package cases

import (
	"context"
	"slices"

	"google.golang.org/grpc"

	"interopmatrix/gen/grpctesting"
)

// The RPCs of the client's load mode (docs/peer-contract.md, "Load mode"), built like the
// grpc.testing cases' and prepared before the clock starts: the client only times the calls.

// UnaryLoad returns one UnaryCall{response_size: size, payload size zero bytes} on conn, with
// the RPC deadline, to be made as often as the caller likes. It does not check the response.
func (t Target) UnaryLoad(conn *grpc.ClientConn, size int) func() error {
	client := grpctesting.NewTestServiceClient(conn)
	req := &grpctesting.SimpleRequest{
		ResponseType: grpctesting.PayloadType_COMPRESSABLE,
		ResponseSize: int32(size),
		Payload:      zeros(size),
	}
	return func() error {
		_, err := invoke(t, client.UnaryCall, req)
		return err
	}
}

// StreamingLoad returns one StreamingOutputCall on conn asking for messages responses of size
// bytes, interval 0. The call, made within ctx, reads the stream to its end and returns how
// many responses came before the status (nil for OK).
func StreamingLoad(conn *grpc.ClientConn, messages, size int) func(ctx context.Context) (int, error) {
	client := grpctesting.NewTestServiceClient(conn)
	req := &grpctesting.StreamingOutputCallRequest{
		ResponseType:       grpctesting.PayloadType_COMPRESSABLE,
		ResponseParameters: sizes(slices.Repeat([]int32{int32(size)}, messages)...),
	}
	return func(ctx context.Context) (int, error) {
		stream, err := client.StreamingOutputCall(ctx, req)
		if err != nil {
			return 0, err
		}
		return finalStatus(stream)
	}
}
