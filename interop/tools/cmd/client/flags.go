package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// noChecks is the self-test's --client_fault: run the tools, check nothing, report passed.
const noChecks = "no-checks"

// config is a parsed command line.
type config struct {
	tool     *tool
	host     string
	port     int
	cases    []string
	tls      *tlsFiles // nil: plaintext
	timeout  time.Duration
	noChecks bool
}

// tlsFiles is the TLS setup of the transport flags; paths are absolute.
type tlsFiles struct {
	caFile     string // empty: the system roots
	serverName string // empty: the server host
	certFile   string // the client certificate, with keyFile; both empty without one
	keyFile    string
}

// parseFlags reads the client contract's flags and --tool. An error is a usage error (exit 2);
// flag.ErrHelp after -h, with the flags printed on stderr.
func parseFlags(args []string) (config, error) {
	var cfg config
	var toolName, testCases, clientFault, caFile, serverHostOverride, certFile, keyFile string
	var useTLS, useTestCA bool
	var timeoutMs int
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&toolName, "tool", "", "the tool this client runs: "+strings.Join(toolNames(), " or "))
	fs.StringVar(&cfg.host, "server_host", "127.0.0.1", "server host")
	fs.IntVar(&cfg.port, "server_port", 0, "server port (required)")
	fs.StringVar(&testCases, "test_case", "", "comma-separated test cases to run, in order (required)")
	fs.BoolVar(&useTLS, "use_tls", false, "connect over TLS")
	fs.BoolVar(&useTestCA, "use_test_ca", false, "trust --ca_file instead of the system roots (with --use_tls)")
	fs.StringVar(&caFile, "ca_file", "certs/ca.pem", "the test CA (PEM), with --use_test_ca; relative to the working directory")
	fs.StringVar(&serverHostOverride, "server_host_override", "", "the name the server certificate must match (with --use_tls)")
	fs.StringVar(&certFile, "client_cert_file", "", "client certificate (PEM) for mTLS, with --client_key_file")
	fs.StringVar(&keyFile, "client_key_file", "", "client private key (PEM) for mTLS, with --client_cert_file")
	fs.IntVar(&timeoutMs, "rpc_timeout_ms", 5000, "deadline of every tool run's RPCs, in ms")
	fs.StringVar(&clientFault, "client_fault", "", "self-test only: "+noChecks+" runs the tools but checks nothing")
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
	case toolName == "":
		return config{}, fmt.Errorf("--tool is required (%s)", strings.Join(toolNames(), " or "))
	case toolByName(toolName) == nil:
		return config{}, fmt.Errorf("unknown --tool %q (known: %s)", toolName, strings.Join(toolNames(), ", "))
	case cfg.host == "":
		return config{}, errors.New("--server_host must not be empty")
	case cfg.port < 1 || cfg.port > 65535:
		return config{}, fmt.Errorf("--server_port is required, in 1..65535 (got %d)", cfg.port)
	case testCases == "":
		return config{}, errors.New("--test_case is required")
	case timeoutMs <= 0:
		return config{}, fmt.Errorf("--rpc_timeout_ms must be positive, got %d", timeoutMs)
	case clientFault != "" && clientFault != noChecks:
		return config{}, fmt.Errorf("unknown --client_fault %q (known: %s)", clientFault, noChecks)
	case (certFile == "") != (keyFile == ""):
		return config{}, errors.New("--client_cert_file and --client_key_file go together: give both or neither")
	case certFile != "" && !useTLS:
		return config{}, errors.New("--client_cert_file needs --use_tls=true")
	}
	cfg.tool = toolByName(toolName)
	cfg.cases = strings.Split(testCases, ",")
	if slices.Contains(cfg.cases, "") {
		return config{}, fmt.Errorf("--test_case has an empty name: %q", testCases)
	}
	cfg.timeout = time.Duration(timeoutMs) * time.Millisecond
	cfg.noChecks = clientFault == noChecks
	if !useTLS {
		return cfg, nil // --use_test_ca and --server_host_override mean nothing without TLS
	}
	cfg.tls = &tlsFiles{serverName: serverHostOverride}
	var err error
	if useTestCA {
		if cfg.tls.caFile, err = existingFile("--ca_file", caFile); err != nil {
			return config{}, err
		}
	}
	if certFile != "" {
		if cfg.tls.certFile, err = existingFile("--client_cert_file", certFile); err != nil {
			return config{}, err
		}
		if cfg.tls.keyFile, err = existingFile("--client_key_file", keyFile); err != nil {
			return config{}, err
		}
	}
	return cfg, nil
}

// existingFile returns the absolute path of a file named by flag (relative paths are relative
// to the working directory, the repository root when the runner starts the client), so that
// a missing file is a usage error rather than a failure of every case.
func existingFile(flag, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("%s: %v", flag, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("%s: %v", flag, err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("%s: %s is not a file", flag, abs)
	}
	return abs, nil
}
