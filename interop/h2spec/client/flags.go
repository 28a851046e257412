package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// The self-test's client faults (--client_fault).
const (
	// noChecks runs nothing and reports every case passed: a client that checks nothing.
	noChecks = "no-checks"
	// silentPeer points h2spec at a peer this client opens itself, which completes the HTTP/2
	// handshake and then answers nothing: every h2spec test must then fail, which shows that
	// no test passes whatever the server does and that every failure reaches the runner.
	silentPeer = "h2spec-silent-peer"
)

// config is a parsed command line.
type config struct {
	host     string
	port     int
	path     string // h2spec -P: the :path of its requests
	cases    []string
	tls      bool
	timeout  time.Duration // h2spec's -o: how long each of its waits lasts
	parallel int           // h2spec runs at once
	fault    string
}

// parseFlags reads the client contract's flags (docs/peer-contract.md, "Client") and this
// client's own (--timeout_s, --parallel). An error is a usage error (exit 2); flag.ErrHelp
// after -h, with the flags printed on stderr.
func parseFlags(args []string) (config, error) {
	var cfg config
	var testCases, certFile, keyFile string
	var timeoutS int
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.host, "server_host", "127.0.0.1", "server host")
	fs.IntVar(&cfg.port, "server_port", 0, "server port (required)")
	fs.StringVar(&cfg.path, "path", "/", "h2spec -P: the :path of the requests h2spec sends")
	fs.StringVar(&testCases, "test_case", "", "comma-separated h2spec tests to run (http2-6.5.3-2 is h2spec's http2/6.5.3/2) (required)")
	fs.BoolVar(&cfg.tls, "use_tls", false, "connect over TLS (h2spec -t -k: h2spec has no option for a CA, so the certificate is not verified)")
	fs.Bool("use_test_ca", false, "accepted for the contract; h2spec does not verify the certificate")
	fs.String("ca_file", "", "accepted for the contract; h2spec does not verify the certificate")
	fs.String("server_host_override", "", "accepted for the contract; h2spec does not verify the certificate")
	fs.StringVar(&certFile, "client_cert_file", "", "not supported: h2spec cannot present a client certificate")
	fs.StringVar(&keyFile, "client_key_file", "", "not supported: h2spec cannot present a client certificate")
	fs.Int("rpc_timeout_ms", 5000, "accepted for the contract; h2spec's waits are --timeout_s")
	fs.IntVar(&timeoutS, "timeout_s", 3, "h2spec -o: seconds each of a test's waits may last")
	fs.IntVar(&cfg.parallel, "parallel", 6, "how many h2spec runs (one test each) at once")
	fs.StringVar(&cfg.fault, "client_fault", "", "self-test only: "+noChecks+" or "+silentPeer)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "usage of client:")
			fs.SetOutput(os.Stderr)
			fs.PrintDefaults()
		}
		return config{}, err
	}
	switch {
	case fs.NArg() > 0:
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case cfg.host == "":
		return config{}, errors.New("--server_host must not be empty")
	case cfg.port < 1 || cfg.port > 65535:
		return config{}, fmt.Errorf("--server_port is required, in 1..65535 (got %d)", cfg.port)
	case testCases == "":
		return config{}, errors.New("--test_case is required")
	case timeoutS < 1:
		return config{}, fmt.Errorf("--timeout_s must be at least 1, got %d", timeoutS)
	case cfg.parallel < 1:
		return config{}, fmt.Errorf("--parallel must be at least 1, got %d", cfg.parallel)
	case cfg.fault != "" && cfg.fault != noChecks && cfg.fault != silentPeer:
		return config{}, fmt.Errorf("unknown --client_fault %q (known: %s, %s)", cfg.fault, noChecks, silentPeer)
	case certFile != "" || keyFile != "":
		return config{}, errors.New("--client_cert_file/--client_key_file: h2spec cannot present a client certificate (run the http2 suite over insecure or tls, not mtls)")
	}
	cfg.cases = strings.Split(testCases, ",")
	if slices.Contains(cfg.cases, "") {
		return config{}, fmt.Errorf("--test_case has an empty name: %q", testCases)
	}
	cfg.timeout = time.Duration(timeoutS) * time.Second
	return cfg, nil
}
