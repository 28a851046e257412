package cases

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/helloworld"
)

// maxCount is the largest count a LotsOfReplies request may ask for.
const maxCount = 10000

// streamServerMaxCount: the boundary of LotsOfReplies. count:10000 → exactly its 10000
// replies in order, status OK; count:10001 → INVALID_ARGUMENT naming count.
func streamServerMaxCount(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := helloworld.NewStreamingGreeterClient(conn)
		if err := expectReplies(t, client, "m", maxCount); err != nil {
			return err
		}
		_, err := lotsOfReplies(t, client, "m", maxCount+1)
		return expectStatus(repliesCall("m", maxCount+1), err, codes.InvalidArgument, "count")
	})
}
