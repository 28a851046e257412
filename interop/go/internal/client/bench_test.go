package client

import (
	"encoding/json"
	"maps"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/servertest"
)

// smallLoad keeps the load mode's tests fast.
var smallLoad = Load{Calls: 50, Warmup: 5, Messages: 500, Size: 16, TimeLimit: 10 * time.Second}

// runBenchOn runs measurements with load against 127.0.0.1:port and returns the exit code,
// the JSON lines as objects, and stderr.
func runBenchOn(t *testing.T, port int, load Load, names ...string) (int, []map[string]any, string) {
	t.Helper()
	target := cases.Target{Host: "127.0.0.1", Port: port, RPCTimeout: time.Second}
	var stdout, stderr strings.Builder
	code := Run(Config{Target: target, Bench: names, Load: load}, &stdout, &stderr)
	var lines []map[string]any
	for _, text := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		var line map[string]any
		if err := json.Unmarshal([]byte(text), &line); err != nil {
			t.Fatalf("stdout line %q is not JSON: %v", text, err)
		}
		lines = append(lines, line)
	}
	if len(lines) != len(names) {
		t.Fatalf("%d lines for %d measurements: %q", len(lines), len(names), stdout.String())
	}
	return code, lines, stderr.String()
}

// expectKeys checks that a line has exactly keys.
func expectKeys(t *testing.T, line map[string]any, keys ...string) {
	t.Helper()
	if got := slices.Sorted(maps.Keys(line)); !slices.Equal(got, slices.Sorted(slices.Values(keys))) {
		t.Errorf("line %v has keys %q, want %q", line, got, keys)
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i + 1)
	}
	thousands := make([]time.Duration, 2000)
	for i := range thousands {
		thousands[i] = time.Duration(i + 1)
	}
	for _, tc := range []struct {
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{[]time.Duration{7}, 50, 7},
		{[]time.Duration{7}, 99, 7},
		{[]time.Duration{1, 2}, 50, 1},
		{[]time.Duration{1, 2}, 99, 2},
		{[]time.Duration{1, 2, 3}, 50, 2},
		{hundred, 50, 50},
		{hundred, 99, 99},
		{hundred, 100, 100},
		{hundred, 1, 1},
		{thousands, 99, 1980},
	} {
		if got := percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("percentile(%d values, %d) = %d, want %d", len(tc.sorted), tc.p, got, tc.want)
		}
	}
}

func TestUnaryFigures(t *testing.T) {
	latencies := []time.Duration{300 * time.Microsecond, 100 * time.Microsecond, 200*time.Microsecond + 49*time.Nanosecond}
	got := unaryFigures(latencies, 1234567*time.Microsecond)
	want := unaryLine{Bench: "unary", Calls: 3, P50Us: 200, P99Us: 300, MeanUs: 200, ElapsedMs: 1234.6}
	if got != want {
		t.Errorf("unaryFigures = %+v, want %+v", got, want)
	}
	if got := unaryFigures(nil, time.Millisecond); got != (unaryLine{Bench: "unary", ElapsedMs: 1}) {
		t.Errorf("no measured call: %+v", got)
	}
}

func TestBenchMeasures(t *testing.T) {
	code, lines, stderr := runBenchOn(t, servertest.Start(t, nil), smallLoad, "unary", "server_streaming")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, lines %v, stderr %q", code, lines, stderr)
	}
	unary, stream := lines[0], lines[1]
	expectKeys(t, unary, "bench", "calls", "p50_us", "p99_us", "mean_us", "elapsed_ms")
	if unary["bench"] != "unary" || unary["calls"] != 50.0 ||
		!(0 < unary["p50_us"].(float64) && unary["p50_us"].(float64) <= unary["p99_us"].(float64)) ||
		unary["mean_us"].(float64) <= 0 || unary["elapsed_ms"].(float64) <= 0 {
		t.Errorf("unary line %v", unary)
	}
	expectKeys(t, stream, "bench", "messages", "bytes_per_message", "elapsed_ms", "msgs_per_s")
	if stream["bench"] != "server_streaming" || stream["messages"] != 500.0 || stream["bytes_per_message"] != 16.0 ||
		stream["elapsed_ms"].(float64) <= 0 || stream["msgs_per_s"].(float64) <= 0 {
		t.Errorf("server_streaming line %v", stream)
	}
}

func TestBenchStopsAtTheTimeLimit(t *testing.T) {
	load := smallLoad
	load.Calls, load.TimeLimit = 10_000_000, 200*time.Millisecond
	start := time.Now()
	code, lines, _ := runBenchOn(t, servertest.Start(t, nil), load, "unary")
	if calls := lines[0]["calls"].(float64); code != 0 || calls < 1 || calls >= 10_000_000 {
		t.Errorf("exit %d, line %v", code, lines[0])
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("took %v with a 200 ms limit", elapsed)
	}
}

func TestBenchGoesOnAfterAFailure(t *testing.T) {
	port := servertest.Start(t, faults.Set{faults.TestingStreamDropLast: true})
	code, lines, stderr := runBenchOn(t, port, smallLoad, "server_streaming", "unary")
	if code != 1 || lines[0]["error"] != "StreamingOutputCall{500 responses of 16 bytes}: expected 500 responses, got 499 before OK" ||
		lines[1]["calls"] != 50.0 {
		t.Errorf("exit %d, lines %v", code, lines)
	}
	expectKeys(t, lines[0], "bench", "error")
	if !strings.Contains(stderr, "got 499 before OK") {
		t.Errorf("stderr %q lacks the reason", stderr)
	}
}

func TestBenchAgainstAClosedPort(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := lis.Addr().(*net.TCPAddr).Port
	lis.Close()
	start := time.Now()
	code, lines, stderr := runBenchOn(t, port, smallLoad, "unary", "server_streaming")
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	for i, name := range []string{"unary", "server_streaming"} {
		expectKeys(t, lines[i], "bench", "error")
		reason, _ := lines[i]["error"].(string)
		if lines[i]["bench"] != name || !strings.HasPrefix(reason, "UNAVAILABLE: ") || !strings.Contains(stderr, "bench "+name+": FAILED: "+reason) {
			t.Errorf("line %v, stderr %q", lines[i], stderr)
		}
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("took %v against a closed port", elapsed)
	}
}
