package main

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// recording is one run of a real tool, recorded in testdata/recorded.json.
type recording struct {
	Server string   `json:"server"`
	Args   []string `json:"args"`
	Exit   int      `json:"exit"`
	Stdout string   `json:"stdout"`
	Stderr string   `json:"stderr"`
}

func (r recording) run() toolRun {
	return toolRun{exitCode: r.Exit, stdout: r.Stdout, stderr: r.Stderr}
}

func loadRecordings(t *testing.T) map[string]recording {
	t.Helper()
	data, err := os.ReadFile("testdata/recorded.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Runs map[string]recording `json:"runs"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	return file.Runs
}

// unhealthy is what grpc-health-probe v0.4.63 prints for a service that is not SERVING (exit
// 4), from its main.go: no server here answers NOT_SERVING without a fault.
var unhealthy = recording{Exit: 4, Stderr: "service unhealthy (responded with \"NOT_SERVING\")\n"}

// TestRecordedRuns replays what the real tools printed through each case's checks.
func TestRecordedRuns(t *testing.T) {
	recs := loadRecordings(t)
	recs["unhealthy"] = unhealthy
	for _, tc := range []struct {
		caseName  string
		step      int
		recording string
		want      string // "" passes; else the error contains it
	}{
		{"grpcurl_list", 0, "list_python", ""},
		// @grpc/reflection 1.0.4 names a service without a package ".UserRecommend".
		{"grpcurl_list", 0, "list_ts", `missing ["UserRecommend" "TestServer"]`},
		{"grpcurl_list", 0, "list_reflection_incomplete", `missing ["interop.scripted.Scripted"]`},
		{"grpcurl_list", 0, "list_no_reflection", `expected exit code 0, got 1; output "Failed to list services: server does not support the reflection API"`},
		{"grpcurl_describe", 0, "describe_python", ""},
		{"grpcurl_describe", 0, "describe_ts", `expected exit code 0, got 1; output "Failed to resolve symbol \"interop.scripted.Scripted\": proto: message field`},
		{"grpcurl_describe", 0, "describe_reflection_incomplete", "Symbol not found: interop.scripted.Scripted"},
		{"grpcurl_describe", 0, "list_python", `expected a line "service Scripted {"`},
		{"grpcurl_call", 0, "say_hello", ""},
		{"grpcurl_call", 0, "say_hello_greeting_punctuation", `expected the JSON object {"message":"Hello, world!"}, got "{\n  \"message\": \"Hello, world\"\n}"`},
		{"grpcurl_call", 1, "getinfo", ""},
		{"grpcurl_call", 1, "getinfo_panda_float64", `expected "reply" to be "9007199254740994", got`},
		{"grpcurl_health", 0, "check_greeter", ""},
		{"grpcurl_health", 1, "check_unknown", ""},
		{"grpcurl_health", 1, "check_unknown_serving_any", "expected exit code 69, got 0"},
		{"grpcurl_health", 0, "check_unknown", "expected exit code 0, got 69"},
		{"health_probe_service", 0, "probe_server", ""},
		{"health_probe_service", 1, "probe_greeter", ""},
		{"health_probe_service", 1, "unhealthy", `expected exit code 0, got 4; output "service unhealthy (responded with \"NOT_SERVING\")"`},
		{"health_probe_service", 0, "probe_closed_port", "expected exit code 0, got 2"},
		{"health_probe_service", 0, "probe_tls_to_insecure", "expected exit code 0, got 2"},
		{"health_probe_unknown_service", 0, "probe_unknown", ""},
		{"health_probe_unknown_service", 0, "probe_unknown_serving_any", `expected exit code 3, got 0; output "status: SERVING"`},
		{"health_probe_unknown_service", 0, "unhealthy", "expected exit code 3, got 4"},
	} {
		rec, ok := recs[tc.recording]
		if !ok {
			t.Fatalf("no recording %s", tc.recording)
		}
		s := caseSteps(t, tc.caseName)[tc.step]
		err := s.check(rec.run())
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s step %d against %s (%s): %v", tc.caseName, tc.step, tc.recording, rec.Server, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s step %d against %s (%s): %v, want an error containing %q", tc.caseName, tc.step, tc.recording, rec.Server, err, tc.want)
		}
	}
}

