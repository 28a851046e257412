package cases_test

import (
	"strings"
	"testing"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/servertest"
)

// testingEdgesCases is the testing-edges suite, in the contract's order.
var testingEdgesCases = []string{
	"status_unary_non_unknown", "status_server_streaming_non_unknown", "status_bidi_non_unknown",
	"streaming_output_interval",
}

// edgesBroken is the contract's table of testing-edges faults and the cases each must break
// (TestEachTestingFaultBreaksExactlyItsCases runs them).
var edgesBroken = map[faults.Name][]string{
	faults.TestingStatusUnknown:   {"status_unary_non_unknown", "status_server_streaming_non_unknown", "status_bidi_non_unknown"},
	faults.TestingStreamStatusOK:  {"status_server_streaming_non_unknown"},
	faults.TestingIntervalIgnored: {"streaming_output_interval"},
}

// TestTestingEdgesErrors: each testing-edges case names the call, what it expected and what
// came back.
func TestTestingEdgesErrors(t *testing.T) {
	for _, tc := range []struct {
		fault faults.Name
		name  string
		want  string
	}{
		{faults.TestingStatusUnknown, "status_unary_non_unknown",
			`UnaryCall{response_status:{code:9, message:"precondition failed: edges"}}: expected status FailedPrecondition "precondition failed: edges", got Unknown "precondition failed: edges"`},
		{faults.TestingStreamStatusOK, "status_server_streaming_non_unknown",
			`StreamingOutputCall{response sizes 8, 8, response_status:{code:11, message:"out of range after 2"}}: after response 2: expected status OutOfRange "out of range after 2", got OK`},
		{faults.TestingStatusUnknown, "status_bidi_non_unknown",
			`FullDuplexCall: {response_status:{code:6, message:"already exists: edges"}}: expected status AlreadyExists "already exists: edges", got Unknown "already exists: edges"`},
		{faults.TestingIntervalIgnored, "streaming_output_interval",
			`StreamingOutputCall{three times {response size 1, interval_us 50000}}: expected the third payload at least 135ms after the call started, got it after `},
	} {
		err := cases.Run(tc.name, target(servertest.Start(t, faults.Set{tc.fault: true})))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s against %s: error %v, want %s", tc.name, tc.fault, err, tc.want)
		}
	}
}
