package cases

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/grpctesting"
)

// sleepingServerDeadline is timeout_on_sleeping_server's deadline, instead of --rpc_timeout_ms.
const sleepingServerDeadline = time.Millisecond

// timeoutOnSleepingServer: a FullDuplexCall with a 1 ms deadline that sends one request and
// waits → DEADLINE_EXCEEDED (the send itself may fail). Under --client_fault=no-cancel it
// keeps the normal deadline and half-closes after its request, and must fail.
func timeoutOnSleepingServer(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		const call = "FullDuplexCall{response size 31415, payload 27182} with a 1 ms deadline"
		deadline := sleepingServerDeadline
		if t.NoCancel {
			deadline = t.RPCTimeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		stream, err := grpctesting.NewTestServiceClient(conn).FullDuplexCall(ctx)
		if err != nil {
			return expectStatus(call, err, codes.DeadlineExceeded, "")
		}
		// The send may fail once the deadline has passed; the Recv reports the call's status.
		_ = stream.Send(&grpctesting.StreamingOutputCallRequest{
			ResponseType:       grpctesting.PayloadType_COMPRESSABLE,
			ResponseParameters: sizes(31415),
			Payload:            zeros(27182),
		})
		if t.NoCancel {
			_ = stream.CloseSend()
		}
		_, err = finalStatus(stream)
		return expectStatus(call, err, codes.DeadlineExceeded, "")
	})
}
