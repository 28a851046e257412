package cases

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/grpctesting"
)

// specialStatusMessage: a status message with whitespace, a BMP and a non-BMP character
// comes back exactly.
func specialStatusMessage(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		return expectEchoedUnaryStatus(t, grpctesting.NewTestServiceClient(conn), "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n")
	})
}

// expectEchoedUnaryStatus: UnaryCall{response_status:{code:2, message}} → UNKNOWN with
// exactly message.
func expectEchoedUnaryStatus(t Target, client grpctesting.TestServiceClient, message string) error {
	call := fmt.Sprintf("UnaryCall{response_status:{code:2, message:%q}}", message)
	_, err := invoke(t, client.UnaryCall, &grpctesting.SimpleRequest{ResponseStatus: &grpctesting.EchoStatus{Code: int32(codes.Unknown), Message: message}})
	return expectExactStatus(call, err, codes.Unknown, message)
}
