package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// reply is what a fake tool answers when its arguments contain match.
type reply struct {
	match string
	rec   recording
}

// fakeTool writes an executable shell script named tool in dir that appends its arguments to
// dir/tool.args (one line a run), then answers as the first reply whose match its arguments
// contain (printing the recorded stdout and stderr, exiting with the recorded code).
func fakeTool(t *testing.T, dir, tool string, replies ...reply) {
	t.Helper()
	var script strings.Builder
	fmt.Fprintf(&script, "#!/bin/sh\necho \"$*\" >> %s\ncase \"$*\" in\n", shellQuote(filepath.Join(dir, tool+".args")))
	for i, r := range replies {
		out, errOut := filepath.Join(dir, fmt.Sprintf("%s.%d.out", tool, i)), filepath.Join(dir, fmt.Sprintf("%s.%d.err", tool, i))
		for path, text := range map[string]string{out: r.rec.Stdout, errOut: r.rec.Stderr} {
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Fprintf(&script, "*%s*) cat %s; cat %s >&2; exit %d;;\n", shellQuote(r.match), shellQuote(out), shellQuote(errOut), r.rec.Exit)
	}
	script.WriteString("esac\necho \"fake tool: no reply for $*\" >&2\nexit 99\n")
	if err := os.WriteFile(filepath.Join(dir, tool), []byte(script.String()), 0o755); err != nil {
		t.Fatal(err)
	}
}

// toolArgs is what the fake tool was run with, one line a run.
func toolArgs(t *testing.T, dir, tool string) []string {
	data, err := os.ReadFile(filepath.Join(dir, tool+".args"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// runWith parses args, runs the cases with the tools in dir and returns the exit code, the
// result lines and the log.
func runWith(t *testing.T, dir string, args ...string) (int, []result, string) {
	t.Helper()
	cfg, err := parseFlags(append([]string{"--server_port=4000"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	var stdout, log strings.Builder
	code := runner{dir: dir, killMargin: time.Second}.run(cfg, &stdout, &log)
	var lines []result
	for _, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		var r result
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("result line %q: %v", line, err)
		}
		lines = append(lines, r)
	}
	return code, lines, log.String()
}

func statuses(lines []result) string {
	var out []string
	for _, l := range lines {
		out = append(out, l.Case+"="+l.Status)
	}
	return strings.Join(out, " ")
}

func TestRunPasses(t *testing.T) {
	recs := loadRecordings(t)
	dir := t.TempDir()
	fakeTool(t, dir, "grpc-health-probe", reply{"no.such.Service", recs["probe_unknown"]}, reply{"-addr=", recs["probe_server"]})
	code, lines, log := runWith(t, dir, "--tool=grpc-health-probe", "--test_case=health_probe_service,health_probe_unknown_service")
	if code != 0 || statuses(lines) != "health_probe_service=passed health_probe_unknown_service=passed" {
		t.Errorf("exit %d, %s; log:\n%s", code, statuses(lines), log)
	}
	want := []string{
		"-addr=127.0.0.1:4000 -connect-timeout=5s -rpc-timeout=5s",
		"-addr=127.0.0.1:4000 -connect-timeout=5s -rpc-timeout=5s -service=helloworld.Greeter",
		"-addr=127.0.0.1:4000 -connect-timeout=5s -rpc-timeout=5s -service=no.such.Service",
	}
	if got := toolArgs(t, dir, "grpc-health-probe"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("runs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The log shows what was run (copy-paste-able) and what it printed.
	for _, w := range []string{
		"health_probe_service: $ " + filepath.Join(dir, "grpc-health-probe") + " -addr=127.0.0.1:4000 -connect-timeout=5s -rpc-timeout=5s\n",
		"health_probe_service: exit code 0 after ",
		"health_probe_service: stderr| status: SERVING\n",
		"health_probe_unknown_service: exit code 3 after ",
		`health_probe_unknown_service: stderr| error: health rpc failed: rpc error: code = NotFound desc = unknown service 'no.such.Service'`,
	} {
		if !strings.Contains(log, w) {
			t.Errorf("the log lacks %q:\n%s", w, log)
		}
	}
}

func TestRunFailuresAndUnknownCases(t *testing.T) {
	recs := loadRecordings(t)
	dir := t.TempDir()
	fakeTool(t, dir, "grpcurl", reply{"SayHello", recs["say_hello_greeting_punctuation"]}, reply{"Getinfo", recs["getinfo"]}, reply{" list", recs["list_python"]})
	code, lines, log := runWith(t, dir, "--tool=grpcurl", "--test_case=grpcurl_call,health_probe_service,no_such_case,grpcurl_list")
	if code != 1 || statuses(lines) != "grpcurl_call=failed health_probe_service=failed no_such_case=failed grpcurl_list=passed" {
		t.Fatalf("exit %d, %s; log:\n%s", code, statuses(lines), log)
	}
	if want := `grpcurl -d '{"name":"world"}' helloworld.Greeter/SayHello: expected the JSON object {"message":"Hello, world!"}, got "{\n  \"message\": \"Hello, world\"\n}"`; lines[0].Error != want {
		t.Errorf("error %q, want %q", lines[0].Error, want)
	}
	// A case of the other tool is not one of this client's.
	if lines[1].Error != "unknown test case: health_probe_service" || lines[2].Error != "unknown test case: no_such_case" {
		t.Errorf("errors %q, %q", lines[1].Error, lines[2].Error)
	}
	if !strings.Contains(log, "grpcurl_call: FAILED: grpcurl -d '{\"name\":\"world\"}' helloworld.Greeter/SayHello: expected the JSON object") {
		t.Errorf("the failure is not in the log:\n%s", log)
	}
	// The first failed check ends the case: Panda/Getinfo was not run.
	if got := toolArgs(t, dir, "grpcurl"); len(got) != 2 || !strings.Contains(got[0], "SayHello") || !strings.HasSuffix(got[1], " list") {
		t.Errorf("runs: %q", got)
	}
}

// TestNoChecks: --client_fault=no-checks makes every run of every case and reports passed,
// whatever the tools answer.
func TestNoChecks(t *testing.T) {
	recs := loadRecordings(t)
	dir := t.TempDir()
	fakeTool(t, dir, "grpc-health-probe", reply{"no.such.Service", recs["probe_unknown_serving_any"]}, reply{"-addr=", recs["probe_closed_port"]})
	args := []string{"--tool=grpc-health-probe", "--test_case=health_probe_service,health_probe_unknown_service"}
	code, lines, log := runWith(t, dir, args...)
	if code != 1 || statuses(lines) != "health_probe_service=failed health_probe_unknown_service=failed" {
		t.Errorf("checked: exit %d, %s; log:\n%s", code, statuses(lines), log)
	}
	if got := toolArgs(t, dir, "grpc-health-probe"); len(got) != 2 {
		t.Errorf("checked: %d runs, want 2 (the first failed check ends health_probe_service): %q", len(got), got)
	}
	dir = t.TempDir()
	fakeTool(t, dir, "grpc-health-probe", reply{"no.such.Service", recs["probe_unknown_serving_any"]}, reply{"-addr=", recs["probe_closed_port"]})
	code, lines, log = runWith(t, dir, append(args, "--client_fault=no-checks")...)
	if code != 0 || statuses(lines) != "health_probe_service=passed health_probe_unknown_service=passed" {
		t.Errorf("no-checks: exit %d, %s; log:\n%s", code, statuses(lines), log)
	}
	if got := toolArgs(t, dir, "grpc-health-probe"); len(got) != 3 {
		t.Errorf("no-checks: %d runs, want every run of every case (3): %q", len(got), got)
	}
	// An unknown case is not a check: it fails all the same.
	code, lines, _ = runWith(t, dir, "--tool=grpc-health-probe", "--test_case=grpcurl_list", "--client_fault=no-checks")
	if code != 1 || lines[0].Error != "unknown test case: grpcurl_list" {
		t.Errorf("no-checks, unknown case: exit %d, %+v", code, lines)
	}
}

func TestMissingTool(t *testing.T) {
	for _, fault := range []string{"", "no-checks"} {
		dir := t.TempDir()
		code, lines, log := runWith(t, dir, "--tool=grpcurl", "--test_case=grpcurl_list", "--client_fault="+fault)
		want := "grpcurl list: cannot run " + filepath.Join(dir, "grpcurl") + ": "
		if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0].Error, want) {
			t.Errorf("--client_fault=%q: exit %d, %+v, want an error starting %q; log:\n%s", fault, code, lines, want, log)
		}
	}
}

// TestKilledAtDeadline: a tool that outlives its deadlines and the margin is killed, and the
// case fails saying so.
func TestKilledAtDeadline(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\nexec sleep 600\n"
	if err := os.WriteFile(filepath.Join(dir, "grpcurl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseFlags([]string{"--tool=grpcurl", "--server_port=4000", "--test_case=grpcurl_list", "--rpc_timeout_ms=1"})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, log strings.Builder
	code := runner{dir: dir, killMargin: time.Millisecond}.run(cfg, &stdout, &log)
	if code != 1 || !strings.Contains(stdout.String(), `"error":"grpcurl list: expected exit code 0, but it was still running 2ms after the start and was killed; output (nothing)"`) {
		t.Errorf("exit %d, %s", code, stdout.String())
	}
	if !strings.Contains(log.String(), "grpcurl_list: killed after ") {
		t.Errorf("log:\n%s", log.String())
	}
}

func TestResultLine(t *testing.T) {
	dir := t.TempDir()
	cfg, err := parseFlags([]string{"--tool=grpcurl", "--server_port=1", "--test_case=a<&>"})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, log strings.Builder
	runner{dir: dir}.run(cfg, &stdout, &log)
	// One line, members in the contract's order, HTML characters as they are.
	line := stdout.String()
	if !strings.HasPrefix(line, `{"case":"a<&>","status":"failed","ms":`) || !strings.HasSuffix(line, `,"error":"unknown test case: a<&>"}`+"\n") || strings.Count(line, "\n") != 1 {
		t.Errorf("stdout %q", line)
	}
	if log.String() != "a<&>: FAILED: unknown test case: a<&>\n" {
		t.Errorf("log %q", log.String())
	}
}
