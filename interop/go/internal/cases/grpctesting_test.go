package cases_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/servertest"
	"interopmatrix/internal/tlscreds"
	"interopmatrix/internal/transporttest"
)

// testingCases is the grpc.testing suite, in the contract's order.
var testingCases = []string{
	"empty_unary", "large_unary", "client_compressed_unary", "server_compressed_unary",
	"client_streaming", "client_compressed_streaming", "server_streaming", "server_compressed_streaming",
	"ping_pong", "empty_stream", "cancel_after_begin", "cancel_after_first_response",
	"timeout_on_sleeping_server", "custom_metadata", "status_code_and_message",
	"special_status_message", "unimplemented_method", "unimplemented_service",
}

// testingBroken is the contract's table of grpc.testing faults and the cases each must break.
var testingBroken = map[faults.Name][]string{
	faults.TestingEmptyPayload:         {"large_unary", "client_compressed_unary", "server_compressed_unary", "custom_metadata"},
	faults.TestingAggregateOff:         {"client_streaming", "client_compressed_streaming"},
	faults.TestingStreamDropLast:       {"server_streaming", "server_compressed_streaming"},
	faults.TestingDuplexBuffered:       {"ping_pong", "cancel_after_first_response"},
	faults.TestingDuplexExtra:          {"empty_stream", "ping_pong"},
	faults.TestingNoEchoMetadata:       {"custom_metadata"},
	faults.TestingStatusIgnored:        {"status_code_and_message", "special_status_message"},
	faults.TestingStatusMessageTrimmed: {"special_status_message"},
	faults.TestingImplementEverything:  {"unimplemented_method", "unimplemented_service"},
	faults.TestingEmptyCallError:       {"empty_unary"},
	faults.TestingCompressionUnchecked: {"client_compressed_unary", "client_compressed_streaming"},
}

// noCancelBreaks is what --client_fault=no-cancel must break.
var noCancelBreaks = []string{"cancel_after_begin", "cancel_after_first_response", "timeout_on_sleeping_server"}

// overTransport starts a server with faults f serving transport and returns a target
// dialling it the same way.
func overTransport(t *testing.T, transport string, f faults.Set) cases.Target {
	tgt := target(servertest.Start(t, f, grpc.Creds(transporttest.ServerCreds(t, transport))))
	tgt.Creds = transporttest.ClientCreds(t, transport)
	return tgt
}

