package client

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"interopmatrix/internal/faults"
	"interopmatrix/internal/result"
	"interopmatrix/internal/servertest"
	"interopmatrix/internal/transporttest"
)

// request is a request line of run n with args.
func request(t *testing.T, n int, args ...string) string {
	t.Helper()
	line, err := json.Marshal(map[string]any{"run": n, "args": append([]string{}, args...)})
	if err != nil {
		t.Fatal(err)
	}
	return string(line) + "\n"
}

// target are the flags of a run against the server on port, running names.
func target(port int, names ...string) []string {
	return []string{"--server_port=" + strconv.Itoa(port), "--rpc_timeout_ms=2000", "--test_case=" + strings.Join(names, ",")}
}

// executed is one request's share of the executor's stdout or stderr: the lines written
// before its end line, and the end line.
type executed struct {
	lines []string
	end   endLine
}

// execute runs the executor on input (a bounded wait) and returns its exit code and stdout
// and stderr cut at their end lines; stderr's end lines must be stdout's.
func execute(t *testing.T, input string) (int, []executed, []executed) {
	t.Helper()
	var stdout, stderr strings.Builder
	done := make(chan int, 1)
	go func() { done <- Execute(strings.NewReader(input), &stdout, &stderr) }()
	var code int
	select {
	case code = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the executor did not end within 30 s")
	}
	out, errOut := splitAtEnds(t, "stdout", stdout.String()), splitAtEnds(t, "stderr", stderr.String())
	if len(out) != len(errOut) {
		t.Fatalf("%d end lines on stdout, %d on stderr:\n%s\n%s", len(out), len(errOut), stdout.String(), stderr.String())
	}
	for i := range out {
		if out[i].end != errOut[i].end {
			t.Errorf("end line %d: %+v on stdout, %+v on stderr", i, out[i].end, errOut[i].end)
		}
	}
	return code, out, errOut
}

// splitAtEnds cuts text at its end lines (the lines that begin `{"run":`); it fails the test
// if anything follows the last one.
func splitAtEnds(t *testing.T, name, text string) []executed {
	t.Helper()
	var all []executed
	var lines []string
	for _, line := range strings.SplitAfter(text, "\n") {
		if !strings.HasPrefix(line, `{"run":`) {
			lines = append(lines, line)
			continue
		}
		var end endLine
		if err := json.Unmarshal([]byte(line), &end); err != nil || !strings.HasSuffix(line, "\n") {
			t.Fatalf("%s: malformed end line %q: %v", name, line, err)
		}
		all = append(all, executed{lines, end})
		lines = nil
	}
	if rest := strings.Join(lines, ""); rest != "" {
		t.Fatalf("%s: %q after the last end line", name, rest)
	}
	return all
}

// statuses reads the case lines of one request: each case's name and status.
func statuses(t *testing.T, lines []string) []string {
	t.Helper()
	var got []string
	for _, text := range lines {
		var line result.Line
		if err := json.Unmarshal([]byte(text), &line); err != nil {
			t.Fatalf("case line %q: %v", text, err)
		}
		got = append(got, line.Case+":"+line.Status)
	}
	return got
}

// TestExecutorRunsRequestsInOrder: each request prints its case lines, then its end line with
// the one-shot exit code; its stderr (failure reasons) comes before the same end line on stderr.
func TestExecutorRunsRequestsInOrder(t *testing.T) {
	port := servertest.Start(t, faults.Set{faults.AgainWrong: true})
	code, out, errOut := execute(t, request(t, 7, target(port, "greeter_say_hello", "stream_bidi")...)+
		request(t, 8, target(port, "greeter_say_hello_again", "bogus", "greeter_say_hello")...))
	if code != 0 || len(out) != 2 {
		t.Fatalf("exit %d, %d requests answered", code, len(out))
	}
	if got := statuses(t, out[0].lines); out[0].end != (endLine{Run: "7"}) ||
		!slices.Equal(got, []string{"greeter_say_hello:passed", "stream_bidi:passed"}) || len(errOut[0].lines) != 0 {
		t.Errorf("request 7: %q, end %+v, stderr %q", got, out[0].end, errOut[0].lines)
	}
	if got := statuses(t, out[1].lines); out[1].end != (endLine{Run: "8", ExitCode: 1}) ||
		!slices.Equal(got, []string{"greeter_say_hello_again:failed", "bogus:failed", "greeter_say_hello:passed"}) {
		t.Errorf("request 8: %q, end %+v", got, out[1].end)
	}
	stderr := strings.Join(errOut[1].lines, "")
	if !strings.Contains(stderr, "SayHelloAgain") || !strings.Contains(stderr, "unknown test case: bogus") {
		t.Errorf("request 8's stderr %q lacks its failures", stderr)
	}
}