// TestRecordingsMatchTheCases checks that each recording of a case's step was made with the
// very command line the step runs (insecure, --rpc_timeout_ms=5000), so the recordings stay
// true to the cases.
func TestRecordingsMatchTheCases(t *testing.T) {
	recs := loadRecordings(t)
	port := regexp.MustCompile(`127\.0\.0\.1:(\d+)`)
	for _, tc := range []struct{ caseName, recording string }{
		{"grpcurl_list", "list_python"}, {"grpcurl_describe", "describe_python"}, {"grpcurl_call", "say_hello"},
		{"grpcurl_call", "getinfo"}, {"grpcurl_health", "check_greeter"}, {"grpcurl_health", "check_unknown"},
		{"health_probe_service", "probe_server"}, {"health_probe_service", "probe_greeter"}, {"health_probe_unknown_service", "probe_unknown"},
	} {
		rec := recs[tc.recording]
		m := port.FindStringSubmatch(strings.Join(rec.Args, " "))
		if m == nil {
			t.Fatalf("%s: no address in %q", tc.recording, rec.Args)
		}
		p, _ := strconv.Atoi(m[1])
		cfg := config{tool: toolByName(rec.Args[0]), host: "127.0.0.1", port: p, timeout: 5 * time.Second}
		found := false
		for _, s := range caseSteps(t, tc.caseName) {
			found = found || slices.Equal(cfg.tool.command(&cfg, s.invocation), rec.Args[1:])
		}
		if !found {
			t.Errorf("%s: no step of %s runs %q", tc.recording, tc.caseName, rec.Args)
		}
	}
}

func caseSteps(t *testing.T, name string) []step {
	t.Helper()
	for _, tool := range tools {
		if steps, ok := tool.cases[name]; ok {
			return steps
		}
	}
	t.Fatalf("no case %s", name)
	return nil
}

func TestJSONChecks(t *testing.T) {
	for _, tc := range []struct {
		check  check
		stdout string
		want   string
	}{
		{jsonObject(`{"status":"SERVING"}`), "{\n  \"status\": \"SERVING\"\n}\n", ""},
		{jsonObject(`{"status":"SERVING"}`), `{"status":"SERVING","extra":1}`, `expected the JSON object {"status":"SERVING"}`},
		{jsonObject(`{"status":"SERVING"}`), `{"status":"SERVING"} {"status":"SERVING"}`, "nothing after it"},
		{jsonObject(`{"status":"SERVING"}`), "", "expected one JSON object on stdout, got (nothing)"},
		{jsonObject(`{"status":"SERVING"}`), "null", "expected one JSON object"},
		{jsonMember("reply", `"9007199254740994"`), `{"reply":"9007199254740994"}`, ""},
		// A number is not the string grpcurl's JSON must give for an int64.
		{jsonMember("reply", `"9007199254740994"`), `{"reply":9007199254740994}`, `expected "reply" to be "9007199254740994"`},
		{jsonMember("reply", `"9007199254740994"`), `{}`, `expected "reply" to be`},
	} {
		err := tc.check(toolRun{stdout: tc.stdout})
		if (tc.want == "" && err != nil) || (tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want))) {
			t.Errorf("%q: %v, want %q", tc.stdout, err, tc.want)
		}
	}
}

func TestDescribeChecksTheMethodsExactly(t *testing.T) {
	recs := loadRecordings(t)
	check := caseSteps(t, "grpcurl_describe")[0].check
	good := recs["describe_python"].Stdout
	for _, tc := range []struct{ name, stdout, want string }{
		{"a method missing", strings.Replace(good, "  rpc Unary ( .interop.scripted.ScriptedRequest ) returns ( .interop.scripted.ScriptedResponse );\n", "", 1), `missing ["rpc Unary`},
		{"streaming lost", strings.Replace(good, "rpc ClientStream ( stream .interop", "rpc ClientStream ( .interop", 1), `missing ["rpc ClientStream ( stream`},
		{"a method too many", strings.Replace(good, "}", "  rpc Extra ( .a.B ) returns ( .a.B );\n}", 1), `unexpected ["rpc Extra ( .a.B ) returns ( .a.B );"]`},
	} {
		err := check(toolRun{stdout: tc.stdout})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestExcerpt(t *testing.T) {
	if got := excerpt(" \n"); got != "(nothing)" {
		t.Errorf("excerpt of nothing: %s", got)
	}
	if got := excerpt(strings.Repeat("x", 700)); !strings.HasSuffix(got, "… (700 bytes)") || len(got) > 620 {
		t.Errorf("excerpt of 700 bytes: %s", got)
	}
}
