package cases_test

import (
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/servertest"
)

// seedsCases is the seeds suite, in the contract's order.
var seedsCases = []string{
	"greeter_say_hello", "greeter_say_hello_again", "helloworld_service", "compute_length",
	"user_recommend", "random_get", "panda_getinfo", "stream_server", "stream_client",
	"stream_bidi", "concurrent_unary", "multi_address_failover", "reuseport_workers",
	"stream_server_max_count", "user_recommend_max_articles", "health_unknown_service",
	"server_info_version",
}

// discoveryCases is the discovery suite, in the contract's order.
var discoveryCases = []string{
	"reflection_list_v1", "reflection_list_v1alpha", "reflection_file_containing_symbol",
	"health_watch_serving", "health_watch_updates", "health_check_every_service",
}

// broken is the contract's table of faults and the cases each must break. single-worker
// needs a multi-process server: cmd/server's tests cover it.
var broken = map[faults.Name][]string{
	faults.GreetingPunctuation:       {"greeter_say_hello", "greeter_say_hello_again", "concurrent_unary", "multi_address_failover"},
	faults.AgainWrong:                {"greeter_say_hello_again"},
	faults.ServiceWrong:              {"helloworld_service"},
	faults.LengthUTF16:               {"compute_length"},
	faults.LengthBytes:               {"compute_length"},
	faults.RecommendShareSet:         {"user_recommend"},
	faults.RecommendNoValidation:     {"user_recommend"},
	faults.RandomConstant:            {"random_get"},
	faults.PandaFloat64:              {"panda_getinfo"},
	faults.StreamTruncate:            {"stream_server"},
	faults.GreetingsReversed:         {"stream_client"},
	faults.BidiBuffered:              {"stream_bidi"},
	faults.UnaryEvery10thUnavailable: {"concurrent_unary"},
	faults.CountLimitLow:             {"stream_server_max_count"},
	faults.CountLimitNone:            {"stream_server_max_count"},
	faults.ArticleLimitLow:           {"user_recommend_max_articles"},
	faults.HealthServingAny:          {"health_unknown_service"},
	// version-wrong breaks no case in the client: server_info_version only reports the
	// version, and the runner judges it (TestServerInfoVersionObservesTheVersion).
	faults.VersionWrong:             {},
	faults.ReflectionIncomplete:     {"reflection_list_v1", "reflection_list_v1alpha", "reflection_file_containing_symbol"},
	faults.HealthWatchSilent:        {"health_unknown_service", "health_watch_serving", "health_watch_updates"},
	faults.HealthServicesNotServing: {"health_unknown_service", "health_check_every_service"},
	faults.HealthWatchNoUpdates:     {"health_watch_updates"},
}

// alsoBroken is the cases a fault breaks beyond the contract's table, which lists the cases
// it must break (the self-test allows others).
var alsoBroken = map[faults.Name][]string{
	// The testing-edges cases check what these grpc.testing faults break as well.
	faults.TestingStreamDropLast: {"status_server_streaming_non_unknown", "streaming_output_interval"},
	faults.TestingDuplexBuffered: {"status_bidi_non_unknown"},
	faults.TestingStatusIgnored:  {"status_unary_non_unknown", "status_server_streaming_non_unknown", "status_bidi_non_unknown"},
	// A fresh name is SERVING to Watch under health-serving-any, not SERVICE_UNKNOWN.
	faults.HealthServingAny: {"health_watch_updates"},
}

// singleProcessCases is every seeds and discovery case an in-process server can pass.
var singleProcessCases = slices.Concat(slices.DeleteFunc(slices.Clone(seedsCases), func(name string) bool { return name == "reuseport_workers" }), discoveryCases)

// longTimeout is the RPC deadline of tests that run the long cases among others, in parallel:
// streaming_output_interval's 150 ms and the streams need room on a loaded machine.
const longTimeout = 3 * time.Second

func target(port int) cases.Target {
	return cases.Target{Host: "127.0.0.1", Port: port, RPCTimeout: time.Second}
}

func TestNamesAreTheContractCases(t *testing.T) {
	if got := cases.SeedsNames(); !slices.Equal(got, seedsCases) {
		t.Errorf("SeedsNames() = %q, want %q", got, seedsCases)
	}
	if got := cases.TestingNames(); !slices.Equal(got, testingCases) {
		t.Errorf("TestingNames() = %q, want %q", got, testingCases)
	}
	if got := cases.TestingEdgesNames(); !slices.Equal(got, testingEdgesCases) {
		t.Errorf("TestingEdgesNames() = %q, want %q", got, testingEdgesCases)
	}
	if got := cases.DiscoveryNames(); !slices.Equal(got, discoveryCases) {
		t.Errorf("DiscoveryNames() = %q, want %q", got, discoveryCases)
	}
	if got := cases.NetrpcNames(); !slices.Equal(got, netrpcCases) {
		t.Errorf("NetrpcNames() = %q, want %q", got, netrpcCases)
	}
	if got, want := cases.Names(), slices.Concat(seedsCases, testingCases, testingEdgesCases, discoveryCases, []string{securityCase}, netrpcCases); !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}

