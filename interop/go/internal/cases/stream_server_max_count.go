package cases

import (
	"errors"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/helloworld"
)

// maxCount is the largest count a LotsOfReplies request may ask for.
const maxCount = 10000

// streamServerMaxCount: the boundary of LotsOfReplies. count:10000 is accepted (its first reply
// is "Hello, m! #1"; the call is then cancelled); count:10001 → INVALID_ARGUMENT naming count.
func streamServerMaxCount(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := helloworld.NewStreamingGreeterClient(conn)
		call := repliesCall("m", maxCount)
		first, err := firstReply(t, client, "m", maxCount)
		if err != nil {
			return failed(call, err)
		}
		if err := expect(call+" first reply", "Hello, m! #1", first); err != nil {
			return err
		}
		_, err = firstReply(t, client, "m", maxCount+1)
		return expectStatus(repliesCall("m", maxCount+1), err, codes.InvalidArgument, "count")
	})
}

// firstReply reads the first reply of LotsOfReplies{name, count}, then cancels the call.
func firstReply(t Target, client helloworld.StreamingGreeterClient, name string, count int32) (string, error) {
	ctx, cancel := t.rpcContext()
	defer cancel()
	stream, err := client.LotsOfReplies(ctx, &helloworld.HelloStreamRequest{Name: name, Count: count})
	if err != nil {
		return "", err
	}
	reply, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return "", errors.New("the stream ended OK without a reply")
	}
	if err != nil {
		return "", err
	}
	return reply.GetMessage(), nil
}
