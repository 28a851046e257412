package client

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/result"
	"interopmatrix/internal/scripted"
)

// Run runs every case of cfg in order, each independently, printing one JSON line per case
// on stdout and each failure's reason on stderr. It returns the exit code: 0 when every case
// passed, 1 otherwise. With cfg.Bench it runs the load mode instead.
func Run(cfg Config, stdout, stderr io.Writer) int {
	if cfg.Bench != nil {
		return runBench(cfg, stdout, stderr)
	}
	code := 0
	opts := scripted.Options{
		Lenient:           cfg.ScriptedLenient,
		DeadlineIgnored:   cfg.ScriptedDeadlineIgnored,
		ServerNameIgnored: cfg.ScriptedServerNameIgnored,
		TargetIgnored:     cfg.ScriptedTargetIgnored,
		AuthorityIgnored:  cfg.ScriptedAuthorityIgnored,
		LimitsIgnored:     cfg.ScriptedLimitsIgnored,
		ServerName:        cfg.Target.WithServerName,
		Server:            scripted.Server{Host: cfg.Target.Host, Port: cfg.Target.Port, UnixSocket: cfg.ServerUnixSocket},
		Dial:              cfg.Target.DialTarget,
	}
	shared := &sharedConn{target: cfg.Target, options: opts.SharedDialOptions()}
	defer shared.close()
	for _, name := range cfg.Cases {
		start := time.Now()
		var observed any
		var err error
		if instruction, ok := cfg.Scripted[name]; ok {
			observed, err = runScripted(shared, instruction, cfg.Target.RPCTimeout, opts)
		} else {
			observed, err = cases.RunObserved(name, cfg.Target)
		}
		if err != nil {
			code = 1
			fmt.Fprintf(stderr, "%s: FAILED: %v\n", name, err)
		}
		if werr := result.Write(stdout, result.New(name, time.Since(start), err, observed)); werr != nil {
			fmt.Fprintf(stderr, "writing the result of %s: %v\n", name, werr)
			code = 1
		}
	}
	return code
}

// sharedConn is the one channel every scripted case of a run uses, as one application would
// (the TLS flags apply): dialled at the first scripted case, closed when the run ends. An
// instruction with "channel" runs on a channel of its own instead (scripted.Options.Dial).
type sharedConn struct {
	target cases.Target
	// options are the executor's own dial options (scripted.Options.SharedDialOptions).
	options []grpc.DialOption
	conn    *grpc.ClientConn
}

func (s *sharedConn) get() (*grpc.ClientConn, error) {
	if s.conn == nil {
		conn, err := s.target.DialWith(s.options...)
		if err != nil {
			return nil, err
		}
		s.conn = conn
	}
	return s.conn, nil
}

func (s *sharedConn) close() {
	if s.conn != nil {
		s.conn.Close()
	}
}

// runScripted runs one instruction of --cases_file with the generic executor, on the run's
// shared channel, with --rpc_timeout_ms as the default deadline. It fails only when the
// instruction cannot run. Of the --client_faults only scripted-lenient,
// scripted-deadline-ignored, scripted-server-name-ignored, scripted-target-ignored,
// scripted-authority-ignored and scripted-client-limits-ignored (opts) apply; the others (in
// the target) do not.
func runScripted(shared *sharedConn, instruction json.RawMessage, timeout time.Duration, opts scripted.Options) (observed any, err error) {
	defer func() {
		if p := recover(); p != nil {
			observed, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	conn, err := shared.get()
	if err != nil {
		return nil, err
	}
	obs, err := scripted.ExecuteWith(conn, instruction, timeout, opts)
	if err != nil {
		return nil, err
	}
	return obs, nil
}
