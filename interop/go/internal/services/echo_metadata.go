package services

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"interopmatrix/internal/faults"
)

// The echo metadata of grpc.testing.TestService: these request headers come back, with the
// same values, in the response headers and in the trailers respectively.
const (
	echoInitialKey  = "x-grpc-test-echo-initial"
	echoTrailingKey = "x-grpc-test-echo-trailing-bin"
)

// testServicePrefix starts the full method name of every TestService method.
const testServicePrefix = "/grpc.testing.TestService/"

// echoMetadata queues, on the call whose handler context is ctx, the echo of its echo
// metadata: the headers and trailers go out with the call's first response and its status.
func echoMetadata(ctx context.Context, setHeader, setTrailer func(metadata.MD) error) error {
	md, _ := metadata.FromIncomingContext(ctx)
	if values := md.Get(echoInitialKey); len(values) > 0 {
		if err := setHeader(metadata.MD{echoInitialKey: values}); err != nil {
			return err
		}
	}
	if values := md.Get(echoTrailingKey); len(values) > 0 {
		return setTrailer(metadata.MD{echoTrailingKey: values})
	}
	return nil
}

// echoInterceptors echo the metadata on every TestService method, unless the fault
// testing-no-echo-metadata is on.
func echoInterceptors(f faults.Set) []grpc.ServerOption {
	if f.Has(faults.TestingNoEchoMetadata) {
		return nil
	}
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if strings.HasPrefix(info.FullMethod, testServicePrefix) {
			setTrailer := func(md metadata.MD) error { return grpc.SetTrailer(ctx, md) }
			setHeader := func(md metadata.MD) error { return grpc.SetHeader(ctx, md) }
			if err := echoMetadata(ctx, setHeader, setTrailer); err != nil {
				return nil, err
			}
		}
		return handler(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if strings.HasPrefix(info.FullMethod, testServicePrefix) {
			setTrailer := func(md metadata.MD) error { ss.SetTrailer(md); return nil }
			if err := echoMetadata(ss.Context(), ss.SetHeader, setTrailer); err != nil {
				return err
			}
		}
		return handler(srv, ss)
	}
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(unary), grpc.ChainStreamInterceptor(stream)}
}
