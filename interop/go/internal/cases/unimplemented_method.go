package cases

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/grpctesting"
)

// unimplementedMethod: TestService/UnimplementedCall → UNIMPLEMENTED.
func unimplementedMethod(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		_, err := invoke(t, grpctesting.NewTestServiceClient(conn).UnimplementedCall, &grpctesting.Empty{})
		return expectStatus("TestService/UnimplementedCall{}", err, codes.Unimplemented, "")
	})
}
