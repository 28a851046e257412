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

// The --client_fault values of the contract (self-test only).
const (
	noCancel        = "no-cancel"
	withCertificate = "with-certificate"
)

// Config is the client's command line.
type Config struct {
	Target cases.Target
	Cases  []string
}

// ParseFlags reads the client's command line (the upstream interop client's flags, plus
// --rpc_timeout_ms, a comma-separated --test_case and the self-test's --client_fault).
func ParseFlags(args []string) (Config, error) {
	var cfg Config
	var testCases, clientFault string
	var timeoutMs int
	var transport tlsFlags
	fs := cli.NewFlagSet("client")
	fs.StringVar(&cfg.Target.Host, "server_host", "127.0.0.1", "server host")
	fs.IntVar(&cfg.Target.Port, "server_port", 0, "server port (required)")
	fs.StringVar(&testCases, "test_case", "", "comma-separated test cases to run, in order (required)")
	transport.register(fs)
	fs.IntVar(&timeoutMs, "rpc_timeout_ms", 5000, "deadline of every RPC and every stream, in ms")
	fs.StringVar(&clientFault, "client_fault", "", "self-test only: "+noCancel+" half-closes where the cases cancel or time out")
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
	case timeoutMs <= 0:
		return Config{}, fmt.Errorf("--rpc_timeout_ms must be positive, got %d", timeoutMs)
	case clientFault != "" && clientFault != noCancel && clientFault != withCertificate:
		return Config{}, fmt.Errorf("unknown --client_fault %q (known: %s, %s)", clientFault, noCancel, withCertificate)
	}
	cfg.Target.NoCancel = clientFault == noCancel
	cfg.Target.WithCertificate = clientFault == withCertificate
	var err error
	if cfg.Target.Creds, cfg.Target.CredsWithoutCertificate, err = transport.credentials(fs, cfg.Target.Host); err != nil {
		return Config{}, err
	}
	return cfg, nil
}
