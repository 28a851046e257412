// Package client runs the Go peer's interop client: it runs the named cases in order and
// prints one JSON line per case, or in load mode (--bench) one per measurement
// (docs/peer-contract.md, "Client" and "Load mode").
package client

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/cli"
	"interopmatrix/internal/repo"
	"interopmatrix/internal/scripted"
)

// The --client_fault values of the contract (self-test only).
const (
	noCancel        = "no-cancel"
	withCertificate = "with-certificate"
	noChecks        = "no-checks"
	// scriptedLenient applies to the generic executor only (docs/peer-contract.md, "Client: the
	// generic executor"); the other cases run as without a fault.
	scriptedLenient = "scripted-lenient"
	// scriptedDeadlineIgnored, scriptedServerNameIgnored, scriptedTargetIgnored,
	// scriptedAuthorityIgnored and scriptedClientLimitsIgnored apply to the generic executor
	// only, like scripted-lenient.
	scriptedDeadlineIgnored     = "scripted-deadline-ignored"
	scriptedServerNameIgnored   = "scripted-server-name-ignored"
	scriptedTargetIgnored       = "scripted-target-ignored"
	scriptedAuthorityIgnored    = "scripted-authority-ignored"
	scriptedClientLimitsIgnored = "scripted-client-limits-ignored"
)

// clientFaults lists every --client_fault value.
var clientFaults = []string{noCancel, withCertificate, noChecks, scriptedLenient, scriptedDeadlineIgnored, scriptedServerNameIgnored, scriptedTargetIgnored, scriptedAuthorityIgnored, scriptedClientLimitsIgnored}

// Config is the client's command line: the cases to run, or with --bench the load mode's
// measurements and their load.
type Config struct {
	Target cases.Target
	Cases  []string
	Bench  []string // the load mode's measurements, in order; nil runs Cases instead
	Load   Load
	// ServerUnixSocket is --server_unix_socket, the server's Unix domain socket ("" when not
	// given): what an instruction's channel.target names {unix_socket}.
	ServerUnixSocket string
	// Scripted are the instructions of --cases_file: a case named there is run by the generic
	// executor (docs/peer-contract.md, "Client: the generic executor").
	Scripted scripted.Cases
	// ScriptedLenient is --client_fault=scripted-lenient: the generic executor "cleans" what
	// grpc-go would refuse before making the call (scripted.Options.Lenient).
	ScriptedLenient bool
	// ScriptedDeadlineIgnored is --client_fault=scripted-deadline-ignored: the generic executor
	// gives every call the --rpc_timeout_ms deadline, whatever timeout_ms says
	// (scripted.Options.DeadlineIgnored).
	ScriptedDeadlineIgnored bool
	// ScriptedServerNameIgnored is --client_fault=scripted-server-name-ignored: the generic
	// executor ignores channel.server_name, every channel checks the server's certificate
	// against --server_host_override (scripted.Options.ServerNameIgnored).
	ScriptedServerNameIgnored bool
	// ScriptedTargetIgnored is --client_fault=scripted-target-ignored: the generic executor
	// ignores channel.target and channel.addresses, every channel dials
	// --server_host:--server_port (scripted.Options.TargetIgnored).
	ScriptedTargetIgnored bool
	// ScriptedAuthorityIgnored is --client_fault=scripted-authority-ignored: the generic executor
	// ignores channel.authority (scripted.Options.AuthorityIgnored).
	ScriptedAuthorityIgnored bool
	// ScriptedLimitsIgnored is --client_fault=scripted-client-limits-ignored: every channel of
	// the generic executor has the largest message size limits grpc-go takes
	// (scripted.Options.LimitsIgnored).
	ScriptedLimitsIgnored bool
}

