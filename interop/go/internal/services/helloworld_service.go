package services

import (
	"context"

	"interopmatrix/gen/rpcpackage"
	"interopmatrix/internal/faults"
)

// helloWorldService is rpc_package.HelloWorldService.
type helloWorldService struct {
	rpcpackage.UnimplementedHelloWorldServiceServer
	faults faults.Set
}

func (h *helloWorldService) SayHello(_ context.Context, req *rpcpackage.HelloRequest) (*rpcpackage.HelloReply, error) {
	message := greeting(req.GetName())
	if h.faults.Has(faults.ServiceWrong) {
		message = "Hi, " + req.GetName() + "!"
	}
	return &rpcpackage.HelloReply{Message: message}, nil
}
