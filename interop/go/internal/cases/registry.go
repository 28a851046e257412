package cases

import (
	"fmt"
	"slices"
)

// caseFunc checks one behaviour of the target; nil means the server passed.
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

// security is the security suite (mtls only).
var security = []namedCase{
	{"mtls_client_without_certificate", mtlsClientWithoutCertificate},
}

// registry is every case, suite by suite.
var registry = slices.Concat(seeds, grpcTesting, security)

func names(list []namedCase) []string {
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.name
	}
	return out
}

// Names lists every case: the seeds suite, then the grpc.testing suite, each in the
// contract's order.
func Names() []string { return names(registry) }

// SeedsNames and TestingNames list the cases of one suite, in the contract's order.
func SeedsNames() []string { return names(seeds) }

func TestingNames() []string { return names(grpcTesting) }

// Run runs the named case against t; an unknown name, like a panic, is a failure.
func Run(name string, t Target) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	for _, c := range registry {
		if c.name == name {
			return c.run(t)
		}
	}
	return fmt.Errorf("unknown test case: %s", name)
}
