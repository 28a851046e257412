package cases

import (
	"fmt"
	"slices"
)

// caseFunc checks one behaviour of the target; nil means the server passed. A case that
// reports what the library gave it, for the runner to judge, does so with Target.report.
type caseFunc func(Target) error

type namedCase struct {
	name string
	run  caseFunc
}

// seeds is every case of the seeds suite, in the contract's order.
var seeds = []namedCase{
	{"greeter_say_hello", greeterSayHello},
	{"greeter_say_hello_again", greeterSayHelloAgain},
	{"helloworld_service", helloworldService},
	{"compute_length", computeLength},
	{"user_recommend", userRecommend},
	{"random_get", randomGet},
	{"panda_getinfo", pandaGetinfo},
	{"stream_server", streamServer},
	{"stream_client", streamClient},
	{"stream_bidi", streamBidi},
	{"concurrent_unary", concurrentUnary},
	{"multi_address_failover", multiAddressFailover},
	{"reuseport_workers", reuseportWorkers},
	{"stream_server_max_count", streamServerMaxCount},
	{"user_recommend_max_articles", userRecommendMaxArticles},
	{"health_unknown_service", healthUnknownService},
	{"server_info_version", serverInfoVersion},
}

// grpcTesting is every case of the grpc.testing suite, in the contract's order.
var grpcTesting = []namedCase{
	{"empty_unary", emptyUnary},
	{"large_unary", largeUnary},
	{"client_compressed_unary", clientCompressedUnary},
	{"server_compressed_unary", serverCompressedUnary},
	{"client_streaming", clientStreaming},
	{"client_compressed_streaming", clientCompressedStreaming},
	{"server_streaming", serverStreaming},
	{"server_compressed_streaming", serverCompressedStreaming},
	{"ping_pong", pingPong},
	{"empty_stream", emptyStream},
	{"cancel_after_begin", cancelAfterBegin},
	{"cancel_after_first_response", cancelAfterFirstResponse},
	{"timeout_on_sleeping_server", timeoutOnSleepingServer},
	{"custom_metadata", customMetadata},
	{"status_code_and_message", statusCodeAndMessage},
	{"special_status_message", specialStatusMessage},
	{"unimplemented_method", unimplementedMethod},
	{"unimplemented_service", unimplementedService},
}

// testingEdges is every case of the testing-edges suite, in the contract's order.
var testingEdges = []namedCase{
	{"status_unary_non_unknown", statusUnaryNonUnknown},
	{"status_server_streaming_non_unknown", statusServerStreamingNonUnknown},
	{"status_bidi_non_unknown", statusBidiNonUnknown},
	{"streaming_output_interval", streamingOutputInterval},
}

// discovery is every case of the discovery suite, in the contract's order.
var discovery = []namedCase{
	{"reflection_list_v1", reflectionListV1},
	{"reflection_list_v1alpha", reflectionListV1alpha},
	{"reflection_file_containing_symbol", reflectionFileContainingSymbol},
	{"health_watch_serving", healthWatchServing},
	{"health_watch_updates", healthWatchUpdates},
	{"health_check_every_service", healthCheckEveryService},
}

// security is the security suite (mtls only).
var security = []namedCase{
	{"mtls_client_without_certificate", mtlsClientWithoutCertificate},
}

// netrpc is the netrpc suite: Go's net/rpc Panda service (interop/netrpc), not gRPC. The gob
// cases are the Go client's only (docs/peer-contract.md, "The netrpc suite").
var netrpc = []namedCase{
	{"netrpc_jsonrpc_getinfo", netrpcJSONRPCGetinfo},
	{"netrpc_jsonrpc_beyond_2_53", netrpcJSONRPCBeyond253},
	{"netrpc_jsonrpc_int64_edges", netrpcJSONRPCInt64Edges},
	{"netrpc_jsonrpc_wraps", netrpcJSONRPCWraps},
	{"netrpc_jsonrpc_not_an_int", netrpcJSONRPCNotAnInt},
	{"netrpc_jsonrpc_unknown_method", netrpcJSONRPCUnknownMethod},
	{"netrpc_jsonrpc_pipelined", netrpcJSONRPCPipelined},
	{"netrpc_http_panda", netrpcHTTPPanda},
	{"netrpc_gob_getinfo", netrpcGobGetinfo},
	{"netrpc_gob_unknown_method", netrpcGobUnknownMethod},
}

// registry is every case, suite by suite.
var registry = slices.Concat(seeds, grpcTesting, testingEdges, discovery, security, netrpc)

func names(list []namedCase) []string {
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.name
	}
	return out
}

// Names lists every case: the seeds, grpc.testing, testing-edges, discovery, security and
// netrpc suites, each in the contract's order.
func Names() []string { return names(registry) }

// SeedsNames, TestingNames, TestingEdgesNames and DiscoveryNames list the cases of one suite,
// in the contract's order.
func SeedsNames() []string { return names(seeds) }

func TestingNames() []string { return names(grpcTesting) }

func TestingEdgesNames() []string { return names(testingEdges) }

func DiscoveryNames() []string { return names(discovery) }

// NetrpcNames lists the cases of the netrpc suite, in the contract's order.
func NetrpcNames() []string { return names(netrpc) }

// Run runs the named case against t; an unknown name, like a panic, is a failure.
func Run(name string, t Target) error {
	_, err := RunObserved(name, t)
	return err
}

// RunObserved runs the named case against t like Run, and also returns what the case
// observed for the runner to judge (the result line's "observed"; nil for most cases).
//
// It is the one place where a case's checks count: under --client_fault=no-checks
// (t.NoChecks) the case makes its calls but whatever it found wrong, value or status, is
// dropped and the case passes. An unknown name or a panic, which are not checks of the
// server, still fail.
func RunObserved(name string, t Target) (observed any, err error) {
	defer func() {
		if p := recover(); p != nil {
			observed, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	for _, c := range registry {
		if c.name == name {
			t.observed = &observed
			err = c.run(t)
			if t.NoChecks {
				err = nil
			}
			return observed, err
		}
	}
	return nil, fmt.Errorf("unknown test case: %s", name)
}
