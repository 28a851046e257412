package services

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"interopmatrix/gen/grpctesting"
	"interopmatrix/internal/faults"
)

// checkCompressed is the CompressedRequest feature: when a request sets expect_compressed,
// whether the message arrived compressed must match it, else INVALID_ARGUMENT. It reads the
// request the handler received last (see request_compression.go).
func checkCompressed(ctx context.Context, f faults.Set, expect *grpctesting.BoolValue) error {
	if expect == nil || f.Has(faults.TestingCompressionUnchecked) {
		return nil
	}
	switch got := lastRequestCompressed(ctx); {
	case expect.GetValue() && !got:
		return status.Error(codes.InvalidArgument, "expect_compressed is true, but the request message arrived uncompressed")
	case !expect.GetValue() && got:
		return status.Error(codes.InvalidArgument, "expect_compressed is false, but the request message arrived compressed")
	}
	return nil
}