// TestExecutorBadFlags: a request with bad flags (load mode and -help included) ends with exit
// code 2 and the one-line reason, printing no case line; the requests after it still run.
func TestExecutorBadFlags(t *testing.T) {
	bad := [][]string{
		{"--test_case=greeter_say_hello"},
		{"--server_port=1", "--test_case=greeter_say_hello", "--no_such_flag"},
		{"--server_port=abc", "--test_case=greeter_say_hello"},
		{"--server_port=1", "--test_case=greeter_say_hello", "--client_fault=nope"},
		{"--server_port=1", "--bench=unary"},
		{"--server_port=1", "--bench=unary", "--bench_calls=5"},
		{"--server_port=1", "--test_case=greeter_say_hello", "--executor"},
		{"--server_port=1", "--test_case=greeter_say_hello", "--use_tls=true", "--client_cert_file=certs/client.pem"},
	}
	var input strings.Builder
	for i, args := range bad {
		input.WriteString(request(t, i, args...))
	}
	port := servertest.Start(t, nil)
	input.WriteString(request(t, len(bad), target(port, "greeter_say_hello")...))
	code, out, errOut := execute(t, input.String())
	if code != 0 || len(out) != len(bad)+1 {
		t.Fatalf("exit %d, %d requests answered", code, len(out))
	}
	for i, args := range bad {
		end := out[i].end
		if end.Run != json.Number(strconv.Itoa(i)) || end.ExitCode != 2 || end.Error == "" || strings.Contains(end.Error, "\n") ||
			len(out[i].lines) != 0 || !slices.Equal(errOut[i].lines, []string{"client: " + end.Error + "\n"}) {
			t.Errorf("%q: end %+v, stdout %q, stderr %q", args, end, out[i].lines, errOut[i].lines)
		}
	}
	if !strings.Contains(out[4].end.Error, "executor mode") {
		t.Errorf("--bench: %q does not say that executor mode takes no load mode", out[4].end.Error)
	}
	if last := out[len(bad)]; last.end.ExitCode != 0 || !slices.Equal(statuses(t, last.lines), []string{"greeter_say_hello:passed"}) {
		t.Errorf("the request after the bad ones: %q, end %+v", last.lines, last.end)
	}
}

// TestExecutorMalformedLines: a line that is not a request gets exit code 2 and a reason, with
// its run when it has a numeric one, else -1; the executor goes on reading.
func TestExecutorMalformedLines(t *testing.T) {
	lines := []struct {
		line, run string
	}{
		{"not json", "-1"},
		{"", "-1"},
		{`[1,2]`, "-1"},
		{`null`, "-1"},
		{`{"args":["--server_port=1"]}`, "-1"},
		{`{"run":"7","args":["--server_port=1"]}`, "-1"},
		{`{"run":7}`, "7"},
		{`{"run":8,"args":"--server_port=1"}`, "8"},
		{`{"run":9,"args":[1]}`, "9"},
		{`{"run":10,"args":null}`, "10"},
		{`{"run":11,"args":["--server_port=1"]} trailing`, "-1"},
	}
	var input strings.Builder
	for _, l := range lines {
		input.WriteString(l.line + "\n")
	}
	// An unknown case fails without a server: this request shows that reading went on.
	input.WriteString(request(t, 12, "--server_port=1", "--test_case=bogus"))
	code, out, _ := execute(t, input.String())
	if code != 0 || len(out) != len(lines)+1 {
		t.Fatalf("exit %d, %d end lines for %d lines", code, len(out), len(lines)+1)
	}
	for i, l := range lines {
		if end := out[i].end; end.Run != json.Number(l.run) || end.ExitCode != 2 || !strings.HasPrefix(end.Error, "not a request") || len(out[i].lines) != 0 {
			t.Errorf("%q: end %+v, stdout %q; want run %s", l.line, end, out[i].lines, l.run)
		}
	}
	if last := out[len(lines)]; last.end != (endLine{Run: "12", ExitCode: 1}) || !slices.Equal(statuses(t, last.lines), []string{"bogus:failed"}) {
		t.Errorf("the request after the malformed lines: %q, end %+v", last.lines, last.end)
	}
}

