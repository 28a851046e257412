package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// caseName is a case of the http2 suite: an h2spec test id with "/" written "-" (cell ids and
// --test_case lists use "/" and ","): http2-6.5.3-2 is h2spec's http2/6.5.3/2.
var caseName = regexp.MustCompile(`^(generic|http2|hpack)-([0-9]+(?:\.[0-9]+)*)-([0-9]+)$`)

// section is the h2spec section argument of a case, and the id of its group (the JUnit
// testsuite's package), or an error for a name that is not an h2spec test id.
func section(name string) (test, group string, err error) {
	m := caseName.FindStringSubmatch(name)
	if m == nil {
		return "", "", fmt.Errorf("%q is not an h2spec test id (like http2-6.5.3-2 for h2spec's http2/6.5.3/2)", name)
	}
	group = m[1] + "/" + m[2]
	return group + "/" + m[3], group, nil
}

// result is a case's line on stdout (docs/peer-contract.md, "Client").
type result struct {
	Case   string  `json:"case"`
	Status string  `json:"status"`
	Ms     float64 `json:"ms"`
	Error  string  `json:"error,omitempty"`
}

// done is a finished case: its line, and what its h2spec run printed, for the log.
type done struct {
	line result
	log  string
}

// run runs cfg's cases, cfg.parallel at a time, each in an h2spec run of its own, and prints
// one result line per case on stdout as each finishes (in that order: the runner matches lines
// by case); it returns the exit code: 0 when every case passed, else 1.
func run(cfg config, h2spec string, stdout, log io.Writer) int {
	if cfg.fault == noChecks {
		return report(stdout, log, func(emit func(done)) {
			for _, name := range cfg.cases {
				emit(done{line: result{Case: name, Status: "passed"}})
			}
		})
	}
	if cfg.fault == silentPeer {
		peer, err := listenSilent()
		if err != nil {
			fmt.Fprintf(log, "client: %v\n", err)
			return 2
		}
		defer peer.Close()
		fmt.Fprintf(log, "client: --client_fault=%s: h2spec meets a silent peer at %s instead of the server\n", silentPeer, peer.Addr())
		cfg.host, cfg.port, cfg.tls = "127.0.0.1", peer.Addr().(*net.TCPAddr).Port, false
		// Nothing ever comes: each wait would only run out, so the shortest one h2spec takes.
		cfg.timeout = time.Second
	}
	tmp, err := os.MkdirTemp("", "h2spec-client-")
	if err != nil {
		fmt.Fprintf(log, "client: %v\n", err)
		return 2
	}
	defer os.RemoveAll(tmp)
	return report(stdout, log, func(emit func(done)) {
		jobs := make(chan int)
		var wg sync.WaitGroup
		for range min(cfg.parallel, len(cfg.cases)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					emit(runCase(cfg, h2spec, filepath.Join(tmp, fmt.Sprintf("%d.xml", i)), cfg.cases[i]))
				}
			}()
		}
		for i := range cfg.cases {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
	})
}

// report calls produce with a function that prints a finished case (its log, then its line),
// one case at a time; it returns 0 when every case passed, else 1.
func report(stdout, log io.Writer, produce func(emit func(done))) int {
	var mu sync.Mutex
	code := 0
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	produce(func(d done) {
		mu.Lock()
		defer mu.Unlock()
		io.WriteString(log, d.log)
		if d.line.Status != "passed" {
			code = 1
			fmt.Fprintf(log, "%s: FAILED: %s\n", d.line.Case, d.line.Error)
		}
		if err := enc.Encode(d.line); err != nil {
			fmt.Fprintf(log, "client: writing the result of %s: %v\n", d.line.Case, err)
			code = 1
		}
	})
	return code
}

