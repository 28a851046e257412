package cases

import (
	"fmt"

	"google.golang.org/grpc"

	"interopmatrix/gen/helloworld"
)

// streamClient: LotsOfGreetings joins the names in arrival order, and greets nobody when
// sent nothing.
func streamClient(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := helloworld.NewStreamingGreeterClient(conn)
		for _, c := range []struct {
			names []string
			want  string
		}{
			{[]string{"a", "b", "c"}, "Hello, a, b, c!"},
			{nil, "Hello, !"},
		} {
			got, err := lotsOfGreetings(t, client, c.names)
			if err := expectOK(fmt.Sprintf("LotsOfGreetings(%q)", c.names), err, c.want, got); err != nil {
				return err
			}
		}
		return nil
	})
}

// lotsOfGreetings sends names, half-closes, and returns the one reply.
func lotsOfGreetings(t Target, client helloworld.StreamingGreeterClient, names []string) (string, error) {
	ctx, cancel := t.rpcContext()
	defer cancel()
	stream, err := client.LotsOfGreetings(ctx)
	if err != nil {
		return "", err
	}
	for _, name := range names {
		if stream.Send(&helloworld.HelloRequest{Name: name}) != nil {
			break // the call has ended; CloseAndRecv returns its status
		}
	}
	reply, err := stream.CloseAndRecv()
	return reply.GetMessage(), err
}
