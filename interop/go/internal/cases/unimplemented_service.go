package cases

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/grpctesting"
)

// unimplementedService: UnimplementedService/UnimplementedCall → UNIMPLEMENTED.
func unimplementedService(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		_, err := invoke(t, grpctesting.NewUnimplementedServiceClient(conn).UnimplementedCall, &grpctesting.Empty{})
		return expectStatus("UnimplementedService/UnimplementedCall{}", err, codes.Unimplemented, "")
	})
}
