package cases

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding/gzip"

	"interopmatrix/gen/grpctesting"
)

// clientCompressedUnary: the server tells a compressed request from an uncompressed one.
// The probe (expect_compressed:true sent uncompressed) must fail INVALID_ARGUMENT; then the
// same sent gzip-compressed, and expect_compressed:false sent uncompressed, succeed.
func clientCompressedUnary(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := grpctesting.NewTestServiceClient(conn)
		request := func(expect bool) *grpctesting.SimpleRequest {
			req := largeRequest()
			req.ExpectCompressed = &grpctesting.BoolValue{Value: expect}
			return req
		}
		const probe = "UnaryCall{expect_compressed:true, response_size:314159, payload 271828} sent uncompressed (probe)"
		_, w, err := observedUnary(t, client, request(true))
		if err := expectStatus(probe, err, codes.InvalidArgument, ""); err != nil {
			return err
		}
		if err := expectCompression(probe, "request", []bool{false}, w.sentCompressed()); err != nil {
			return err
		}
		for _, c := range []struct {
			expect bool
			opts   []grpc.CallOption
		}{
			{true, []grpc.CallOption{grpc.UseCompressor(gzip.Name)}},
			{false, nil},
		} {
			call := fmt.Sprintf("UnaryCall{expect_compressed:%t, response_size:314159, payload 271828} sent %s", c.expect, compressedWord(c.expect))
			reply, w, err := observedUnary(t, client, request(c.expect), c.opts...)
			if err != nil {
				return failed(call, err)
			}
			if err := expectCompression(call, "request", []bool{c.expect}, w.sentCompressed()); err != nil {
				return err
			}
			if err := expectPayload(call, reply.GetPayload(), largeResponseSize); err != nil {
				return err
			}
		}
		return nil
	})
}

// observedUnary makes one UnaryCall with the RPC deadline and returns what went over the wire.
func observedUnary(t Target, client grpctesting.TestServiceClient, req *grpctesting.SimpleRequest, opts ...grpc.CallOption) (*grpctesting.SimpleResponse, *wire, error) {
	ctx, cancel := t.rpcContext()
	defer cancel()
	ctx, w := observed(ctx)
	reply, err := client.UnaryCall(ctx, req, opts...)
	return reply, w, err
}
