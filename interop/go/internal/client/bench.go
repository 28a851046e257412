package client

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	rpccode "google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/result"
)

// The load mode (docs/peer-contract.md, "Load mode"): a fixed, bounded load on one channel
// against grpc.testing.TestService, one JSON line per measurement.

// Load is the size of the load mode's measurements (the --bench_* flags).
type Load struct {
	Calls     int           // measured unary calls
	Warmup    int           // unary calls before measuring
	Messages  int           // responses of the server stream
	Size      int           // payload bytes of every request and response
	TimeLimit time.Duration // the bound of each measurement, and the stream's deadline
}

// bench is the load mode's run: the channel the measurements share, and their load.
type bench struct {
	target cases.Target
	conn   *grpc.ClientConn
	load   Load
}

// measurement is one of the load mode's measurements: run returns its JSON line.
type measurement struct {
	name string
	run  func(*bench) (any, error)
}

// measurements are the load mode's measurements, in the contract's order.
var measurements = []measurement{
	{"unary", (*bench).unary},
	{"server_streaming", (*bench).serverStreaming},
}

// measurementNames lists the measurements, in the contract's order.
func measurementNames() []string {
	names := make([]string, len(measurements))
	for i, m := range measurements {
		names[i] = m.name
	}
	return names
}

// unaryLine and streamingLine are the figures of the two measurements; errorLine ends a
// measurement whose RPC failed.
type unaryLine struct {
	Bench     string  `json:"bench"`
	Calls     int     `json:"calls"`
	P50Us     float64 `json:"p50_us"`
	P99Us     float64 `json:"p99_us"`
	MeanUs    float64 `json:"mean_us"`
	ElapsedMs float64 `json:"elapsed_ms"`
}

type streamingLine struct {
	Bench           string  `json:"bench"`
	Messages        int     `json:"messages"`
	BytesPerMessage int     `json:"bytes_per_message"`
	ElapsedMs       float64 `json:"elapsed_ms"`
	MsgsPerS        float64 `json:"msgs_per_s"`
}

type errorLine struct {
	Bench string `json:"bench"`
	Error string `json:"error"`
}

// runBench runs the measurements of cfg in order on one channel, printing one JSON line per
// measurement on stdout and each failure's reason on stderr. It returns the exit code: 0 when
// every measurement printed figures, 1 otherwise.
func runBench(cfg Config, stdout, stderr io.Writer) int {
	conn, dialErr := cfg.Target.Dial()
	if dialErr == nil {
		defer conn.Close()
	}
	b := &bench{target: cfg.Target, conn: conn, load: cfg.Load}
	code := 0
	for _, name := range cfg.Bench {
		line, err := b.measure(name, dialErr)
		if err != nil {
			code = 1
			reason := describeStatus(err)
			fmt.Fprintf(stderr, "bench %s: FAILED: %s\n", name, reason)
			line = errorLine{Bench: name, Error: reason}
		}
		if werr := result.Write(stdout, line); werr != nil {
			fmt.Fprintf(stderr, "writing the result of bench %s: %v\n", name, werr)
			code = 1
		}
	}
	return code
}

// measure runs the named measurement; a channel that could not be opened (dialErr) fails it.
func (b *bench) measure(name string, dialErr error) (any, error) {
	if dialErr != nil {
		return nil, dialErr
	}
	i := slices.IndexFunc(measurements, func(m measurement) bool { return m.name == name })
	if i < 0 {
		return nil, fmt.Errorf("unknown measurement: %s", name)
	}
	return measurements[i].run(b)
}

// unary makes the warm-up calls, then up to load.Calls measured ones, one at a time, until
// the time limit has passed since the warm-up began.
func (b *bench) unary() (any, error) {
	call := b.target.UnaryLoad(b.conn, b.load.Size)
	began := time.Now()
	inTime := func() bool { return time.Since(began) < b.load.TimeLimit }
	for i := 0; i < b.load.Warmup && inTime(); i++ {
		if err := call(); err != nil {
			return nil, err
		}
	}
	latencies := make([]time.Duration, 0, b.load.Calls)
	measured := time.Now()
	for len(latencies) < b.load.Calls && inTime() {
		start := time.Now()
		if err := call(); err != nil {
			return nil, err
		}
		latencies = append(latencies, time.Since(start))
	}
	return unaryFigures(latencies, time.Since(measured)), nil
}

// unaryFigures summarizes the latencies of the measured calls, which took elapsed in all.
func unaryFigures(latencies []time.Duration, elapsed time.Duration) unaryLine {
	line := unaryLine{Bench: "unary", Calls: len(latencies), ElapsedMs: result.Millis(elapsed)}
	if len(latencies) == 0 { // the time limit passed during the warm-up
		return line
	}
	slices.Sort(latencies)
	var sum time.Duration
	for _, d := range latencies {
		sum += d
	}
	line.P50Us = result.Micros(percentile(latencies, 50))
	line.P99Us = result.Micros(percentile(latencies, 99))
	line.MeanUs = result.Micros(sum / time.Duration(len(latencies)))
	return line
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of the N sorted values, N > 0:
// the value at index ceil(p/100·N)−1, computed in integers so that no rounding moves it.
func percentile(sorted []time.Duration, p int) time.Duration {
	return sorted[(p*len(sorted)+99)/100-1]
}

// serverStreaming makes one StreamingOutputCall of load.Messages responses, with the time
// limit as its deadline, and reads every response; it is timed from the call to the status.
func (b *bench) serverStreaming() (any, error) {
	call := cases.StreamingLoad(b.conn, b.load.Messages, b.load.Size)
	ctx, cancel := context.WithTimeout(context.Background(), b.load.TimeLimit)
	defer cancel()
	start := time.Now()
	received, err := call(ctx)
	elapsed := time.Since(start)
	switch {
	case err != nil:
		return nil, err
	case received != b.load.Messages:
		return nil, fmt.Errorf("StreamingOutputCall{%d responses of %d bytes}: expected %d responses, got %d before OK",
			b.load.Messages, b.load.Size, b.load.Messages, received)
	}
	return streamingLine{
		Bench:           "server_streaming",
		Messages:        received,
		BytesPerMessage: b.load.Size,
		ElapsedMs:       result.Millis(elapsed),
		MsgsPerS:        result.Tenths(float64(received) / elapsed.Seconds()),
	}, nil
}

// describeStatus is a failed RPC's status as "CODE: message" (the canonical code name, as
// UNAVAILABLE), or the error's text when it is not an RPC status.
func describeStatus(err error) string {
	s, ok := status.FromError(err)
	if !ok {
		return err.Error()
	}
	return fmt.Sprintf("%s: %s", rpccode.Code(s.Code()), s.Message())
}
