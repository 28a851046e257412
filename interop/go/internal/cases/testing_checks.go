package cases

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"interopmatrix/gen/grpctesting"
)

// The grpc.testing suite's requests and checks (docs/peer-contract.md, "Cases of the
// grpc.testing suite").

// zeros is "payload N": a COMPRESSABLE payload of n zero bytes.
func zeros(n int) *grpctesting.Payload {
	return &grpctesting.Payload{Type: grpctesting.PayloadType_COMPRESSABLE, Body: make([]byte, n)}
}

// sizes asks a streaming call for one response of each size, in order.
func sizes(n ...int32) []*grpctesting.ResponseParameters {
	params := make([]*grpctesting.ResponseParameters, len(n))
	for i, size := range n {
		params[i] = &grpctesting.ResponseParameters{Size: size}
	}
	return params
}

// echoStatus is a request's response_status: end the call with code and message.
func echoStatus(code codes.Code, message string) *grpctesting.EchoStatus {
	return &grpctesting.EchoStatus{Code: int32(code), Message: message}
}

// expectPayload checks a response payload: COMPRESSABLE, exactly size bytes, all zero.
func expectPayload(call string, p *grpctesting.Payload, size int) error {
	switch {
	case p == nil:
		return fmt.Errorf("%s: expected a payload of %d bytes, got no payload", call, size)
	case p.GetType() != grpctesting.PayloadType_COMPRESSABLE:
		return fmt.Errorf("%s: expected a COMPRESSABLE payload, got type %v", call, p.GetType())
	case len(p.GetBody()) != size:
		return fmt.Errorf("%s: expected a payload of %d bytes, got %d", call, size, len(p.GetBody()))
	}
	for i, b := range p.GetBody() {
		if b != 0 {
			return fmt.Errorf("%s: expected a payload of zero bytes, got 0x%02x at byte %d", call, b, i)
		}
	}
	return nil
}

// expectExactStatus checks that a call ended with exactly code and message.
func expectExactStatus(call string, err error, code codes.Code, message string) error {
	if err == nil {
		return fmt.Errorf("%s: expected status %s %q, got OK", call, code, message)
	}
	if s := status.Convert(err); s.Code() != code || s.Message() != message {
		return fmt.Errorf("%s: expected status %s %q, got %s", call, code, message, describe(err))
	}
	return nil
}

// responseStream is the receiving side of a grpc.testing streaming call.
type responseStream interface {
	Recv() (*grpctesting.StreamingOutputCallResponse, error)
}

// recvPayload receives the next response of a stream and checks its payload.
func recvPayload(call string, stream responseStream, size int) error {
	reply, err := stream.Recv()
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%s: expected a payload of %d bytes, got the end of the stream", call, size)
	case err != nil:
		return failed(call, err)
	}
	return expectPayload(call, reply.GetPayload(), size)
}

// expectEnd checks that a stream ends OK with no further response.
func expectEnd(call string, stream responseStream) error {
	reply, err := stream.Recv()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return failed(call, err)
	}
	return fmt.Errorf("%s: expected the end of the stream, got a response with a payload of %d bytes", call, len(reply.GetPayload().GetBody()))
}

// expectEndWithStatus checks that a stream ends with exactly code and message, with no
// further response before it.
func expectEndWithStatus(call string, stream responseStream, code codes.Code, message string) error {
	n, err := finalStatus(stream)
	if n > 0 {
		return fmt.Errorf("%s: expected status %s %q and no further response, got %d more response(s), then %s",
			call, code, message, n, describe(err))
	}
	return expectExactStatus(call, err, code, message)
}

// finalStatus reads a stream to its end and returns its status (nil for OK) and how many
// responses came before it.
func finalStatus(stream responseStream) (int, error) {
	for n := 0; ; n++ {
		if _, err := stream.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
	}
}

// expectCompression checks, for the messages of one call that the client saw go one way
// (what: "request" or "response"), which were compressed on the wire.
func expectCompression(call, what string, want, got []bool) error {
	if len(want) != len(got) {
		return fmt.Errorf("%s: expected %d %s messages, the client saw %d", call, len(want), what, len(got))
	}
	for i := range want {
		if want[i] != got[i] {
			return fmt.Errorf("%s: %s message %d of %d: expected it %s on the wire, it was %s",
				call, what, i+1, len(want), compressedWord(want[i]), compressedWord(got[i]))
		}
	}
	return nil
}

func compressedWord(compressed bool) string {
	if compressed {
		return "compressed"
	}
	return "uncompressed"
}
