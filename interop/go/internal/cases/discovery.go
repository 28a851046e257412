package cases

import "slices"

// servedServices is every service a server of the contract serves and describes by reflection
// (docs/peer-contract.md, "Server": the served services), which the discovery cases ask about.
var servedServices = []string{
	"helloworld.Greeter", "helloworld.StreamingGreeter", "rpc_package.HelloWorldService",
	"compute.Compute", "UserRecommend", "TestServer", "panda.Panda", "grpc.testing.TestService",
	"grpc.health.v1.Health", "interop.ServerInfo", "interop.scripted.Scripted",
}

// ServedServices lists the contract's served services (the discovery cases' list).
func ServedServices() []string { return slices.Clone(servedServices) }
