package services

import (
	"fmt"
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
	count := req.GetCount()
	if count < 0 || count > maxReplies {
		return status.Errorf(codes.InvalidArgument, "count must be in 0..%d, got %d", maxReplies, count)
	}
	if s.faults.Has(faults.StreamTruncate) {
		count = max(count-1, 0)
	}
	for i := range count {
		message := fmt.Sprintf("Hello, %s! #%d", req.GetName(), i+1)
		if err := stream.Send(&helloworld.HelloReply{Message: message}); err != nil {
			return err
		}
	}
	return nil
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
