package client

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

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
	for _, name := range cfg.Cases {
		start := time.Now()
		var observed any
		var err error
		if instruction, ok := cfg.Scripted[name]; ok {
			observed, err = runScripted(cfg.Target, instruction, scripted.Options{Lenient: cfg.ScriptedLenient})
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

// runScripted runs one instruction of --cases_file with the generic executor, on a channel of
// its own (the one every case uses: the TLS flags apply), with --rpc_timeout_ms as the default
// deadline. It fails only when the instruction cannot run. Of the --client_faults only
// scripted-lenient (opts) applies; the others (in t) do not.
func runScripted(t cases.Target, instruction json.RawMessage, opts scripted.Options) (observed any, err error) {
	defer func() {
		if p := recover(); p != nil {
			observed, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	conn, err := t.Dial()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	obs, err := scripted.ExecuteWith(conn, instruction, t.RPCTimeout, opts)
	if err != nil {
		return nil, err
	}
	return obs, nil
}
