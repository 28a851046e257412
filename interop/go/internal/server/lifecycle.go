package server

import (
	"flag"
	"fmt"
	"math"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"interopmatrix/internal/cli"
)

// Lifecycle is the server's connection lifecycle flags (docs/peer-contract.md, "Server"):
// --max_concurrent_streams, --max_connection_age_ms, --max_connection_age_grace_ms,
// --max_connection_idle_ms, --keepalive_time_ms, --keepalive_timeout_ms, --keepalive_min_time_ms
// and --keepalive_permit_without_calls. Each is nil when absent: grpc-go's default.
type Lifecycle struct {
	MaxConcurrentStreams *int
	// The durations, in ms.
	MaxConnectionAgeMs, MaxConnectionAgeGraceMs, MaxConnectionIdleMs *int
	KeepaliveTimeMs, KeepaliveTimeoutMs, KeepaliveMinTimeMs          *int
	KeepalivePermitWithoutCalls                                      *bool
}

// lifecycleFlag is one integer flag of Lifecycle: its name, what it means (its usage) and where
// it goes.
type lifecycleFlag struct {
	name, usage string
	dest        func(*Lifecycle) **int
}

// lifecycleFlags are the integer flags of Lifecycle, in the contract's order.
var lifecycleFlags = []lifecycleFlag{
	{"max_concurrent_streams", "the SETTINGS_MAX_CONCURRENT_STREAMS announced on every connection (grpc.MaxConcurrentStreams)",
		func(l *Lifecycle) **int { return &l.MaxConcurrentStreams }},
	{"max_connection_age_ms", "a connection older than this gets a GOAWAY (keepalive.ServerParameters.MaxConnectionAge)",
		func(l *Lifecycle) **int { return &l.MaxConnectionAgeMs }},
	{"max_connection_age_grace_ms", "the calls still open that long after the age are cancelled (MaxConnectionAgeGrace)",
		func(l *Lifecycle) **int { return &l.MaxConnectionAgeGraceMs }},
	{"max_connection_idle_ms", "a connection with no call for this long gets a GOAWAY (MaxConnectionIdle)",
		func(l *Lifecycle) **int { return &l.MaxConnectionIdleMs }},
	{"keepalive_time_ms", "ping a connection after this long without activity (keepalive.ServerParameters.Time)",
		func(l *Lifecycle) **int { return &l.KeepaliveTimeMs }},
	{"keepalive_timeout_ms", "close a connection whose ping is not acked within this (keepalive.ServerParameters.Timeout)",
		func(l *Lifecycle) **int { return &l.KeepaliveTimeoutMs }},
	{"keepalive_min_time_ms", "the shortest interval between client pings the server permits (keepalive.EnforcementPolicy.MinTime)",
		func(l *Lifecycle) **int { return &l.KeepaliveMinTimeMs }},
}

// permitFlag is the boolean flag of Lifecycle.
const permitFlag = "keepalive_permit_without_calls"

// registerLifecycle adds the lifecycle flags to fs; resolve reads them once fs is parsed.
func registerLifecycle(fs *flag.FlagSet) (resolve func() (Lifecycle, error)) {
	values := make([]*int, len(lifecycleFlags))
	for i, f := range lifecycleFlags {
		values[i] = fs.Int(f.name, 0, f.usage+" (default: grpc-go's)")
	}
	permit := fs.Bool(permitFlag, false, "permit client pings while the connection has no call (keepalive.EnforcementPolicy.PermitWithoutStream)")
	return func() (Lifecycle, error) {
		var l Lifecycle
		for i, f := range lifecycleFlags {
			if !cli.IsSet(fs, f.name) {
				continue
			}
			// The range grpc-js and grpcio take (a channel argument is a C int).
			if *values[i] < 0 || *values[i] > math.MaxInt32 {
				return Lifecycle{}, fmt.Errorf("--%s must be in 0..%d, got %d", f.name, math.MaxInt32, *values[i])
			}
			*f.dest(&l) = values[i]
		}
		if cli.IsSet(fs, permitFlag) {
			l.KeepalivePermitWithoutCalls = permit
		}
		return l, nil
	}
}

