// Command client is the raw peer's client: a gRPC client written directly on HTTP/2 frames
// (golang.org/x/net/http2's Framer and hpack, no gRPC library) that sends a real gRPC server
// exactly the frames a case lists — header blocks encoded as given, length prefixes that
// lie, RST_STREAM, GOAWAY — and reports exactly what came back on the wire. It checks
// nothing: each case line carries the observation (observed.raw) for the runner to judge.
// README.md ("The raw client") describes the flags and the instruction format.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"interopraw/internal/rawcli"
)

// faultWellBehaved makes the client ignore the cases' actions and make one correct gRPC call
// instead (the runner's self-test of the raw client cases).
const faultWellBehaved = "raw-client-well-behaved"

const usage = "usage: client --server_host=H --server_port=P --test_case=NAME[,NAME…] --cases_file=PATH " +
	"[--use_tls=false] [--use_test_ca=false] [--ca_file=certs/ca.pem] [--server_host_override=NAME] " +
	"[--rpc_timeout_ms=5000] [--client_fault=" + faultWellBehaved + "] [--server_unix_socket=PATH]"

type config struct {
	host        string
	port        int
	cases       []string
	casesFile   string
	useTLS      bool
	useTestCA   bool
	caFile      string
	override    string        // --server_host_override: the TLS server name and the authority
	timeout     time.Duration // --rpc_timeout_ms: a case's deadline when it has no timeout_ms
	wellBehaved bool
}

func main() { rawcli.Main(run) }

// run is the whole program: it returns the exit status (0 when every case line is "passed",
// 1 otherwise, 2 for bad flags).
func run(args []string, stdout, stderr io.Writer) int {
	cfg, logger, ok := rawcli.Start("raw client", args, stderr, parseFlags)
	if !ok {
		return 2
	}
	p := newProgram(cfg, logger)
	code := 0
	for _, name := range cfg.cases {
		line := p.runCase(name)
		if line.Status != "passed" {
			p.log.Printf("case %s: failed: %s", name, line.Error)
			code = 1
		}
		if err := writeLine(stdout, line); err != nil {
			p.log.Printf("writing the case line: %v", err)
			return 1
		}
	}
	return code
}

func parseFlags(args []string) (config, error) {
	fs := rawcli.NewFlagSet("client")
	host := fs.String("server_host", "127.0.0.1", "")
	port := fs.String("server_port", "", "")
	testCase := fs.String("test_case", "", "")
	casesFile := fs.String("cases_file", "", "")
	useTLS := fs.Bool("use_tls", false, "")
	useTestCA := fs.Bool("use_test_ca", false, "")
	caFile := fs.String("ca_file", "certs/ca.pem", "")
	override := fs.String("server_host_override", "", "")
	timeoutMS := fs.String("rpc_timeout_ms", "5000", "")
	fault := fs.String("client_fault", "", "")
	fs.String("server_unix_socket", "", "") // accepted, not used: the raw client dials TCP
	if err := rawcli.Parse(fs, args, usage); err != nil {
		return config{}, err
	}
	cfg := config{host: *host, casesFile: *casesFile, useTLS: *useTLS, useTestCA: *useTestCA,
		caFile: *caFile, override: *override}
	if cfg.host == "" {
		return config{}, errors.New("--server_host is empty")
	}
	var err error
	if cfg.port, err = rawcli.Port("--server_port", *port, 1, usage); err != nil {
		return config{}, err
	}
	if *testCase == "" {
		return config{}, fmt.Errorf("--test_case is required (%s)", usage)
	}
	for _, name := range strings.Split(*testCase, ",") {
		if name == "" {
			return config{}, fmt.Errorf("--test_case=%s has an empty name", *testCase)
		}
		cfg.cases = append(cfg.cases, name)
	}
	ms, err := strconv.Atoi(*timeoutMS)
	if err != nil || ms < 1 {
		return config{}, fmt.Errorf("--rpc_timeout_ms=%s is not a number of milliseconds (1 or more)", *timeoutMS)
	}
	cfg.timeout = time.Duration(ms) * time.Millisecond
	if cfg.wellBehaved, err = rawcli.Fault(*fault, faultWellBehaved, "client fault", "client"); err != nil {
		return config{}, err
	}
	return cfg, nil
}

// caseLine is the one stdout line of a case.
type caseLine struct {
	Case     string    `json:"case"`
	Status   string    `json:"status"` // "passed" whatever the server did, "failed" when the case cannot be run
	MS       float64   `json:"ms"`
	Error    string    `json:"error,omitempty"`
	Observed *observed `json:"observed,omitempty"`
}

// observed is the case line's observed member.
type observed struct {
	Raw *report `json:"raw"`
}

// writeLine prints the line in one write (stdout is not buffered: it is out when this returns).
func writeLine(w io.Writer, line caseLine) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(line); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// millis is d in milliseconds, rounded to 0.1.
func millis(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*10) / 10
}
