package cases

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"

	"interopmatrix/gen/helloworld"
)

// streamBidi: BidiHello answers each request before the next one is sent, and ends OK
// after the half-close with no further reply.
func streamBidi(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		ctx, cancel := t.rpcContext()
		defer cancel()
		stream, err := helloworld.NewStreamingGreeterClient(conn).BidiHello(ctx)
		if err != nil {
			return failed("BidiHello", err)
		}
		for _, name := range []string{"x", "y", "z"} {
			call := fmt.Sprintf("BidiHello: reply to %q", name)
			// A failed Send ends the call; the Recv below reports its status.
			_ = stream.Send(&helloworld.HelloRequest{Name: name})
			reply, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%s: expected %q, got the end of the stream", call, greeting(name))
			}
			if err := expectOK(call, err, greeting(name), reply.GetMessage()); err != nil {
				return err
			}
		}
		if err := stream.CloseSend(); err != nil {
			return failed("BidiHello: half-close", err)
		}
		reply, err := stream.Recv()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return failed("BidiHello: after half-close", err)
		default:
			return fmt.Errorf("BidiHello: after half-close: expected the end of the stream, got reply %q", reply.GetMessage())
		}
	})
}
