package client

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/repo"
	"interopmatrix/internal/result"
	"interopmatrix/internal/scripted"
	"interopmatrix/internal/servertest"
	"interopmatrix/internal/transporttest"
)

// run runs names against a server with faults f and returns the exit code, the result
// lines and stderr.
func run(t *testing.T, f faults.Set, names ...string) (int, []result.Line, string) {
	t.Helper()
	return runTarget(t, cases.Target{Host: "127.0.0.1", Port: servertest.Start(t, f), RPCTimeout: time.Second}, names...)
}

// runTarget runs names against target and returns the exit code, the result lines and stderr.
func runTarget(t *testing.T, target cases.Target, names ...string) (int, []result.Line, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	code := Run(Config{Target: target, Cases: names}, &stdout, &stderr)
	var lines []result.Line
	for _, text := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		var line result.Line
		if err := json.Unmarshal([]byte(text), &line); err != nil {
			t.Fatalf("stdout line %q is not JSON: %v", text, err)
		}
		lines = append(lines, line)
	}
	return code, lines, stderr.String()
}

func TestRunPasses(t *testing.T) {
	code, lines, stderr := run(t, nil, "greeter_say_hello", "stream_bidi")
	if code != 0 || len(lines) != 2 || stderr != "" {
		t.Fatalf("exit %d, lines %+v, stderr %q", code, lines, stderr)
	}
	for i, name := range []string{"greeter_say_hello", "stream_bidi"} {
		if lines[i].Case != name || lines[i].Status != "passed" || lines[i].Error != "" || lines[i].Ms < 0 {
			t.Errorf("line %d = %+v", i, lines[i])
		}
	}
}

func TestRunGoesOnAfterAFailure(t *testing.T) {
	code, lines, stderr := run(t, faults.Set{faults.AgainWrong: true}, "greeter_say_hello_again", "no_such_case", "greeter_say_hello")
	if code != 1 || len(lines) != 3 {
		t.Fatalf("exit %d, lines %+v", code, lines)
	}
	if lines[0].Status != "failed" || !strings.Contains(lines[0].Error, "SayHelloAgain") ||
		lines[1].Status != "failed" || lines[1].Error != "unknown test case: no_such_case" ||
		lines[2].Status != "passed" {
		t.Errorf("lines %+v", lines)
	}
	for _, reason := range []string{lines[0].Error, lines[1].Error} {
		if !strings.Contains(stderr, reason) {
			t.Errorf("stderr %q lacks the failure reason %q", stderr, reason)
		}
	}
}

// TestRunReportsObserved: server_info_version's line carries what GetInfo returned, and no
// other line carries anything.
func TestRunReportsObserved(t *testing.T) {
	code, lines, stderr := run(t, faults.Set{faults.VersionWrong: true}, "server_info_version", "greeter_say_hello")
	if code != 0 || len(lines) != 2 || stderr != "" {
		t.Fatalf("exit %d, lines %+v, stderr %q", code, lines, stderr)
	}
	want := map[string]any{"language": "go", "implementation": "grpc-go", "version": "0.0.0-fault"}
	if lines[0].Status != "passed" || !reflect.DeepEqual(lines[0].Observed, want) {
		t.Errorf("server_info_version: %+v, want passed with observed %v", lines[0], want)
	}
	if lines[1].Observed != nil {
		t.Errorf("greeter_say_hello observed %v", lines[1].Observed)
	}
}

// TestRunNoChecks: under no-checks the cases a fault breaks pass, and the exit code is 0.
func TestRunNoChecks(t *testing.T) {
	target := cases.Target{Host: "127.0.0.1", Port: servertest.Start(t, faults.Set{faults.StreamTruncate: true, faults.HealthServingAny: true}), RPCTimeout: time.Second, NoChecks: true}
	code, lines, stderr := runTarget(t, target, "stream_server", "health_unknown_service", "stream_server_max_count")
	if code != 0 || len(lines) != 3 || stderr != "" {
		t.Fatalf("exit %d, lines %+v, stderr %q", code, lines, stderr)
	}
	for _, line := range lines {
		if line.Status != "passed" || line.Error != "" {
			t.Errorf("no-checks: %+v", line)
		}
	}
}

