package cases

import (
	"fmt"
	"time"

	"google.golang.org/grpc"

	"interopmatrix/gen/grpctesting"
)

const (
	// outputInterval is streaming_output_interval's interval_us, in microseconds.
	outputInterval = 50000
	// minThirdPayload is how soon after the first payload the third may come: 2 intervals less
	// 10 % for timer granularity. Measured from the first payload, not from the call's start, so
	// that connecting (slow on a loaded machine) cannot make a server that ignores the interval
	// look right.
	minThirdPayload = 90 * time.Millisecond
)

// streamingOutputInterval: StreamingOutputCall{three times {size:1, interval_us:50000}} →
// three payloads of 1 byte, OK, the third no sooner than 90 ms after the first.
func streamingOutputInterval(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		const call = "StreamingOutputCall{three times {response size 1, interval_us 50000}}"
		params := sizes(1, 1, 1)
		for _, p := range params {
			p.IntervalUs = outputInterval
		}
		ctx, cancel := t.rpcContext()
		defer cancel()
		var first time.Time
		stream, err := grpctesting.NewTestServiceClient(conn).StreamingOutputCall(ctx,
			&grpctesting.StreamingOutputCallRequest{ResponseType: grpctesting.PayloadType_COMPRESSABLE, ResponseParameters: params})
		if err != nil {
			return failed(call, err)
		}
		for i := range params {
			if err := recvPayload(fmt.Sprintf("%s: response %d", call, i+1), stream, 1); err != nil {
				return err
			}
			if i == 0 {
				first = time.Now()
			}
		}
		if elapsed := time.Since(first); elapsed < minThirdPayload {
			return fmt.Errorf("%s: expected the third payload at least %v after the first, got it after %v",
				call, minThirdPayload, elapsed.Round(100*time.Microsecond))
		}
		return expectEnd(call+": after response 3", stream)
	})
}
