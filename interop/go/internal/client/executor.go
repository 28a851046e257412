package client

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"

	"interopmatrix/internal/cli"
	"interopmatrix/internal/result"
)

// Executor mode (docs/peer-contract.md, "Executor mode"): one process runs many client runs,
// one at a time, each asked for by a JSON line on stdin, so that the runner starts the client
// once per run of the matrix instead of once per pairing.

// ExecutorMode reports whether the command line asks for executor mode. --executor must then
// be the only flag: the flags of each run come on stdin, and one given beside it would
// silently apply to none of them.
func ExecutorMode(args []string) (bool, error) {
	if !slices.ContainsFunc(args, namesExecutor) {
		return false, nil
	}
	fs := cli.NewFlagSet("client")
	executor := fs.Bool("executor", false, "run the requests read on stdin, one JSON line each (executor mode)")
	err := fs.Parse(args) // not cli.Parse: -help beside --executor is one more flag, not a usage to print
	if err == nil && (len(args) != 1 || !*executor) {
		err = fmt.Errorf("got %q", args)
	}
	if err != nil {
		return false, fmt.Errorf("--executor must be the only flag (the flags of each run come on stdin): %v", err)
	}
	return true, nil
}

// namesExecutor reports whether arg is the --executor flag, in any of the flag package's forms.
func namesExecutor(arg string) bool {
	name, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-"), "=")
	return strings.HasPrefix(arg, "-") && name == "executor"
}

// endLine ends a request's output, on stdout and then on stderr. Run is echoed as the
// request wrote it (json.Number), so that the runner finds its own number whatever its form.
type endLine struct {
	Run      json.Number `json:"run"`
	ExitCode int         `json:"exit_code"`
	Error    string      `json:"error,omitempty"`
}

// noRun is the run of an end line whose request line has no numeric "run".
const noRun json.Number = "-1"

// Execute runs the requests read from stdin, one at a time, in order, until stdin ends; it
// returns the process's exit code: 0 at the end of stdin, 1 when stdin or stdout fails (then
// nothing more can be reported).
func Execute(stdin io.Reader, stdout, stderr io.Writer) int {
	// ReadBytes rather than a bufio.Scanner: a request line has no length limit to trip over.
	in := bufio.NewReader(stdin)
	for {
		line, readErr := in.ReadBytes('\n')
		// A last line without its newline is still a request (the one in flight at the end).
		if len(line) > 0 {
			if err := writeEnd(serve(line, stdout, stderr), stdout, stderr); err != nil {
				fmt.Fprintf(stderr, "client: writing an end line: %v\n", err)
				return 1
			}
		}
		switch {
		case readErr == io.EOF:
			return 0
		case readErr != nil:
			fmt.Fprintf(stderr, "client: reading the requests: %v\n", readErr)
			return 1
		}
	}
}

// serve runs one request line and returns its end line.
func serve(line []byte, stdout, stderr io.Writer) endLine {
	run, args, err := parseRequest(line)
	if err != nil {
		return endLine{Run: run, ExitCode: 2, Error: err.Error()}
	}
	code, reason := runArgs(args, stdout, stderr)
	return endLine{Run: run, ExitCode: code, Error: reason}
}

// parseRequest reads {"run":N,"args":[…]}. Its run is that of the line when it has a numeric
// one, else noRun, also when the line is not a request.
func parseRequest(line []byte) (json.Number, []string, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		return noRun, nil, fmt.Errorf("not a request: a JSON object {\"run\":N,\"args\":[…]} per line (%v)", err)
	}
	run, ok := number(fields["run"])
	if !ok {
		return noRun, nil, errors.New(`not a request: "run" must be a number`)
	}
	var args []string
	// A JSON null would decode to a nil list without an error; it is not a list.
	if raw := fields["args"]; len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &args) != nil {
		return run, nil, errors.New(`not a request: "args" must be a list of strings`)
	}
	return run, args, nil
}

// number returns raw when it is a JSON number. (Decoding into json.Number alone would also
// take a string holding a number.)
func number(raw json.RawMessage) (json.Number, bool) {
	var n json.Number
	if len(raw) == 0 || raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
		return "", false
	}
	return n, true
}

// runArgs runs one request's flags as the one-shot client would, and returns the exit code it
// would have exited with and, for bad flags, the reason it would have written to stderr.
// Everything of the run (its Config, channels, credentials) lives and ends in this call, so
// that nothing of it applies to the next request.
func runArgs(args []string, stdout, stderr io.Writer) (int, string) {
	return recovered(stderr, func() (int, string) {
		cfg, err := parseRequestFlags(args)
		if err != nil {
			fmt.Fprintf(stderr, "client: %v\n", err)
			return 2, err.Error()
		}
		return Run(cfg, stdout, stderr), ""
	})
}

// recovered returns what run returns, or after a panic exit code 1, the panic written to
// stderr: a defect of the client fails this request only, and the next gets a clean start.
func recovered(stderr io.Writer, run func() (int, string)) (code int, reason string) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "client: panic: %v\n%s", p, debug.Stack())
			code, reason = 1, ""
		}
	}()
	return run()
}

// parseRequestFlags is ParseFlags for a request: neither the load mode nor -help is taken.
func parseRequestFlags(args []string) (Config, error) {
	cfg, err := ParseFlags(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		// The one-shot client would print the usage and exit 0; a request asks for a run.
		return Config{}, errors.New("-help is not taken in executor mode")
	case err != nil:
		return Config{}, err
	case cfg.Bench != nil:
		return Config{}, errors.New("--bench (load mode) is not taken in executor mode")
	}
	return cfg, nil
}

// writeEnd writes the end line on stdout, then on stderr: everything the request wrote to
// stderr comes before it, which is how the runner splits the log between requests. Each goes
// out in one write, unbuffered, so the runner reads it as soon as the request is over.
func writeEnd(end endLine, stdout, stderr io.Writer) error {
	if err := result.Write(stdout, end); err != nil {
		return err
	}
	// stdout carries the protocol; a stderr that fails loses only the log.
	_ = result.Write(stderr, end)
	return nil
}