// ms is a flag's duration.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// options are the grpc-go server options of the flags given, each given to grpc-go as it is (the
// fault scripted-lifecycle-ignored overrides them: services.NewServer). grpc-go takes a zero field
// of keepalive.ServerParameters and EnforcementPolicy as its default (v1.85.0
// internal/transport/http2_server.go, NewServerTransport: "if kp.Time == 0 { kp.Time =
// defaultServerKeepaliveTime }" and so on for every field), so the fields of the flags not given
// stay zero: grpc-go's defaults (internal/transport/defaults.go: age, grace and idle infinite,
// time 2 h, timeout 20 s, min time 5 min; PermitWithoutStream false).
func (l Lifecycle) options() []grpc.ServerOption {
	var opts []grpc.ServerOption
	if l.MaxConcurrentStreams != nil {
		opts = append(opts, grpc.MaxConcurrentStreams(uint32(*l.MaxConcurrentStreams)))
	}
	var kp keepalive.ServerParameters
	params := false
	for _, p := range []struct {
		value *int
		dest  *time.Duration
	}{
		{l.MaxConnectionAgeMs, &kp.MaxConnectionAge}, {l.MaxConnectionAgeGraceMs, &kp.MaxConnectionAgeGrace},
		{l.MaxConnectionIdleMs, &kp.MaxConnectionIdle}, {l.KeepaliveTimeMs, &kp.Time}, {l.KeepaliveTimeoutMs, &kp.Timeout},
	} {
		if p.value != nil {
			*p.dest = ms(*p.value)
			params = true
		}
	}
	if params {
		opts = append(opts, grpc.KeepaliveParams(kp))
	}
	if l.KeepaliveMinTimeMs != nil || l.KeepalivePermitWithoutCalls != nil {
		var kep keepalive.EnforcementPolicy
		if l.KeepaliveMinTimeMs != nil {
			kep.MinTime = ms(*l.KeepaliveMinTimeMs)
		}
		if l.KeepalivePermitWithoutCalls != nil {
			kep.PermitWithoutStream = *l.KeepalivePermitWithoutCalls
		}
		opts = append(opts, grpc.KeepaliveEnforcementPolicy(kep))
	}
	return opts
}

// args renders the flags given as the flags that give them to a worker.
func (l Lifecycle) args() []string {
	var args []string
	for _, f := range lifecycleFlags {
		if v := *f.dest(&l); v != nil {
			args = append(args, "--"+f.name+"="+strconv.Itoa(*v))
		}
	}
	if l.KeepalivePermitWithoutCalls != nil {
		args = append(args, "--"+permitFlag+"="+strconv.FormatBool(*l.KeepalivePermitWithoutCalls))
	}
	return args
}

// notes are the lines the server writes on stderr at start-up for the values grpc-go does not
// apply as given (they are given to it all the same): a zero, which grpc-go takes as "not set"
// (server.go, MaxConcurrentStreams: 0 becomes math.MaxUint32, no limit, and the server announces
// no SETTINGS_MAX_CONCURRENT_STREAMS; http2_server.go, NewServerTransport: a zero duration becomes
// its default), and a keepalive time under 1 s, which grpc-go raises to 1 s (server.go,
// KeepaliveParams: internal.KeepaliveMinServerPingTime).
func (l Lifecycle) notes() []string {
	defaults := map[string]string{
		"max_concurrent_streams":      "no limit (no SETTINGS_MAX_CONCURRENT_STREAMS is announced)",
		"max_connection_age_ms":       "its default, no maximum age",
		"max_connection_age_grace_ms": "its default, an infinite grace",
		"max_connection_idle_ms":      "its default, no maximum idle time",
		"keepalive_time_ms":           "its default, 2 hours",
		"keepalive_timeout_ms":        "its default, 20 seconds",
		"keepalive_min_time_ms":       "its default, 5 minutes",
	}
	var notes []string
	for _, f := range lifecycleFlags {
		v := *f.dest(&l)
		switch {
		case v == nil:
		case *v == 0:
			notes = append(notes, fmt.Sprintf("--%s=0: grpc-go takes 0 as %s", f.name, defaults[f.name]))
		case f.name == "keepalive_time_ms" && *v < 1000:
			notes = append(notes, fmt.Sprintf("--%s=%d: grpc-go raises a server keepalive time under 1 s to 1 s", f.name, *v))
		}
	}
	return notes
}