// TestExecutorClientFaultIsPerRequest: --client_fault=no-checks passes a case the server's
// fault breaks in its own request only.
func TestExecutorClientFaultIsPerRequest(t *testing.T) {
	args := target(servertest.Start(t, faults.Set{faults.StreamTruncate: true}), "stream_server")
	code, out, _ := execute(t, request(t, 1, args...)+request(t, 2, append(args, "--client_fault=no-checks")...)+request(t, 3, args...))
	if code != 0 || len(out) != 3 {
		t.Fatalf("exit %d, %d requests answered", code, len(out))
	}
	for i, want := range []string{"failed", "passed", "failed"} {
		if got := statuses(t, out[i].lines); !slices.Equal(got, []string{"stream_server:" + want}) || (out[i].end.ExitCode == 0) != (want == "passed") {
			t.Errorf("request %d: %q, end %+v; want %s", i+1, got, out[i].end, want)
		}
	}
}

// TestExecutorTransportIsPerRequest: the TLS flags of one request do not apply to the next, in
// either direction.
func TestExecutorTransportIsPerRequest(t *testing.T) {
	port := servertest.Start(t, nil, grpc.Creds(transporttest.ServerCreds(t, "tls")))
	args := append(target(port, "empty_unary"), "--rpc_timeout_ms=1000")
	tls := append(slices.Clone(args), transporttest.ClientArgs("tls")...)
	code, out, _ := execute(t, request(t, 1, tls...)+request(t, 2, args...)+request(t, 3, tls...))
	if code != 0 || len(out) != 3 {
		t.Fatalf("exit %d, %d requests answered", code, len(out))
	}
	for i, want := range []int{0, 1, 0} {
		if out[i].end.ExitCode != want || len(out[i].lines) != 1 {
			t.Errorf("request %d: %q, end %+v; want exit code %d", i+1, out[i].lines, out[i].end, want)
		}
	}
}

// TestExecutorCasesFileIsPerRequest: a request's --cases_file runs its scripted cases through
// the generic executor, and is forgotten by the next request.
func TestExecutorCasesFileIsPerRequest(t *testing.T) {
	args := target(servertest.Start(t, nil), "unary_error_details", "greeter_say_hello")
	scripted := append(slices.Clone(args), "--cases_file=test/fixtures/scripted-sample.json")
	code, out, _ := execute(t, request(t, 1, scripted...)+request(t, 2, args...))
	if code != 0 || len(out) != 2 {
		t.Fatalf("exit %d, %d requests answered", code, len(out))
	}
	if got := statuses(t, out[0].lines); out[0].end.ExitCode != 0 || !slices.Equal(got, []string{"unary_error_details:passed", "greeter_say_hello:passed"}) ||
		!strings.Contains(out[0].lines[0], `"observed":{`) {
		t.Errorf("with the cases file: %q, end %+v", out[0].lines, out[0].end)
	}
	if got := statuses(t, out[1].lines); out[1].end.ExitCode != 1 || !slices.Equal(got, []string{"unary_error_details:failed", "greeter_say_hello:passed"}) {
		t.Errorf("without it: %q, end %+v", out[1].lines, out[1].end)
	}
}

