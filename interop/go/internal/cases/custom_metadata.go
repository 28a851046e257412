package cases

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"interopmatrix/gen/grpctesting"
)

// The echo metadata: the server sends the first back in its headers, the second (binary)
// in its trailers.
const (
	echoInitialKey    = "x-grpc-test-echo-initial"
	echoInitialValue  = "test_initial_metadata_value"
	echoTrailingKey   = "x-grpc-test-echo-trailing-bin"
	echoTrailingValue = "\xab\xab\xab"
)

// customMetadata: with both echo headers, UnaryCall{response_size:314159, payload 271828} →
// payload 314159 with the initial header echoed in the response headers and the binary one
// in the trailers; then the same over FullDuplexCall with one request and a half-close.
func customMetadata(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := grpctesting.NewTestServiceClient(conn)
		if err := customMetadataUnary(t, client); err != nil {
			return err
		}
		return customMetadataDuplex(t, client)
	})
}

func customMetadataUnary(t Target, client grpctesting.TestServiceClient) error {
	const call = "UnaryCall{response_size:314159, payload 271828} with echo metadata"
	ctx, cancel := t.rpcContext()
	defer cancel()
	var header, trailer metadata.MD
	reply, err := client.UnaryCall(withEchoMetadata(ctx), largeRequest(), grpc.Header(&header), grpc.Trailer(&trailer))
	if err != nil {
		return failed(call, err)
	}
	if err := expectPayload(call, reply.GetPayload(), largeResponseSize); err != nil {
		return err
	}
	return expectEchoed(call, header, trailer)
}

func customMetadataDuplex(t Target, client grpctesting.TestServiceClient) error {
	const call = "FullDuplexCall{response size 314159, payload 271828} with echo metadata"
	ctx, cancel := t.rpcContext()
	defer cancel()
	stream, err := client.FullDuplexCall(withEchoMetadata(ctx))
	if err != nil {
		return failed(call, err)
	}
	// A failed Send ends the call; the Recv reports its status.
	_ = stream.Send(&grpctesting.StreamingOutputCallRequest{
		ResponseType:       grpctesting.PayloadType_COMPRESSABLE,
		ResponseParameters: sizes(largeResponseSize),
		Payload:            zeros(largeRequestSize),
	})
	if err := stream.CloseSend(); err != nil {
		return failed(call+": half-close", err)
	}
	if err := recvPayload(call, stream, largeResponseSize); err != nil {
		return err
	}
	// Whatever else the stream carries is ping_pong's and empty_stream's business; this case
	// needs its status and trailers.
	if _, err := finalStatus(stream); err != nil {
		return failed(call, err)
	}
	header, err := stream.Header()
	if err != nil {
		return failed(call+": response headers", err)
	}
	return expectEchoed(call, header, stream.Trailer())
}

func withEchoMetadata(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, echoInitialKey, echoInitialValue, echoTrailingKey, echoTrailingValue)
}

// expectEchoed checks that the echo metadata came back, each entry exactly once and where
// it belongs.
func expectEchoed(call string, header, trailer metadata.MD) error {
	if got := header.Get(echoInitialKey); !slices.Equal(got, []string{echoInitialValue}) {
		return fmt.Errorf("%s: expected the response headers to hold %s: %q, got %q", call, echoInitialKey, echoInitialValue, got)
	}
	if got := trailer.Get(echoTrailingKey); !slices.Equal(got, []string{echoTrailingValue}) {
		return fmt.Errorf("%s: expected the trailers to hold %s: 0xababab, got %q", call, echoTrailingKey, got)
	}
	return nil
}
