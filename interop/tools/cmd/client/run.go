package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// killMargin is how long a tool may outlive its own deadlines before it is killed.
const killMargin = 2 * time.Second

// A toolRun is what one run of a tool gave.
type toolRun struct {
	exitCode       int // -1 when it did not exit by itself
	stdout, stderr string
	// killed: it was still running after limit, and was killed.
	killed bool
	limit  time.Duration
}

// output is everything the tool printed (grpc-health-probe prints on stderr only).
func (r toolRun) output() string { return r.stdout + r.stderr }

// A runner runs the cases with the tool binaries found in dir.
type runner struct {
	dir        string
	killMargin time.Duration
}

// result is a case's line on stdout (docs/peer-contract.md, "Client").
type result struct {
	Case   string  `json:"case"`
	Status string  `json:"status"`
	Ms     float64 `json:"ms"`
	Error  string  `json:"error,omitempty"`
}

// run runs cfg's cases in order, each on its own, and prints one result line per case on
// stdout; it returns the exit code: 0 when every case passed, else 1.
func (rn runner) run(cfg config, stdout, log io.Writer) int {
	code := 0
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, name := range cfg.cases {
		start := time.Now()
		err := rn.runCase(&cfg, name, log)
		line := result{Case: name, Status: "passed", Ms: math.Round(float64(time.Since(start))/float64(time.Millisecond)*10) / 10}
		if err != nil {
			line.Status, line.Error, code = "failed", err.Error(), 1
			fmt.Fprintf(log, "%s: FAILED: %v\n", name, err)
		}
		if err := enc.Encode(line); err != nil {
			fmt.Fprintf(log, "client: writing the result of %s: %v\n", name, err)
			code = 1
		}
	}
	return code
}

// runCase runs a case's steps in order and stops at the first that fails its check. With
// --client_fault=no-checks every step runs and nothing is checked: the one place checks are
// switched off.
func (rn runner) runCase(cfg *config, name string, log io.Writer) error {
	steps, ok := cfg.tool.cases[name]
	if !ok {
		return fmt.Errorf("unknown test case: %s", name)
	}
	for _, s := range steps {
		r, err := rn.runTool(cfg, name, cfg.tool.command(cfg, s.invocation), log)
		if err != nil {
			return fmt.Errorf("%s: %v", describe(cfg, s.invocation), err)
		}
		if cfg.noChecks {
			continue
		}
		if err := s.check(r); err != nil {
			return fmt.Errorf("%s: %v", describe(cfg, s.invocation), err)
		}
	}
	return nil
}

// runTool runs the tool once with args, killing it when it outlives its deadlines, and logs the
// command line and what it printed. The error is for a tool that could not be run at all.
func (rn runner) runTool(cfg *config, caseName string, args []string, log io.Writer) (toolRun, error) {
	r := toolRun{exitCode: -1, limit: killAfter(cfg, rn.killMargin)}
	path := filepath.Join(rn.dir, cfg.tool.name)
	fmt.Fprintf(log, "%s: $ %s\n", caseName, shellJoin(append([]string{path}, args...)))
	ctx, cancel := context.WithTimeout(context.Background(), r.limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second // once killed, stop waiting for its output soon
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	r.stdout, r.stderr = stdout.String(), stderr.String()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.killed = true
		fmt.Fprintf(log, "%s: killed after %v: still running past its deadlines\n", caseName, elapsed.Round(time.Millisecond))
	case err == nil || errors.As(err, &exitErr):
		r.exitCode = cmd.ProcessState.ExitCode()
		fmt.Fprintf(log, "%s: exit code %d after %v\n", caseName, r.exitCode, elapsed.Round(time.Millisecond))
	default:
		fmt.Fprintf(log, "%s: cannot run it: %v\n", caseName, err)
		return r, fmt.Errorf("cannot run %s: %v", path, err)
	}
	logOutput(log, caseName, "stdout", r.stdout)
	logOutput(log, caseName, "stderr", r.stderr)
	return r, nil
}

func logOutput(log io.Writer, caseName, stream, text string) {
	text = strings.TrimRight(text, "\n")
	if text == "" {
		return
	}
	for _, line := range strings.Split(text, "\n") {
		fmt.Fprintf(log, "%s: %s| %s\n", caseName, stream, line)
	}
}
