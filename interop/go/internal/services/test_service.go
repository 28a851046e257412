package services

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"interopmatrix/gen/grpctesting"
	"interopmatrix/internal/faults"
)

// testService is grpc.testing.TestService (docs/peer-contract.md, "TestService behaviour").
// UnimplementedCall stays unimplemented: the embedded type answers it UNIMPLEMENTED. Echo
// metadata is done for every method by the interceptors of echo_metadata.go.
type testService struct {
	grpctesting.UnimplementedTestServiceServer
	faults faults.Set
}

func (s *testService) EmptyCall(context.Context, *grpctesting.Empty) (*grpctesting.Empty, error) {
	if s.faults.Has(faults.TestingEmptyCallError) {
		return nil, status.Errorf(codes.Internal, "fault %s", faults.TestingEmptyCallError)
	}
	return &grpctesting.Empty{}, nil
}

func (s *testService) UnaryCall(ctx context.Context, req *grpctesting.SimpleRequest) (*grpctesting.SimpleResponse, error) {
	if err := checkResponseType(req.GetResponseType()); err != nil {
		return nil, err
	}
	if err := checkCompressed(ctx, s.faults, req.GetExpectCompressed()); err != nil {
		return nil, err
	}
	if err := echoedStatus(s.faults, req.GetResponseStatus()); err != nil {
		return nil, err
	}
	size := req.GetResponseSize()
	if s.faults.Has(faults.TestingEmptyPayload) {
		size = max(size-1, 0)
	}
	payload, err := newPayload(req.GetResponseType(), size)
	if err != nil {
		return nil, err
	}
	setUnaryCompression(ctx, req.GetResponseCompressed().GetValue())
	return &grpctesting.SimpleResponse{Payload: payload}, nil
}