func TestEveryCasePassesAgainstACorrectServer(t *testing.T) {
	tgt := target(servertest.Start(t, nil))
	tgt.RPCTimeout = longTimeout
	for _, name := range singleProcessCases {
		if err := cases.Run(name, tgt); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestReuseportWorkersFailsAgainstOneProcess(t *testing.T) {
	err := cases.Run("reuseport_workers", target(servertest.Start(t, nil)))
	if err == nil {
		t.Fatal("reuseport_workers passed against a single process")
	}
	t.Log(err)
}

// TestEachFaultBreaksExactlyItsCases runs every single-process case against a server with
// one fault: the cases the contract lists for that fault fail, every other case passes. The
// broken cases run last, so that the other cases' SayHello calls stay below the 10th.
func TestEachFaultBreaksExactlyItsCases(t *testing.T) {
	for fault, breaks := range broken {
		breaks := slices.Concat(breaks, alsoBroken[fault])
		t.Run(string(fault), func(t *testing.T) {
			t.Parallel()
			tgt := target(servertest.Start(t, faults.Set{fault: true}))
			tgt.RPCTimeout = longTimeout
			order := slices.Concat(slices.DeleteFunc(slices.Clone(singleProcessCases), func(name string) bool {
				return slices.Contains(breaks, name)
			}), breaks)
			for _, name := range order {
				err := cases.Run(name, tgt)
				switch {
				case slices.Contains(breaks, name) && err == nil:
					t.Errorf("%s passed, but %s must break it", name, fault)
				case !slices.Contains(breaks, name) && err != nil:
					t.Errorf("%s failed, but %s must not break it: %v", name, fault, err)
				case err != nil:
					t.Logf("%s: %v", name, err)
				}
			}
		})
	}
}

// TestServerInfoVersionObservesTheVersion: server_info_version passes whatever version the
// server reports, and reports exactly what GetInfo returned for the runner to judge.
func TestServerInfoVersionObservesTheVersion(t *testing.T) {
	for _, tc := range []struct {
		faults  faults.Set
		version string
	}{
		{nil, grpc.Version},
		{faults.Set{faults.VersionWrong: true}, "0.0.0-fault"},
	} {
		observed, err := cases.RunObserved("server_info_version", target(servertest.Start(t, tc.faults)))
		if err != nil {
			t.Errorf("faults %q: %v", tc.faults, err)
		}
		got, _ := json.Marshal(observed)
		want := fmt.Sprintf(`{"language":"go","implementation":"grpc-go","version":%q}`, tc.version)
		if string(got) != want {
			t.Errorf("faults %q: observed %s, want %s", tc.faults, got, want)
		}
	}
	for _, name := range []string{"greeter_say_hello", "stream_server_max_count", "status_unary_non_unknown"} {
		if observed, err := cases.RunObserved(name, target(servertest.Start(t, nil))); observed != nil || err != nil {
			t.Errorf("%s observed %v, %v; want nothing", name, observed, err)
		}
	}
	if observed, err := cases.RunObserved("server_info_version", target(closedPort(t))); observed != nil || err == nil {
		t.Errorf("with no server: observed %v, %v; want nothing and a failure", observed, err)
	}
}

func TestErrorsNameCallExpectedAndGot(t *testing.T) {
	tgt := target(servertest.Start(t, faults.Set{faults.GreetingPunctuation: true}))
	err := cases.Run("greeter_say_hello", tgt)
	const want = `SayHello("world"): expected "Hello, world!", got "Hello, world"`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestUnknownCaseFails(t *testing.T) {
	err := cases.Run("no_such_case", target(1))
	if err == nil || err.Error() != "unknown test case: no_such_case" {
		t.Errorf("error = %v", err)
	}
}

func TestCasesFailInBoundedTimeWithoutServer(t *testing.T) {
	tgt := target(closedPort(t))
	tgt.RPCTimeout = 300 * time.Millisecond
	start := time.Now()
	for _, name := range cases.Names() {
		err := cases.Run(name, tgt)
		switch {
		case name == "timeout_on_sleeping_server":
			// It checks the client's own 1 ms deadline, which passes before a dead server
			// is even noticed; only --client_fault=no-cancel turns it red.
		case err == nil:
			t.Errorf("%s passed with no server", name)
		}
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("the cases took %v with no server", elapsed)
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().(*net.TCPAddr).Port
}
