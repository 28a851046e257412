package cases

import (
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"

	"interopmatrix/gen/grpctesting"
)

const (
	// outputInterval is streaming_output_interval's interval_us, in microseconds.
	outputInterval = 50000
	// minThirdPayload is how soon after the call's start the third payload may come: the server
	// sleeps the interval before each of the three, so 3 intervals less 10 % for timer
	// granularity. The channel is connected first, so connecting cannot make a
	// server that ignores the interval look right; measured from the start rather than from the
	// first payload, a first payload read late (a busy client) cannot make a server that honours
	// it look wrong: lateness only adds.
	minThirdPayload = 135 * time.Millisecond
)

// streamingOutputInterval: StreamingOutputCall{three times {size:1, interval_us:50000}} →
// three payloads of 1 byte, OK, the third no sooner than 135 ms after the call started (on a connected channel).
func streamingOutputInterval(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		const call = "StreamingOutputCall{three times {response size 1, interval_us 50000}}"
		params := sizes(1, 1, 1)
		for _, p := range params {
			p.IntervalUs = outputInterval
		}
		client := grpctesting.NewTestServiceClient(conn)
		ctx, cancel := t.rpcContext()
		defer cancel()
		conn.Connect()
		for state := conn.GetState(); state != connectivity.Ready; state = conn.GetState() {
			if !conn.WaitForStateChange(ctx, state) {
				return fmt.Errorf("%s: the channel did not connect (last state %v)", call, state)
			}
		}
		started := time.Now()
		stream, err := client.StreamingOutputCall(ctx,
			&grpctesting.StreamingOutputCallRequest{ResponseType: grpctesting.PayloadType_COMPRESSABLE, ResponseParameters: params})
		if err != nil {
			return failed(call, err)
		}
		for i := range params {
			if err := recvPayload(fmt.Sprintf("%s: response %d", call, i+1), stream, 1); err != nil {
				return err
			}
		}
		if elapsed := time.Since(started); elapsed < minThirdPayload {
			return fmt.Errorf("%s: expected the third payload at least %v after the call started, got it after %v",
				call, minThirdPayload, elapsed.Round(100*time.Microsecond))
		}
		return expectEnd(call+": after response 3", stream)
	})
}