// expectBroken runs names against tgt: those in broken must fail, the others pass.
func expectBroken(t *testing.T, tgt cases.Target, names, broken []string) {
	t.Helper()
	for _, name := range names {
		err := cases.Run(name, tgt)
		switch {
		case slices.Contains(broken, name) && err == nil:
			t.Errorf("%s passed, but must fail", name)
		case !slices.Contains(broken, name) && err != nil:
			t.Errorf("%s: %v", name, err)
		case err != nil:
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestTestingFaultsAreTheContractTable(t *testing.T) {
	for _, name := range faults.All {
		_, inTesting := testingBroken[name]
		_, inEdges := edgesBroken[name]
		if isTesting := strings.HasPrefix(string(name), "testing-"); isTesting != (inTesting != inEdges) {
			t.Errorf("fault %s: in the grpc.testing table %v, in the testing-edges table %v", name, inTesting, inEdges)
		}
	}
	if len(testingBroken) != 11 || len(edgesBroken) != 3 {
		t.Errorf("%d grpc.testing and %d testing-edges faults, the contract has 11 and 3", len(testingBroken), len(edgesBroken))
	}
}

// TestEveryCasePassesOverEveryTransport runs the grpc.testing and testing-edges suites and
// every single-process seeds case against a correct server over insecure, tls and mtls.
func TestEveryCasePassesOverEveryTransport(t *testing.T) {
	for _, transport := range transporttest.Names {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			tgt := overTransport(t, transport, nil)
			tgt.RPCTimeout = longTimeout
			expectBroken(t, tgt, slices.Concat(testingCases, testingEdgesCases, singleProcessCases), nil)
		})
	}
}

// TestEachTestingFaultBreaksExactlyItsCases: against a server with one grpc.testing or
// testing-edges fault, the cases the contract lists for it (and alsoBroken) fail and every
// other case of both suites passes.
func TestEachTestingFaultBreaksExactlyItsCases(t *testing.T) {
	all := maps.Clone(testingBroken)
	maps.Copy(all, edgesBroken)
	for fault, breaks := range all {
		breaks := slices.Concat(breaks, alsoBroken[fault])
		t.Run(string(fault), func(t *testing.T) {
			t.Parallel()
			tgt := overTransport(t, "insecure", faults.Set{fault: true})
			tgt.RPCTimeout = longTimeout
			expectBroken(t, tgt, slices.Concat(testingCases, testingEdgesCases), breaks)
		})
	}
}

// TestNoCancelBreaksTheCancellingCases: --client_fault=no-cancel makes exactly the cases
// that cancel or time out a call fail, against a correct server.
func TestNoCancelBreaksTheCancellingCases(t *testing.T) {
	tgt := overTransport(t, "insecure", nil)
	tgt.NoCancel = true
	expectBroken(t, tgt, testingCases, noCancelBreaks)
}

func TestMTLSServerRejectsAClientWithoutCertificate(t *testing.T) {
	tgt := overTransport(t, "mtls", nil)
	tgt.Creds = transporttest.ClientCreds(t, "tls")
	for _, name := range []string{"empty_unary", "greeter_say_hello"} {
		err := cases.Run(name, tgt)
		if err == nil {
			t.Errorf("%s passed over TLS without a client certificate against an mTLS server", name)
		}
		t.Logf("%s: %v", name, err)
	}
}

const securityCase = "mtls_client_without_certificate"

// TestSecurityCase: the case passes against an mTLS server, and fails against a server that
// does not demand a certificate, under --client_fault=with-certificate, and without TLS.
func TestSecurityCase(t *testing.T) {
	mtls := overTransport(t, "mtls", nil)
	mtls.CredsWithoutCertificate = transporttest.ClientCreds(t, "tls")
	if err := cases.Run(securityCase, mtls); err != nil {
		t.Errorf("against an mTLS server: %v", err)
	}
	tls := overTransport(t, "tls", nil)
	tls.CredsWithoutCertificate = tls.Creds
	if err := cases.Run(securityCase, tls); err == nil {
		t.Error("passed against a server that does not demand a client certificate")
	}
	mtls.WithCertificate = true
	if err := cases.Run(securityCase, mtls); err == nil {
		t.Error("passed under --client_fault=with-certificate")
	}
	if err := cases.Run(securityCase, overTransport(t, "insecure", nil)); err == nil || !strings.Contains(err.Error(), "needs --use_tls=true") {
		t.Errorf("without TLS: got %v, want the needs --use_tls=true failure", err)
	}
}

func TestTLSClientWithTheWrongServerNameFails(t *testing.T) {
	tgt := overTransport(t, "tls", nil)
	creds, err := tlscreds.Client{CAFile: transporttest.Cert(t, "ca.pem"), ServerName: "foo.example.org"}.Credentials()
	if err != nil {
		t.Fatal(err)
	}
	tgt.Creds = creds
	for _, name := range []string{"empty_unary", "multi_address_failover"} {
		err := cases.Run(name, tgt)
		if err == nil {
			t.Errorf("%s passed with the server name foo.example.org", name)
		}
		t.Logf("%s: %v", name, err)
	}
}

// TestWithServerName: on TLS, Target.WithServerName gives a clone of the target's credentials
// with the name as their server name, exactly as given, and leaves the target's own untouched;
// on an insecure target there is nothing to give.
func TestWithServerName(t *testing.T) {
	for _, transport := range []string{"insecure", "tls"} {
		tgt := overTransport(t, transport, nil)
		option, err := tgt.WithServerName("FOO.Test.google.fr")
		if transport == "insecure" {
			if option != nil || err != nil {
				t.Errorf("insecure: %v, %v; want nothing", option, err)
			}
			tgt.Creds = nil
			if option, err := tgt.WithServerName("x"); option != nil || err != nil {
				t.Errorf("no credentials: %v, %v; want nothing", option, err)
			}
			continue
		}
		if option == nil || err != nil {
			t.Fatalf("tls: %v, %v", option, err)
		}
		if got := tgt.Creds.Info().ServerName; got != transporttest.ServerName {
			t.Errorf("the target's credentials now have the server name %q", got)
		}
		conn, err := tgt.DialWith(option)
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
}
