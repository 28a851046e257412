package cases

import (
	"fmt"

	"google.golang.org/grpc"

	"interopmatrix/gen/grpctesting"
)

// serverCompressedUnary: response_compressed:true → the response arrives compressed;
// response_compressed:false → it arrives uncompressed; payload 314159 both times.
func serverCompressedUnary(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := grpctesting.NewTestServiceClient(conn)
		for _, compressed := range []bool{true, false} {
			call := fmt.Sprintf("UnaryCall{response_compressed:%t, response_size:314159, payload 271828}", compressed)
			req := largeRequest()
			req.ResponseCompressed = &grpctesting.BoolValue{Value: compressed}
			reply, w, err := observedUnary(t, client, req)
			if err != nil {
				return failed(call, err)
			}
			if err := expectPayload(call, reply.GetPayload(), largeResponseSize); err != nil {
				return err
			}
			if err := expectCompression(call, "response", []bool{compressed}, w.receivedCompressed()); err != nil {
				return err
			}
		}
		return nil
	})
}
