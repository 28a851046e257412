// Package services implements every service in protos/ (interop.scripted.Scripted in
// internal/scripted) and serves grpc-go's server reflection, with the self-test faults of
// docs/peer-contract.md switched on by a faults.Set.
package services

import (
	"math"
	"slices"

	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // registers gzip: compressed requests and responses
	"google.golang.org/grpc/keepalive"

	"interopmatrix/gen/compute"
	"interopmatrix/gen/grpctesting"
	"interopmatrix/gen/health"
	"interopmatrix/gen/helloworld"
	"interopmatrix/gen/panda"
	"interopmatrix/gen/rpcpackage"
	"interopmatrix/gen/serverinfo"
	"interopmatrix/gen/testserver"
	"interopmatrix/gen/userrecommend"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/scripted"
)

// NewServer returns a gRPC server with every service registered, ready to Serve; opts add
// to the server's own options (the transport credentials, the message size limits of
// --max_receive_message_length and --max_send_message_length, the connection lifecycle flags).
// restart is how the scripted service restarts this server (script.restart_server_after_ms);
// nil for a server that cannot restart.
//
// The fault scripted-limits-ignored puts the largest limits grpc-go takes after opts, so that
// they win over the command line's (grpc-go applies server options in order, each setting its
// field: server.go, MaxRecvMsgSize and MaxSendMsgSize). scripted-lifecycle-ignored likewise puts
// grpc-go's defaults of the lifecycle options after opts: math.MaxUint32 concurrent streams
// (server.go, defaultServerOptions; MaxConcurrentStreams(0) would set the same) and zero
// keepalive.ServerParameters and EnforcementPolicy, every field of which grpc-go takes as its
// default (internal/transport/http2_server.go, NewServerTransport).
func NewServer(f faults.Set, restart scripted.Restart, opts ...grpc.ServerOption) *grpc.Server {
	opts = slices.Concat([]grpc.ServerOption{grpc.StatsHandler(inboundRecorder{})}, echoInterceptors(f), opts)
	if f.Has(faults.ScriptedLimitsIgnored) {
		opts = append(opts, grpc.MaxRecvMsgSize(math.MaxInt32), grpc.MaxSendMsgSize(math.MaxInt32))
	}
	if f.Has(faults.ScriptedLifecycleIgnored) {
		opts = append(opts, grpc.MaxConcurrentStreams(math.MaxUint32),
			grpc.KeepaliveParams(keepalive.ServerParameters{}), grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{}))
	}
	s := grpc.NewServer(opts...)
	helloworld.RegisterGreeterServer(s, &greeter{faults: f})
	helloworld.RegisterStreamingGreeterServer(s, &streamingGreeter{faults: f})
	rpcpackage.RegisterHelloWorldServiceServer(s, &helloWorldService{faults: f})
	compute.RegisterComputeServer(s, &computeService{faults: f})
	userrecommend.RegisterUserRecommendServer(s, &userRecommend{faults: f})
	testserver.RegisterTestServerServer(s, &randomService{faults: f})
	panda.RegisterPandaServer(s, &pandaService{faults: f})
	serverinfo.RegisterServerInfoServer(s, serverInfo{faults: f})
	registerTesting(s, f)
	scripted.Register(s, f, restart)
	h := &healthService{faults: f}
	health.RegisterHealthServer(s, h)
	h.setServed(s.GetServiceInfo())
	// After setServed: the health service answers for the served services of the contract,
	// not for reflection, which describes them.
	registerReflection(s, f)
	return s
}

// registerTesting registers grpc.testing.TestService; grpc.testing.UnimplementedService is
// registered only by the fault that implements it.
func registerTesting(s *grpc.Server, f faults.Set) {
	ts := &testService{faults: f}
	if !f.Has(faults.TestingImplementEverything) {
		grpctesting.RegisterTestServiceServer(s, ts)
		return
	}
	grpctesting.RegisterTestServiceServer(s, everythingTestService{ts})
	grpctesting.RegisterUnimplementedServiceServer(s, everythingUnimplementedService{})
}
