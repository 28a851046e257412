package cases

import (
	"google.golang.org/grpc"

	"interopmatrix/gen/grpctesting"
)

// The sizes of large_unary and of every UnaryCall that carries a payload.
const (
	largeRequestSize  = 271828
	largeResponseSize = 314159
)

// largeUnary: UnaryCall{response_size:314159, payload 271828} → payload 314159.
func largeUnary(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		const call = "UnaryCall{response_size:314159, payload 271828}"
		reply, err := invoke(t, grpctesting.NewTestServiceClient(conn).UnaryCall, largeRequest())
		if err != nil {
			return failed(call, err)
		}
		return expectPayload(call, reply.GetPayload(), largeResponseSize)
	})
}

// largeRequest is UnaryCall{response_size:314159, payload 271828}.
func largeRequest() *grpctesting.SimpleRequest {
	return &grpctesting.SimpleRequest{
		ResponseType: grpctesting.PayloadType_COMPRESSABLE,
		ResponseSize: largeResponseSize,
		Payload:      zeros(largeRequestSize),
	}
}
