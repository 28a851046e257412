package cases

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/helloworld"
)

// streamServer: LotsOfReplies sends exactly count replies in order, none for 0, and rejects
// a negative count.
func streamServer(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := helloworld.NewStreamingGreeterClient(conn)
		for _, count := range []int32{5, 0} {
			if err := expectReplies(t, client, "a", count); err != nil {
				return err
			}
		}
		_, err := lotsOfReplies(t, client, "a", -5)
		return expectStatus(repliesCall("a", -5), err, codes.InvalidArgument, "")
	})
}

// expectReplies: LotsOfReplies{name, count} → exactly "Hello, {name}! #1" … "#{count}" in
// order, status OK.
func expectReplies(t Target, client helloworld.StreamingGreeterClient, name string, count int32) error {
	want := make([]string, count)
	for i := range want {
		want[i] = fmt.Sprintf("Hello, %s! #%d", name, i+1)
	}
	got, err := lotsOfReplies(t, client, name, count)
	call := repliesCall(name, count)
	if err != nil {
		return failed(call, err)
	}
	return expectList(call, want, got)
}

// lotsOfReplies reads the whole LotsOfReplies stream and returns the messages and its status.
func lotsOfReplies(t Target, client helloworld.StreamingGreeterClient, name string, count int32) ([]string, error) {
	ctx, cancel := t.rpcContext()
	defer cancel()
	stream, err := client.LotsOfReplies(ctx, &helloworld.HelloStreamRequest{Name: name, Count: count})
	if err != nil {
		return nil, err
	}
	var messages []string
	for {
		reply, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return messages, nil
		}
		if err != nil {
			return messages, err
		}
		messages = append(messages, reply.GetMessage())
	}
}

func repliesCall(name string, count int32) string {
	return fmt.Sprintf("LotsOfReplies(name=%q, count=%d)", name, count)
}
