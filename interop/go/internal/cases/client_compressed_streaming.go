package cases

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding/gzip"

	"interopmatrix/gen/grpctesting"
)

// clientCompressedStreaming: the server tells, message by message, a compressed request
// from an uncompressed one. The probe (expect_compressed:true sent uncompressed) must fail
// INVALID_ARGUMENT; then one call sends {expect_compressed:true, payload 27182} compressed
// and {expect_compressed:false, payload 45904} uncompressed → aggregated 73086.
//
// grpc-go compresses every non-empty message of a call made with grpc.UseCompressor
// (stream.go, clientStream.SendMsg → prepareMsg → rpc_util.go, compress) and has no
// per-message switch. What it does have is grpc.PreparedMsg, whose compressed flag SendMsg
// keeps as it is (prepareMsg): encoded on an uncompressed call's stream — here the probe's —
// it is uncompressed (preloader.go, PreparedMsg.Encode compresses with the compressor of
// the stream it is given), and sent on the gzip call it goes out uncompressed there.
func clientCompressedStreaming(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := grpctesting.NewTestServiceClient(conn)
		compressed := &grpctesting.StreamingInputCallRequest{ExpectCompressed: &grpctesting.BoolValue{Value: true}, Payload: zeros(27182)}
		uncompressed := &grpctesting.StreamingInputCallRequest{ExpectCompressed: &grpctesting.BoolValue{Value: false}, Payload: zeros(45904)}

		const probe = "StreamingInputCall[{expect_compressed:true, payload 27182} sent uncompressed] (probe)"
		plain, err := probeStreamingInput(t, client, probe, compressed, uncompressed)
		if err != nil {
			return err
		}

		const call = "StreamingInputCall[{expect_compressed:true, payload 27182} compressed, {expect_compressed:false, payload 45904} uncompressed]"
		ctx, cancel := t.rpcContext()
		defer cancel()
		ctx, w := observed(ctx)
		stream, err := client.StreamingInputCall(ctx, grpc.UseCompressor(gzip.Name))
		if err != nil {
			return failed(call, err)
		}
		// A failed Send ends the call; CloseAndRecv reports its status.
		_ = stream.Send(compressed)
		_ = stream.SendMsg(plain)
		reply, err := stream.CloseAndRecv()
		if err := expectOK(call+": aggregated_payload_size", err, int32(73086), reply.GetAggregatedPayloadSize()); err != nil {
			return err
		}
		return expectCompression(call, "request", []bool{true, false}, w.sentCompressed())
	})
}

// probeStreamingInput sends probe uncompressed on a StreamingInputCall, which must fail
// INVALID_ARGUMENT, and returns next encoded, uncompressed, on that call's stream.
func probeStreamingInput(t Target, client grpctesting.TestServiceClient, call string, probe, next *grpctesting.StreamingInputCallRequest) (*grpc.PreparedMsg, error) {
	ctx, cancel := t.rpcContext()
	defer cancel()
	ctx, w := observed(ctx)
	stream, err := client.StreamingInputCall(ctx)
	if err != nil {
		return nil, failed(call, err)
	}
	var plain grpc.PreparedMsg
	if err := plain.Encode(stream, next); err != nil {
		return nil, fmt.Errorf("%s: encoding the next call's uncompressed message: %w", call, err)
	}
	_ = stream.Send(probe) // a failed Send ends the call; CloseAndRecv reports its status
	_, err = stream.CloseAndRecv()
	if err := expectStatus(call, err, codes.InvalidArgument, ""); err != nil {
		return nil, err
	}
	return &plain, expectCompression(call, "request", []bool{false}, w.sentCompressed())
}