// TestExecutorServerUnixSocketIsPerRequest: a request's --server_unix_socket is what its
// scripted cases' channel.target names {unix_socket}: the call goes over the server's Unix
// socket (RequestInfo's peer unix:@, the authority grpc-go derives, localhost), or, under
// --client_fault=scripted-target-ignored, over --server_host:--server_port. The next request,
// without the flag, cannot run such a case.
func TestExecutorServerUnixSocketIsPerRequest(t *testing.T) {
	socket := servertest.SocketPath(t)
	port := servertest.Serve(t, "--port=0", "--ipv6_loopback=true", "--unix_socket="+socket)
	casesFile := filepath.Join(t.TempDir(), "cases.json")
	if err := os.WriteFile(casesFile, []byte(`{"cases":{
		"via_unix":{"method":"Unary","channel":{"target":"unix:{unix_socket}"},"requests":[{"script":{}}]},
		"via_ipv6":{"method":"Unary","channel":{"target":"[::1]:{port}","authority":"example.com"},"requests":[{"script":{}}]}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append(target(port, "via_unix", "via_ipv6"), "--cases_file="+casesFile)
	withSocket := append(slices.Clone(args), "--server_unix_socket="+socket)
	code, out, errOut := execute(t, request(t, 1, withSocket...)+request(t, 2, append(slices.Clone(withSocket), "--client_fault=scripted-target-ignored")...)+
		request(t, 3, args...))
	if code != 0 || len(out) != 3 {
		t.Fatalf("exit %d, %d requests answered", code, len(out))
	}
	for i, c := range []struct {
		exit     int
		statuses []string
		want     [][]string // in each case line
	}{
		{0, []string{"via_unix:passed", "via_ipv6:passed"}, [][]string{
			{`"authority":"localhost"`, `"peer":"unix:@"`},
			{`"authority":"example.com"`, `"peer":"tcp:[::1]:`}}},
		{0, []string{"via_unix:passed", "via_ipv6:passed"}, [][]string{
			{`"authority":"127.0.0.1:` + strconv.Itoa(port) + `"`, `"peer":"tcp:127.0.0.1:`},
			{`"authority":"example.com"`, `"peer":"tcp:127.0.0.1:`}}},
		{1, []string{"via_unix:failed", "via_ipv6:passed"}, [][]string{
			{`names {unix_socket}, and the client was given no --server_unix_socket`},
			{`"peer":"tcp:[::1]:`}}},
	} {
		if got := statuses(t, out[i].lines); out[i].end.ExitCode != c.exit || !slices.Equal(got, c.statuses) {
			t.Errorf("request %d: %q, end %+v, stderr %q", i+1, got, out[i].end, errOut[i].lines)
			continue
		}
		for j, wants := range c.want {
			for _, want := range wants {
				if !strings.Contains(out[i].lines[j], want) {
					t.Errorf("request %d: %s lacks %s", i+1, out[i].lines[j], want)
				}
			}
		}
	}
}

// TestExecutorEndOfInput: at the end of stdin the executor returns 0, after running a last
// request that has no newline; with no request it prints nothing.
func TestExecutorEndOfInput(t *testing.T) {
	if code, out, _ := execute(t, ""); code != 0 || len(out) != 0 {
		t.Errorf("no input: exit %d, %d end lines", code, len(out))
	}
	code, out, _ := execute(t, strings.TrimSuffix(request(t, 4, "--server_port=1", "--test_case=bogus"), "\n"))
	if code != 0 || len(out) != 1 || out[0].end != (endLine{Run: "4", ExitCode: 1}) {
		t.Errorf("a last line without newline: exit %d, %+v", code, out)
	}
}

// TestExecutorStopsWhenStdinFails: a read error other than the end of stdin stops the
// executor with exit code 1, after the requests read before it.
func TestExecutorStopsWhenStdinFails(t *testing.T) {
	input := io.MultiReader(strings.NewReader(request(t, 1, "--server_port=1", "--test_case=bogus")), failingReader{})
	var stdout, stderr strings.Builder
	if code := Execute(input, &stdout, &stderr); code != 1 || !strings.HasSuffix(stdout.String(), `{"run":1,"exit_code":1}`+"\n") ||
		!strings.Contains(stderr.String(), "reading the requests") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestRecoveredPanic: a panic in a request is exit code 1 with the panic on stderr.
func TestRecoveredPanic(t *testing.T) {
	var stderr strings.Builder
	code, reason := recovered(&stderr, func() (int, string) { panic("boom") })
	if code != 1 || reason != "" || !strings.HasPrefix(stderr.String(), "client: panic: boom\n") {
		t.Errorf("exit %d, reason %q, stderr %q", code, reason, stderr.String())
	}
	if code, reason := recovered(&stderr, func() (int, string) { return 2, "why" }); code != 2 || reason != "why" {
		t.Errorf("without a panic: exit %d, reason %q", code, reason)
	}
}

func TestExecutorMode(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		executor bool
		bad      bool
	}{
		{nil, false, false},
		{[]string{"--server_port=1", "--test_case=executor"}, false, false},
		{[]string{"--executor"}, true, false},
		{[]string{"-executor"}, true, false},
		{[]string{"--executor=true"}, true, false},
		{[]string{"--executor=false"}, false, true},
		{[]string{"--executor", "--server_port=1"}, false, true},
		{[]string{"--server_port=1", "--executor"}, false, true},
		{[]string{"--executor", "--executor"}, false, true},
		{[]string{"--executor", "extra"}, false, true},
		{[]string{"--executor", "-help"}, false, true},
	} {
		executor, err := ExecutorMode(tc.args)
		if executor != tc.executor || (err != nil) != tc.bad {
			t.Errorf("%q: executor %v, error %v", tc.args, executor, err)
		}
	}
}

// TestExecutorLargeCasesFile: a cases file holding a request of more than 4 MiB (base64 in the
// JSON) is read, the request sent and its echo reported, in executor mode, with a server and a
// client whose limits are lifted (scripted-limits-ignored, scripted-client-limits-ignored).
func TestExecutorLargeCasesFile(t *testing.T) {
	data := make([]byte, 5<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	encoded, _ := json.Marshal(data) // base64
	file := filepath.Join(t.TempDir(), "cases.json")
	content := `{"cases":{"large":{"method":"Unary","requests":[{"script":{},"values":{"by":` + string(encoded) + `}}]}}}`
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	port := servertest.Start(t, faults.Set{faults.ScriptedLimitsIgnored: true})
	args := append(target(port, "large"), "--cases_file="+file, "--client_fault=scripted-client-limits-ignored")
	code, out, _ := execute(t, request(t, 1, args...))
	if code != 0 || len(out) != 1 || out[0].end.ExitCode != 0 || len(out[0].lines) != 1 {
		t.Fatalf("exit %d, %+v", code, out)
	}
	sum := sha256.Sum256(data)
	want := fmt.Sprintf(`"by":{"$sha256":"%x","$length":%d}`, sum, len(data))
	if line := out[0].lines[0]; !strings.Contains(line, `"status":{"code":0,`) || !strings.Contains(line, want) {
		t.Errorf("%.1000s; want the status OK and %s", line, want)
	}
}

// TestExecutorRunTokens: in executor mode each run of a case draws its own {run} token, so that
// a follow-up's report_call names the call of its own run: two runs of the same case each get
// their own call's record (completed), with different call ids, and the result line carries
// "concurrent" and "followups".
func TestExecutorRunTokens(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cases.json")
	content := `{"cases":{"recorded":{"method":"Unary","concurrent":2,"requests":[{"script":{"call_id":"c-{run}","replies":[{"values":{"s":"{run}"}}]}}],
		"followups":[{"method":"Unary","requests":[{"script":{"report_call":"c-{run}"}}]}]}}}`
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	port := servertest.Start(t, nil)
	args := append(target(port, "recorded"), "--cases_file="+file)
	code, out, _ := execute(t, request(t, 1, args...)+request(t, 2, args...))
	if code != 0 || len(out) != 2 {
		t.Fatalf("exit %d, %+v", code, out)
	}
	tokens := map[string]bool{}
	for i, run := range out {
		if run.end.ExitCode != 0 || len(run.lines) != 1 {
			t.Fatalf("run %d: %+v", i, run)
		}
		var line struct {
			Observed struct {
				Responses []struct {
					Values struct{ S string }
				}
				Concurrent []json.RawMessage
				Followups  []struct {
					Responses []struct {
						RequestInfo struct {
							Requests []struct {
								Script struct {
									ReportCall string `json:"report_call"`
								}
							}
							ReportedCall map[string]any `json:"reported_call"`
						} `json:"request_info"`
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(run.lines[0]), &line); err != nil {
			t.Fatal(err)
		}
		o := line.Observed
		if len(o.Responses) != 1 || len(o.Concurrent) != 1 || len(o.Followups) != 1 || len(o.Followups[0].Responses) != 1 {
			t.Fatalf("run %d: %.1000s", i, run.lines[0])
		}
		token := o.Responses[0].Values.S
		info := o.Followups[0].Responses[0].RequestInfo
		if len(token) != 16 || info.Requests[0].Script.ReportCall != "c-"+token ||
			fmt.Sprint(info.ReportedCall) != "map[ended:completed replies_sent:1]" {
			t.Errorf("run %d: token %q, the follow-up %+v", i, token, info)
		}
		tokens[token] = true
	}
	if len(tokens) != 2 {
		t.Errorf("tokens %v, want one per run", tokens)
	}
}
