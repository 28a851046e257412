package services

import (
	"context"

	"interopmatrix/gen/grpctesting"
)

// The fault testing-implement-everything answers the methods no server implements.

// everythingTestService is TestService with UnimplementedCall answered.
type everythingTestService struct {
	*testService
}

func (everythingTestService) UnimplementedCall(context.Context, *grpctesting.Empty) (*grpctesting.Empty, error) {
	return &grpctesting.Empty{}, nil
}

// everythingUnimplementedService is grpc.testing.UnimplementedService, answered.
type everythingUnimplementedService struct {
	grpctesting.UnimplementedUnimplementedServiceServer
}

func (everythingUnimplementedService) UnimplementedCall(context.Context, *grpctesting.Empty) (*grpctesting.Empty, error) {
	return &grpctesting.Empty{}, nil
}
