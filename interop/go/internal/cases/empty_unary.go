package cases

import (
	"fmt"

	"google.golang.org/grpc"

	"interopmatrix/gen/grpctesting"
)

// emptyUnary: EmptyCall{} → Empty.
func emptyUnary(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		reply, err := invoke(t, grpctesting.NewTestServiceClient(conn).EmptyCall, &grpctesting.Empty{})
		switch {
		case err != nil:
			return failed("EmptyCall{}", err)
		case reply == nil:
			return fmt.Errorf("EmptyCall{}: expected Empty, got no message")
		}
		return nil
	})
}