// ParseFlags reads the client's command line (the upstream interop client's flags, plus
// --rpc_timeout_ms, a comma-separated --test_case, the load mode's --bench flags and the
// self-test's --client_fault).
func ParseFlags(args []string) (Config, error) {
	var cfg Config
	var testCases, bench, clientFault, casesFile string
	var timeoutMs int
	var transport tlsFlags
	var load loadFlags
	fs := cli.NewFlagSet("client")
	fs.StringVar(&cfg.Target.Host, "server_host", "127.0.0.1", "server host")
	fs.IntVar(&cfg.Target.Port, "server_port", 0, "server port (required)")
	fs.StringVar(&cfg.ServerUnixSocket, "server_unix_socket", "", "the server's Unix domain socket, which a scripted case's channel.target names {unix_socket}")
	fs.StringVar(&testCases, "test_case", "", "comma-separated test cases to run, in order (required without --bench)")
	fs.StringVar(&bench, "bench", "", "load mode instead of cases: comma-separated measurements to run, in order ("+strings.Join(measurementNames(), ", ")+")")
	load.register(fs)
	transport.register(fs)
	fs.StringVar(&casesFile, "cases_file", "", `the data suites' instructions, {"cases": {NAME: INSTRUCTION}}: a --test_case named there is run by the generic executor`)
	fs.IntVar(&timeoutMs, "rpc_timeout_ms", 5000, "deadline of every RPC and every stream, in ms")
	fs.StringVar(&clientFault, "client_fault", "", "self-test only: "+noCancel+" half-closes where the cases cancel or time out, "+
		withCertificate+" presents the client certificate in the security case, "+noChecks+" makes the calls but checks nothing, "+
		scriptedLenient+" makes the generic executor drop the requests' values and clean the text metadata, "+
		scriptedDeadlineIgnored+" makes the generic executor ignore timeout_ms, "+
		scriptedServerNameIgnored+" makes the generic executor ignore channel.server_name, "+
		scriptedTargetIgnored+" makes the generic executor ignore channel.target and channel.addresses, "+
		scriptedAuthorityIgnored+" makes the generic executor ignore channel.authority, "+
		scriptedClientLimitsIgnored+" lifts the message size limits of the generic executor's channels")
	if err := cli.Parse(fs, args); err != nil {
		return Config{}, err
	}
	cfg.Target.RPCTimeout = time.Duration(timeoutMs) * time.Millisecond
	switch {
	case cfg.Target.Host == "":
		return Config{}, errors.New("--server_host must not be empty")
	case cfg.Target.Port < 1 || cfg.Target.Port > 65535:
		return Config{}, fmt.Errorf("--server_port is required, in 1..65535 (got %d)", cfg.Target.Port)
	case cli.IsSet(fs, "server_unix_socket") && cfg.ServerUnixSocket == "":
		return Config{}, errors.New("--server_unix_socket must not be empty")
	case timeoutMs <= 0:
		return Config{}, fmt.Errorf("--rpc_timeout_ms must be positive, got %d", timeoutMs)
	case clientFault != "" && !slices.Contains(clientFaults, clientFault):
		return Config{}, fmt.Errorf("unknown --client_fault %q (known: %s)", clientFault, strings.Join(clientFaults, ", "))
	}
	cfg.Target.NoCancel = clientFault == noCancel
	cfg.Target.WithCertificate = clientFault == withCertificate
	cfg.Target.NoChecks = clientFault == noChecks
	cfg.ScriptedLenient = clientFault == scriptedLenient
	cfg.ScriptedDeadlineIgnored = clientFault == scriptedDeadlineIgnored
	cfg.ScriptedServerNameIgnored = clientFault == scriptedServerNameIgnored
	cfg.ScriptedTargetIgnored = clientFault == scriptedTargetIgnored
	cfg.ScriptedAuthorityIgnored = clientFault == scriptedAuthorityIgnored
	cfg.ScriptedLimitsIgnored = clientFault == scriptedClientLimitsIgnored
	var err error
	if cfg.Cases, cfg.Bench, err = mode(fs, testCases, bench); err != nil {
		return Config{}, err
	}
	if casesFile != "" {
		path, err := repo.Resolve(casesFile)
		if err != nil {
			return Config{}, fmt.Errorf("--cases_file: %v", err)
		}
		if cfg.Scripted, err = scripted.LoadCases(path); err != nil {
			return Config{}, fmt.Errorf("--cases_file: %v", err)
		}
	}
	if cfg.Load, err = load.check(); err != nil {
		return Config{}, err
	}
	if cfg.Target.Creds, cfg.Target.CredsWithoutCertificate, err = transport.credentials(fs, cfg.Target.Host); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// mode reads what the client runs: the cases of --test_case, or the measurements of --bench
// (exactly one of the two flags).
func mode(fs *flag.FlagSet, testCases, bench string) (caseNames, measurementList []string, err error) {
	switch {
	case cli.IsSet(fs, "bench") && cli.IsSet(fs, "test_case"):
		return nil, nil, errors.New("--bench and --test_case exclude each other: give one of them")
	case cli.IsSet(fs, "bench"):
		measurementList, err = measurementsOf(bench)
		return nil, measurementList, err
	}
	caseNames = strings.Split(testCases, ",")
	if slices.Contains(caseNames, "") {
		return nil, nil, fmt.Errorf("--test_case (or --bench) needs one or more comma-separated case names (got %q)", testCases)
	}
	return caseNames, nil, nil
}

// measurementsOf reads --bench: known measurement names, comma-separated.
func measurementsOf(bench string) ([]string, error) {
	names := strings.Split(bench, ",")
	for _, name := range names {
		if !slices.Contains(measurementNames(), name) {
			return nil, fmt.Errorf("unknown --bench measurement %q (known: %s)", name, strings.Join(measurementNames(), ", "))
		}
	}
	return names, nil
}
