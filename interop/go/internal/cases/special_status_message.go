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
		return expectEchoedUnaryStatus(t, grpctesting.NewTestServiceClient(conn), codes.Unknown, "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n")
	})
}

// expectEchoedUnaryStatus: UnaryCall{response_status:{code, message}} → exactly that code
// and message.
func expectEchoedUnaryStatus(t Target, client grpctesting.TestServiceClient, code codes.Code, message string) error {
	call := fmt.Sprintf("UnaryCall{response_status:{code:%d, message:%q}}", code, message)
	_, err := invoke(t, client.UnaryCall, &grpctesting.SimpleRequest{ResponseStatus: echoStatus(code, message)})
	return expectExactStatus(call, err, code, message)
}
