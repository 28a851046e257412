package client

import (
	"flag"
	"fmt"
	"time"
)

// loadFlags are the load mode's --bench_* flags (docs/peer-contract.md, "Load mode").
type loadFlags struct {
	calls, warmup, messages, size, timeLimitMs int
}

func (l *loadFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&l.calls, "bench_calls", 2000, "load mode: measured unary calls")
	fs.IntVar(&l.warmup, "bench_warmup", 200, "load mode: unary calls before measuring")
	fs.IntVar(&l.messages, "bench_messages", 20000, "load mode: messages of the server stream")
	fs.IntVar(&l.size, "bench_size", 16, "load mode: payload bytes of every message")
	fs.IntVar(&l.timeLimitMs, "bench_time_limit_ms", 20000, "load mode: time bound of each measurement, in ms")
}

// check checks that every flag is in its range (those of the TypeScript client; a payload
// stays under gRPC's default 4 MiB message limit) and returns the load.
func (l *loadFlags) check() (Load, error) {
	for _, f := range []struct {
		name          string
		value, lo, hi int
	}{
		{"bench_calls", l.calls, 1, 10_000_000},
		{"bench_warmup", l.warmup, 0, 10_000_000},
		{"bench_messages", l.messages, 1, 10_000_000},
		{"bench_size", l.size, 0, 4_000_000},
		{"bench_time_limit_ms", l.timeLimitMs, 1, 3_600_000},
	} {
		if f.value < f.lo || f.value > f.hi {
			return Load{}, fmt.Errorf("--%s must be in %d..%d, got %d", f.name, f.lo, f.hi, f.value)
		}
	}
	return Load{
		Calls:     l.calls,
		Warmup:    l.warmup,
		Messages:  l.messages,
		Size:      l.size,
		TimeLimit: time.Duration(l.timeLimitMs) * time.Millisecond,
	}, nil
}
