package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"interopraw/internal/rawtest"
)

// clientEnv makes the test binary run the client's main (cli_test.go runs it as a process).
const clientEnv = "INTEROPRAW_TEST_RUN_CLIENT"

func TestMain(m *testing.M) { rawtest.Main(m, clientEnv, run) }

// writeCases writes a cases file {"cases": cases} and returns its path.
func writeCases(t *testing.T, cases map[string]any) string {
	t.Helper()
	doc, err := json.Marshal(map[string]any{"cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cases.json")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// rawCase is an instruction with these actions (and a timeout_ms when ms > 0).
func rawCase(ms int, actions ...map[string]any) map[string]any {
	if actions == nil {
		actions = []map[string]any{}
	}
	inst := map[string]any{"raw_request": map[string]any{"actions": actions}}
	if ms > 0 {
		inst["timeout_ms"] = ms
	}
	return inst
}

// result is one case line of the client, parsed.
type result struct {
	Case     string  `json:"case"`
	Status   string  `json:"status"`
	MS       float64 `json:"ms"`
	Error    string  `json:"error"`
	Observed struct {
		Raw map[string]any `json:"raw"`
	} `json:"observed"`
	line string
}

// runClient runs the client in this process with these flags and returns its exit code, its
// case lines and its log (shown when the test fails).
func runClient(t *testing.T, args ...string) (int, []result, string) {
	t.Helper()
	var stdout bytes.Buffer
	stderr := &rawtest.Buffer{}
	done := make(chan int, 1)
	go func() { done <- run(args, &stdout, stderr) }()
	var code int
	select {
	case code = <-done:
	case <-time.After(rawtest.HangGuard):
		t.Fatalf("the client did not return in %v; log:\n%s", rawtest.HangGuard, stderr.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("client log:\n%s", stderr.String())
		}
	})
	return code, parseLines(t, stdout.String()), stderr.String()
}

// parseLines parses the client's stdout: one JSON case line per line, nothing else.
func parseLines(t *testing.T, out string) []result {
	t.Helper()
	var results []result
	for _, line := range strings.SplitAfter(out, "\n") {
		if line == "" {
			continue
		}
		if !strings.HasSuffix(line, "\n") {
			t.Fatalf("stdout ends without a newline: %q", out)
		}
		var r result
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("stdout line %q: %v", line, err)
		}
		r.line = strings.TrimSuffix(line, "\n")
		results = append(results, r)
	}
	return results
}

// runCase runs one case named "c" with this instruction against 127.0.0.1:port and returns
// its line, which must be "passed" with an observation whose ms is the line's.
func runCase(t *testing.T, port string, inst any, flags ...string) result {
	t.Helper()
	args := append([]string{"--server_port=" + port, "--test_case=c",
		"--cases_file=" + writeCases(t, map[string]any{"c": inst})}, flags...)
	code, lines, _ := runClient(t, args...)
	if len(lines) != 1 {
		t.Fatalf("%d case lines, want 1: %+v", len(lines), lines)
	}
	r := lines[0]
	if code != 0 || r.Case != "c" || r.Status != "passed" || r.Observed.Raw == nil {
		t.Fatalf("exit code %d, line %s; want a passed case c with observed.raw", code, r.line)
	}
	if ms, ok := r.Observed.Raw["ms"].(float64); !ok || ms != r.MS {
		t.Errorf("observed.raw.ms %v, want the line's ms %v", r.Observed.Raw["ms"], r.MS)
	}
	return r
}

// wantJSON checks that got (decoded JSON) is the JSON text want.
func wantJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want for %s: %v", what, err)
	}
	if !reflect.DeepEqual(got, w) {
		g, _ := json.Marshal(got)
		t.Errorf("%s: %s, want %s", what, g, want)
	}
}

// wantRaw checks that observed.raw has exactly these members (ms aside), as JSON.
func wantRaw(t *testing.T, r result, want string) {
	t.Helper()
	got := map[string]any{}
	for k, v := range r.Observed.Raw {
		if k != "ms" {
			got[k] = v
		}
	}
	wantJSON(t, "observed.raw", got, want)
}

func portOf(addr string) string {
	i := strings.LastIndex(addr, ":")
	return addr[i+1:]
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

func newTestLogger(w io.Writer) *log.Logger { return log.New(w, "raw client: ", 0) }

func writeFile(t *testing.T, path, doc string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
}