// runCase runs one h2spec test in a run of its own and reads the verdict from the JUnit report.
func runCase(cfg config, h2spec, junit, name string) done {
	start := time.Now()
	var log strings.Builder
	finish := func(err error) done {
		line := result{Case: name, Status: "passed", Ms: math.Round(float64(time.Since(start))/float64(time.Millisecond)*10) / 10}
		if err != nil {
			line.Status, line.Error = "failed", err.Error()
		}
		return done{line: line, log: log.String()}
	}
	test, group, err := section(name)
	if err != nil {
		return finish(err)
	}
	args := []string{"-h", cfg.host, "-p", strconv.Itoa(cfg.port), "-P", cfg.path, "-o", strconv.Itoa(int(cfg.timeout / time.Second)), "-j", junit}
	if cfg.tls {
		args = append(args, "-t", "-k")
	}
	args = append(args, test)
	fmt.Fprintf(&log, "%s: $ %s %s\n", name, h2spec, strings.Join(args, " "))
	// A test waits at most a few times -o (connecting, the handshake, the verdict): past that
	// the run is stuck, and killed.
	limit := 5*cfg.timeout + 5*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, h2spec, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	runErr := cmd.Run()
	for _, l := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			fmt.Fprintf(&log, "%s: | %s\n", name, l)
		}
	}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return finish(fmt.Errorf("h2spec %s: still running after %v, killed", test, limit))
	case runErr != nil && !errors.As(runErr, &exitErr):
		return finish(fmt.Errorf("cannot run h2spec (%s): %v", h2spec, runErr))
	}
	body, err := os.ReadFile(junit)
	if err != nil {
		// h2spec writes its report at the end; it exits early (status 1, no report) when it
		// cannot connect.
		return finish(fmt.Errorf("h2spec %s ended without a report (exit code %d): %s", test, cmd.ProcessState.ExitCode(), lastLine(out.String())))
	}
	return finish(verdict(body, test, group))
}

// The parts of h2spec's JUnit report (its reporter/junit_report.go) a verdict needs.
type junitReport struct {
	Suites []struct {
		Package string `xml:"package,attr"`
		Cases   []struct {
			Package   string  `xml:"package,attr"`
			ClassName string  `xml:"classname,attr"`
			Failure   *string `xml:"failure"`
			Error     *string `xml:"error"`
			Skipped   *string `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// verdict reads the one test of a run's JUnit report: nil when it passed.
func verdict(body []byte, test, group string) error {
	var r junitReport
	if err := xml.Unmarshal(printable(body), &r); err != nil {
		return fmt.Errorf("h2spec %s: unreadable JUnit report: %v", test, err)
	}
	found := 0
	var problem error
	for _, s := range r.Suites {
		for _, c := range s.Cases {
			if c.Package != group {
				continue
			}
			found++
			what := fmt.Sprintf("h2spec %s (%s)", test, strings.TrimSpace(c.ClassName))
			switch {
			case c.Failure != nil:
				problem = fmt.Errorf("%s: %s", what, outcome(*c.Failure))
			case c.Error != nil:
				problem = fmt.Errorf("%s: %s", what, outcome(*c.Error))
			case c.Skipped != nil:
				problem = fmt.Errorf("%s: skipped by h2spec (the server's settings do not allow it)", what)
			}
		}
	}
	switch {
	case found == 0:
		return fmt.Errorf("h2spec has no test %s (its report lists none)", test)
	case found > 1:
		return fmt.Errorf("h2spec %s: its report lists %d results for one test", test, found)
	}
	return problem
}

// printable writes the control characters XML 1.0 does not allow as \xNN: h2spec copies frame
// payloads into its report as they are (a PING's eight zero bytes), which no XML parser takes.
func printable(body []byte) []byte {
	var out bytes.Buffer
	for _, b := range body {
		if b < 0x20 && b != '\t' && b != '\n' && b != '\r' {
			fmt.Fprintf(&out, "\\x%02x", b)
			continue
		}
		out.WriteByte(b)
	}
	return out.Bytes()
}

// outcome turns a failure's text into one line. h2spec writes what it expected, one
// possibility per line, then what it got on the last line ("Expect:\n…\nActual:\n…" for its
// TestError values, the bare lines for the pointers its verifiers return).
func outcome(text string) string {
	text = strings.ReplaceAll(text, "\r", "")
	if exp, act, ok := strings.Cut(text, "\nActual:\n"); ok {
		return expectedActual(strings.Split(strings.TrimPrefix(strings.TrimSpace(exp), "Expect:\n"), "\n"), strings.TrimSpace(act))
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) == 1 {
		return lines[0]
	}
	return expectedActual(lines[:len(lines)-1], lines[len(lines)-1])
}

func expectedActual(expected []string, actual string) string {
	for i := range expected {
		expected[i] = strings.TrimSpace(expected[i])
	}
	return fmt.Sprintf("expected %s; got %s", strings.Join(expected, " or "), actual)
}

// lastLine is the last non-empty line of text (h2spec's "Error: …" when it gave up).
func lastLine(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
