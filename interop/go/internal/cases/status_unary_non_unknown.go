package cases

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/grpctesting"
)

// statusUnaryNonUnknown: UnaryCall{response_status:{code:9, message:"precondition failed:
// edges"}} → FAILED_PRECONDITION with exactly that message.
func statusUnaryNonUnknown(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		return expectEchoedUnaryStatus(t, grpctesting.NewTestServiceClient(conn), codes.FailedPrecondition, "precondition failed: edges")
	})
}