// TestRunScriptedCases: a case named in --cases_file runs through the generic executor and
// passes whatever the call's outcome, with what it observed; other names are ordinary cases;
// an instruction that cannot run fails.
func TestRunScriptedCases(t *testing.T) {
	path, err := repo.InRoot("test/fixtures/scripted-sample.json")
	if err != nil {
		t.Fatal(err)
	}
	instructions, err := scripted.LoadCases(path)
	if err != nil {
		t.Fatal(err)
	}
	instructions["bad_method"] = json.RawMessage(`{"method":"Nope","requests":[{}]}`)
	target := cases.Target{Host: "127.0.0.1", Port: servertest.Start(t, nil), RPCTimeout: 5 * time.Second}
	var stdout, stderr strings.Builder
	code := Run(Config{Target: target, Cases: []string{"unary_error_details", "greeter_say_hello", "bad_method"}, Scripted: instructions}, &stdout, &stderr)
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if code != 1 || len(lines) != 3 {
		t.Fatalf("exit %d, stdout %q", code, stdout.String())
	}
	var first struct {
		Case, Status string
		Observed     struct {
			Status struct {
				Code    int
				Message string
			}
		}
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.Status != "passed" || first.Observed.Status.Code != 3 {
		t.Errorf("line %s: %+v, %v", lines[0], first, err)
	}
	if !strings.Contains(lines[1], `"case":"greeter_say_hello","status":"passed"`) ||
		!strings.Contains(lines[2], `"case":"bad_method","status":"failed"`) || !strings.Contains(stderr.String(), "unknown method") {
		t.Errorf("lines %q, stderr %q", lines, stderr.String())
	}
}

// TestRunScriptedLenient: --client_fault=scripted-lenient makes the generic executor make a call
// grpc-go would refuse, and leaves the old cases as they are.
func TestRunScriptedLenient(t *testing.T) {
	instructions := scripted.Cases{"refused": json.RawMessage(`{"method":"Unary","requests":[{"script":{},"values":{"i64":"12abc"}}]}`)}
	target := cases.Target{Host: "127.0.0.1", Port: servertest.Start(t, nil), RPCTimeout: 5 * time.Second}
	for _, lenient := range []bool{false, true} {
		var stdout, stderr strings.Builder
		code := Run(Config{Target: target, Cases: []string{"refused", "greeter_say_hello", "stream_bidi"}, Scripted: instructions, ScriptedLenient: lenient}, &stdout, &stderr)
		lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
		if code != 0 || len(lines) != 3 {
			t.Fatalf("lenient %v: exit %d, stdout %q, stderr %q", lenient, code, stdout.String(), stderr.String())
		}
		if made := strings.Contains(lines[0], `"status":{"code":0`); made != lenient || strings.Contains(lines[0], "local_error") == lenient {
			t.Errorf("lenient %v: %s", lenient, lines[0])
		}
		for _, line := range lines[1:] {
			if !strings.Contains(line, `"status":"passed"`) {
				t.Errorf("lenient %v: %s", lenient, line)
			}
		}
	}
}

// TestRunScriptedUnknownFields: the result line of a case with "$unknown" members reports them
// on the reply's values and on the request RequestInfo echoes (its nested message included);
// against a server with scripted-unknown-dropped it reports none. A "$unknown" that is not hex
// fails the case.
func TestRunScriptedUnknownFields(t *testing.T) {
	instructions := scripted.Cases{
		"relay": json.RawMessage(`{"method":"Unary","requests":[{` +
			`"script":{"replies":[{"values":{"i32":7,"$unknown":"c03e9601ca3e0572656c6179d53e01020304"}}]},` +
			`"values":{"s":"kept","$unknown":"c03e9601ca3e0572656c6179d53e01020304","nested":{"$unknown":"d93e0102030405060708"}}}]}`),
		"bad_hex": json.RawMessage(`{"method":"Unary","requests":[{"values":{"$unknown":"c03e9"}}]}`),
	}
	type observedValues struct {
		Unknown string         `json:"$unknown"`
		Nested  map[string]any `json:"nested"`
	}
	type observedLine struct {
		Case, Status string
		Observed     struct {
			Responses []struct {
				Values      observedValues
				RequestInfo struct {
					Requests []struct{ Values observedValues } `json:"requests"`
				} `json:"request_info"`
			}
		}
	}
	for _, dropped := range []bool{false, true} {
		var line observedLine
		target := cases.Target{Host: "127.0.0.1", Port: servertest.Start(t, faults.Set{faults.ScriptedUnknownDropped: dropped}), RPCTimeout: 5 * time.Second}
		var stdout, stderr strings.Builder
		code := Run(Config{Target: target, Cases: []string{"relay", "bad_hex"}, Scripted: instructions}, &stdout, &stderr)
		lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
		if code != 1 || len(lines) != 2 {
			t.Fatalf("dropped %v: exit %d, stdout %q, stderr %q", dropped, code, stdout.String(), stderr.String())
		}
		if !strings.Contains(lines[1], `"case":"bad_hex","status":"failed"`) || !strings.Contains(stderr.String(), "$unknown") {
			t.Errorf("dropped %v: %s, stderr %q", dropped, lines[1], stderr.String())
		}
		if err := json.Unmarshal([]byte(lines[0]), &line); err != nil || line.Status != "passed" || len(line.Observed.Responses) != 1 ||
			len(line.Observed.Responses[0].RequestInfo.Requests) != 1 {
			t.Fatalf("dropped %v: %s, %v", dropped, lines[0], err)
		}
		if strings.Contains(lines[0], "$unknown") != !dropped {
			t.Errorf("dropped %v: %s", dropped, lines[0])
		}
		if dropped {
			continue
		}
		resp := line.Observed.Responses[0]
		sent := resp.RequestInfo.Requests[0].Values
		if resp.Values.Unknown != "c03e9601ca3e0572656c6179d53e01020304" || sent.Unknown != "c03e9601ca3e0572656c6179d53e01020304" ||
			!reflect.DeepEqual(sent.Nested, map[string]any{"$unknown": "d93e0102030405060708"}) {
			t.Errorf("%s", lines[0])
		}
	}
}

// Every scripted case of a run uses the one channel dialled at the first of them.
func TestScriptedCasesShareOneChannel(t *testing.T) {
	shared := &sharedConn{target: cases.Target{Host: "127.0.0.1", Port: servertest.Start(t, nil), RPCTimeout: time.Second}}
	defer shared.close()
	first, err := shared.get()
	if err != nil {
		t.Fatal(err)
	}
	instruction := json.RawMessage(`{"method":"Unary","requests":[{"script":{}}]}`)
	for i := 0; i < 2; i++ {
		if _, err := runScripted(shared, instruction, time.Second, scripted.Options{}); err != nil {
			t.Fatal(err)
		}
		if conn, _ := shared.get(); conn != first {
			t.Fatalf("case %d dialled a channel of its own", i)
		}
	}
}

// TestRunScriptedClientLimitsIgnored: --client_fault=scripted-client-limits-ignored lifts the
// message size limits of the shared channel (a response past grpc-go's default 4 MiB) and of an
// instruction's own channel (its max_receive_message_length ignored); without it both calls
// end RESOURCE_EXHAUSTED. Long bytes are reported by their digest.
func TestRunScriptedClientLimitsIgnored(t *testing.T) {
	instructions := scripted.Cases{
		"shared": json.RawMessage(`{"method":"Unary","requests":[{"script":{"replies":[{"fill_bytes":4194400}]}}]}`),
		"own":    json.RawMessage(`{"method":"Unary","channel":{"max_receive_message_length":1000},"requests":[{"script":{"replies":[{"fill_bytes":2000}]}}]}`),
	}
	target := cases.Target{Host: "127.0.0.1", Port: servertest.Start(t, nil), RPCTimeout: 5 * time.Second}
	for _, ignored := range []bool{false, true} {
		var stdout, stderr strings.Builder
		code := Run(Config{Target: target, Cases: []string{"shared", "own"}, Scripted: instructions, ScriptedLimitsIgnored: ignored}, &stdout, &stderr)
		lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
		if code != 0 || len(lines) != 2 {
			t.Fatalf("ignored %v: exit %d, stdout %.500q, stderr %q", ignored, code, stdout.String(), stderr.String())
		}
		want := `"status":{"code":8,`
		if ignored {
			want = `"status":{"code":0,`
		}
		for _, line := range lines {
			if !strings.Contains(line, want) {
				t.Errorf("ignored %v: %.500s; want %s", ignored, line, want)
			}
		}
		if ignored && !strings.Contains(lines[0], `"by":{"$sha256":"`) {
			t.Errorf("the 4 MiB response's bytes: %.500s", lines[0])
		}
	}
}

// TestRunScriptedServerName: on tls an instruction's channel.server_name is the name the server's
// certificate is checked against (wrong.example.com: the call ends UNAVAILABLE, a status, and the
// case passes, as the executor checks nothing), while the shared channel keeps
// --server_host_override; --client_fault=scripted-server-name-ignored makes the call succeed.
func TestRunScriptedServerName(t *testing.T) {
	instructions := scripted.Cases{
		"shared": json.RawMessage(`{"method":"Unary","requests":[{"script":{}}]}`),
		"wrong":  json.RawMessage(`{"method":"Unary","channel":{"server_name":"wrong.example.com"},"requests":[{"script":{}}]}`),
		"right":  json.RawMessage(`{"method":"Unary","channel":{"server_name":"other.test.google.fr"},"requests":[{"script":{}}]}`),
	}
	port := servertest.Start(t, nil, grpc.Creds(transporttest.ServerCreds(t, "tls")))
	target := cases.Target{Host: "127.0.0.1", Port: port, RPCTimeout: 5 * time.Second, Creds: transporttest.ClientCreds(t, "tls")}
	for _, ignored := range []bool{false, true} {
		var stdout, stderr strings.Builder
		code := Run(Config{Target: target, Cases: []string{"shared", "wrong", "right"}, Scripted: instructions, ScriptedServerNameIgnored: ignored}, &stdout, &stderr)
		lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
		if code != 0 || len(lines) != 3 || stderr.String() != "" {
			t.Fatalf("ignored %v: exit %d, stdout %.500q, stderr %q", ignored, code, stdout.String(), stderr.String())
		}
		wrong := `"status":{"code":14,"message":"connection error: desc = \"transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate is valid for foo.test.google.fr, *.test.google.fr, localhost, not wrong.example.com\""}`
		if ignored {
			wrong = `"status":{"code":0,`
		}
		for i, want := range []string{`"status":{"code":0,`, wrong, `"status":{"code":0,`} {
			if !strings.Contains(lines[i], `"status":"passed"`) || !strings.Contains(lines[i], want) {
				t.Errorf("ignored %v: %.500s; want %s", ignored, lines[i], want)
			}
		}
	}
}
