package services

import (
	"context"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"interopmatrix/gen/helloworld"
	"interopmatrix/internal/faults"
)

// greeting is the reply every greeting method builds: "Hello, {name}!".
func greeting(name string) string { return "Hello, " + name + "!" }

// greeter is helloworld.Greeter.
type greeter struct {
	helloworld.UnimplementedGreeterServer
	faults faults.Set
	calls  atomic.Int64 // SayHello calls so far, for unary-every-10th-unavailable
}

func (g *greeter) SayHello(_ context.Context, req *helloworld.HelloRequest) (*helloworld.HelloReply, error) {
	call := g.calls.Add(1)
	if g.faults.Has(faults.UnaryEvery10thUnavailable) && call%10 == 0 {
		return nil, status.Errorf(codes.Unavailable, "fault %s: call %d refused", faults.UnaryEvery10thUnavailable, call)
	}
	message := greeting(req.GetName())
	if g.faults.Has(faults.GreetingPunctuation) {
		message = "Hello, " + req.GetName()
	}
	return &helloworld.HelloReply{Message: message}, nil
}

func (g *greeter) SayHelloAgain(_ context.Context, req *helloworld.HelloRequest) (*helloworld.HelloReply, error) {
	message := "Hello again, " + req.GetName() + "!"
	if g.faults.Has(faults.AgainWrong) {
		message = greeting(req.GetName())
	}
	return &helloworld.HelloReply{Message: message}, nil
}
