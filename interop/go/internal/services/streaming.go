package services

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"interopmatrix/gen/helloworld"
	"interopmatrix/internal/faults"
)

// maxReplies is the largest count a HelloStreamRequest may ask for.
const maxReplies = 10000

// streamingGreeter is helloworld.StreamingGreeter.
type streamingGreeter struct {
	helloworld.UnimplementedStreamingGreeterServer
	faults faults.Set
}

func (s *streamingGreeter) LotsOfReplies(req *helloworld.HelloStreamRequest, stream grpc.ServerStreamingServer[helloworld.HelloReply]) error {
	count, err := replyCount(req.GetCount(), s.faults)
	if err != nil {
		return err
	}
	for i := range count {
		message := fmt.Sprintf("Hello, %s! #%d", req.GetName(), i+1)
		if err := stream.Send(&helloworld.HelloReply{Message: message}); err != nil {
			return err
		}
	}
	return nil
}

// replyCount validates count (0..10000) and returns how many replies to send. The
// count-limit-low fault lowers the limit to 9999, count-limit-none removes it, and
// stream-truncate sends one reply fewer.
func replyCount(count int32, f faults.Set) (int32, error) {
	limit := int32(maxReplies)
	switch {
	case f.Has(faults.CountLimitNone):
		limit = math.MaxInt32
	case f.Has(faults.CountLimitLow):
		limit = maxReplies - 1
	}
	if count < 0 || count > limit {
		return 0, status.Errorf(codes.InvalidArgument, "count must be in 0..%d, got %d", limit, count)
	}
	if f.Has(faults.StreamTruncate) {
		count = max(count-1, 0)
	}
	return count, nil
}

func (s *streamingGreeter) LotsOfGreetings(stream grpc.ClientStreamingServer[helloworld.HelloRequest, helloworld.HelloReply]) error {
	var names []string
	err := eachRequest(stream.Recv, func(req *helloworld.HelloRequest) error {
		names = append(names, req.GetName())
		return nil
	})
	if err != nil {
		return err
	}
	if s.faults.Has(faults.GreetingsReversed) {
		slices.Reverse(names)
	}
	return stream.SendAndClose(&helloworld.HelloReply{Message: greeting(strings.Join(names, ", "))})
}

func (s *streamingGreeter) BidiHello(stream grpc.BidiStreamingServer[helloworld.HelloRequest, helloworld.HelloReply]) error {
	var held []*helloworld.HelloReply // replies the bidi-buffered fault holds back until half-close
	err := eachRequest(stream.Recv, func(req *helloworld.HelloRequest) error {
		reply := &helloworld.HelloReply{Message: greeting(req.GetName())}
		if s.faults.Has(faults.BidiBuffered) {
			held = append(held, reply)
			return nil
		}
		return stream.Send(reply)
	})
	if err != nil {
		return err
	}
	for _, reply := range held {
		if err := stream.Send(reply); err != nil {
			return err
		}
	}
	return nil
}
