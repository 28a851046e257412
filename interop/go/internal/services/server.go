// Package services implements every service in protos/, with the self-test faults of
// docs/peer-contract.md switched on by a faults.Set.
package services

import (
	"google.golang.org/grpc"

	"interopmatrix/gen/compute"
	"interopmatrix/gen/health"
	"interopmatrix/gen/helloworld"
	"interopmatrix/gen/panda"
	"interopmatrix/gen/rpcpackage"
	"interopmatrix/gen/serverinfo"
	"interopmatrix/gen/testserver"
	"interopmatrix/gen/userrecommend"
	"interopmatrix/internal/faults"
)

// NewServer returns a gRPC server with every service registered, ready to Serve.
func NewServer(f faults.Set) *grpc.Server {
	s := grpc.NewServer()
	helloworld.RegisterGreeterServer(s, &greeter{faults: f})
	helloworld.RegisterStreamingGreeterServer(s, &streamingGreeter{faults: f})
	rpcpackage.RegisterHelloWorldServiceServer(s, &helloWorldService{faults: f})
	compute.RegisterComputeServer(s, &computeService{faults: f})
	userrecommend.RegisterUserRecommendServer(s, &userRecommend{faults: f})
	testserver.RegisterTestServerServer(s, &randomService{faults: f})
	panda.RegisterPandaServer(s, &pandaService{faults: f})
	serverinfo.RegisterServerInfoServer(s, serverInfo{})
	h := &healthService{}
	health.RegisterHealthServer(s, h)
	h.setServed(s.GetServiceInfo())
	return s
}
