package main

import (
	"fmt"
	"strings"
)

// A step is one run of the tool in a case, and what its outcome must be.
type step struct {
	invocation
	check check
}

// servedServices are the services every server serves and describes through reflection
// (docs/peer-contract.md, "Server").
var servedServices = []string{
	"helloworld.Greeter", "helloworld.StreamingGreeter", "rpc_package.HelloWorldService",
	"compute.Compute", "UserRecommend", "TestServer", "panda.Panda", "grpc.testing.TestService",
	"grpc.health.v1.Health", "interop.ServerInfo", "interop.scripted.Scripted",
}

// scriptedMethods are the lines grpcurl renders for interop.scripted.Scripted's methods
// (protos/interop/scripted.proto).
var scriptedMethods = []string{
	"rpc Unary ( .interop.scripted.ScriptedRequest ) returns ( .interop.scripted.ScriptedResponse );",
	"rpc ServerStream ( .interop.scripted.ScriptedRequest ) returns ( stream .interop.scripted.ScriptedResponse );",
	"rpc ClientStream ( stream .interop.scripted.ScriptedRequest ) returns ( .interop.scripted.ScriptedResponse );",
	"rpc BidiStream ( stream .interop.scripted.ScriptedRequest ) returns ( stream .interop.scripted.ScriptedResponse );",
}

// grpcurlNotFound is grpcurl's exit code for an RPC that failed NOT_FOUND: 64 + the status code.
const grpcurlNotFound = 64 + 5

func grpcurlCall(data, method string) invocation {
	return invocation{flags: []string{"-d", data}, operands: []string{method}}
}

// grpcurlCases: the contract's table for the grpcurl suite.
var grpcurlCases = map[string][]step{
	"grpcurl_list": {
		{invocation{operands: []string{"list"}}, all(exited(0), listsLines(servedServices))},
	},
	"grpcurl_describe": {
		{invocation{operands: []string{"describe", "interop.scripted.Scripted"}}, all(exited(0), describesService("Scripted", scriptedMethods))},
	},
	"grpcurl_call": {
		{grpcurlCall(`{"name":"world"}`, "helloworld.Greeter/SayHello"), all(exited(0), jsonObject(`{"message":"Hello, world!"}`))},
		// 2^53 + 1: a float64 on the way would lose it.
		{grpcurlCall(`{"arg":"9007199254740993"}`, "panda.Panda/Getinfo"), all(exited(0), jsonMember("reply", `"9007199254740994"`))},
	},
	"grpcurl_health": {
		{grpcurlCall(`{"service":"helloworld.Greeter"}`, "grpc.health.v1.Health/Check"), all(exited(0), jsonObject(`{"status":"SERVING"}`))},
		{grpcurlCall(`{"service":"no.such.Service"}`, "grpc.health.v1.Health/Check"), all(exited(grpcurlNotFound), outputContains("NotFound"))},
	},
}

func probe(flags ...string) invocation { return invocation{flags: flags} }

// healthProbeCases: the contract's table for the health-probe suite. grpc-health-probe exits
// 3 when the RPC fails and 4 when the service is not SERVING.
var healthProbeCases = map[string][]step{
	"health_probe_service": {
		{probe(), all(exited(0), outputLine("status: SERVING"))},
		{probe("-service=helloworld.Greeter"), all(exited(0), outputLine("status: SERVING"))},
	},
	"health_probe_unknown_service": {
		{probe("-service=no.such.Service"), all(exited(3), outputContains("NotFound"))},
	},
}

// describesService checks grpcurl's rendering of a service: a line `service NAME {`, then
// exactly the method lines given (in any order), then `}`.
func describesService(name string, methods []string) check {
	return func(r toolRun) error {
		lines := trimmedLines(r.stdout)
		start := -1
		for i, l := range lines {
			if l == "service "+name+" {" {
				start = i
				break
			}
		}
		if start < 0 {
			return fmt.Errorf("expected a line %q, got %s", "service "+name+" {", excerpt(r.stdout))
		}
		var got []string
		for _, l := range lines[start+1:] {
			if l == "}" {
				break
			}
			if strings.HasPrefix(l, "rpc ") {
				got = append(got, l)
			}
		}
		missing, extra := difference(methods, got), difference(got, methods)
		if len(missing) > 0 || len(extra) > 0 {
			return fmt.Errorf("expected service %s with the methods %q, missing %q, unexpected %q", name, methods, missing, extra)
		}
		return nil
	}
}
