// Package client runs the Go peer's interop client: it runs the named cases in order and
// prints one JSON line per case (docs/peer-contract.md, "Client").
package client

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/cli"
)

// Config is the client's command line.
type Config struct {
	Target cases.Target
	Cases  []string
}

// ParseFlags reads the client's command line (the upstream interop client's flags, plus
// --rpc_timeout_ms and a comma-separated --test_case).
func ParseFlags(args []string) (Config, error) {
	var cfg Config
	var testCases string
	var useTLS bool
	var timeoutMs int
	fs := cli.NewFlagSet("client")
	fs.StringVar(&cfg.Target.Host, "server_host", "127.0.0.1", "server host")
	fs.IntVar(&cfg.Target.Port, "server_port", 0, "server port (required)")
	fs.StringVar(&testCases, "test_case", "", "comma-separated test cases to run, in order (required)")
	fs.BoolVar(&useTLS, "use_tls", false, "connect over TLS (not supported by this peer yet)")
	fs.Bool("use_test_ca", false, "trust the project's test CA (with --use_tls)")
	fs.String("server_host_override", "", "server name for TLS (with --use_tls)")
	fs.IntVar(&timeoutMs, "rpc_timeout_ms", 5000, "deadline of every RPC and every stream, in ms")
	if err := cli.Parse(fs, args); err != nil {
		return Config{}, err
	}
	cfg.Cases = strings.Split(testCases, ",")
	cfg.Target.RPCTimeout = time.Duration(timeoutMs) * time.Millisecond
	switch {
	case cfg.Target.Host == "":
		return Config{}, errors.New("--server_host must not be empty")
	case cfg.Target.Port < 1 || cfg.Target.Port > 65535:
		return Config{}, fmt.Errorf("--server_port is required, in 1..65535 (got %d)", cfg.Target.Port)
	case slices.Contains(cfg.Cases, ""):
		return Config{}, fmt.Errorf("--test_case needs one or more comma-separated case names (got %q)", testCases)
	case useTLS:
		return Config{}, errors.New("TLS is not supported by this peer yet")
	case timeoutMs <= 0:
		return Config{}, fmt.Errorf("--rpc_timeout_ms must be positive, got %d", timeoutMs)
	}
	return cfg, nil
}
