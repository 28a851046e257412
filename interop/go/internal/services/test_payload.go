package services

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"interopmatrix/gen/grpctesting"
)

// newPayload is the response payload of a TestService method: size zero bytes of the one
// payload type there is, COMPRESSABLE.
func newPayload(responseType grpctesting.PayloadType, size int32) (*grpctesting.Payload, error) {
	if responseType != grpctesting.PayloadType_COMPRESSABLE {
		return nil, status.Errorf(codes.InvalidArgument, "unsupported response_type %d: only COMPRESSABLE (0) is", responseType)
	}
	if size < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "response size must not be negative, got %d", size)
	}
	return &grpctesting.Payload{Type: grpctesting.PayloadType_COMPRESSABLE, Body: make([]byte, size)}, nil
}

// checkResponseType rejects a response_type other than COMPRESSABLE before anything is sent.
func checkResponseType(responseType grpctesting.PayloadType) error {
	_, err := newPayload(responseType, 0)
	return err
}

// sleepMicros waits interval_us microseconds, or until the call ends.
func sleepMicros(ctx context.Context, us int32) error {
	if us <= 0 {
		return nil
	}
	timer := time.NewTimer(time.Duration(us) * time.Microsecond)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}
