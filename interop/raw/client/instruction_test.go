package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// A case the client cannot run is "failed", with the reason; the others still run.
func TestMalformedInstructions(t *testing.T) {
	cases := []struct {
		inst any
		why  string // the error, or its beginning when it ends with "…"
	}{
		{[]any{}, "the instruction: not a JSON object: …"},
		{map[string]any{"method": "Unary"}, "the instruction has no raw_request (the raw client runs raw_request instructions only)"},
		{map[string]any{"raw_request": []any{}}, "raw_request: not a JSON object: …"},
		{map[string]any{"raw_request": map[string]any{"actions": []any{}, "x": 1}}, `raw_request: unknown member "x" (it has actions only)`},
		{map[string]any{"raw_request": map[string]any{}}, "raw_request: no actions"},
		{map[string]any{"raw_request": map[string]any{"actions": "x"}}, "raw_request.actions: not an array"},
		{map[string]any{"raw_request": map[string]any{"actions": nil}}, "raw_request.actions: not an array"},
		{rawCase(0, map[string]any{"headers": []any{}}, map[string]any{"sleep_ms": 1}, map[string]any{"headers": []any{}, "foo": 1}),
			`raw_request.actions[2]: unknown member "foo" (a headers action has headers, end_stream, split)`},
		{rawCase(0, map[string]any{}), "raw_request.actions[0]: an action has exactly one of headers, message, data, rst_stream, goaway, sleep_ms, wait (this one has 0: )"},
		{rawCase(0, map[string]any{"rst_stream": 1, "data": "00"}), "raw_request.actions[0]: an action has exactly one of headers, message, data, rst_stream, goaway, sleep_ms, wait (this one has 2: data, rst_stream)"},
		{rawCase(0, map[string]any{"close": true}), "raw_request.actions[0]: an action has exactly one of …"},
		{rawCase(0, map[string]any{"goaway": 0, "last_stream_id": 1}), `raw_request.actions[0]: unknown member "last_stream_id" (a goaway action has goaway, debug)`},
		{rawCase(0, map[string]any{"message": "abc"}), "raw_request.actions[0]: message: not hex: encoding/hex: odd length hex string"},
		{rawCase(0, map[string]any{"data": "zz"}), "raw_request.actions[0]: data: not hex: …"},
		{rawCase(0, map[string]any{"headers": [][]string{{"a"}}}), "raw_request.actions[0]: headers[0]: a header is [NAME, VALUE], this one has 1 strings"},
		{rawCase(0, map[string]any{"headers": []any{[]any{"a", 1}}}), "raw_request.actions[0]: headers: json: …"},
		{rawCase(0, map[string]any{"headers": []any{}, "split": -1}), "raw_request.actions[0]: split: json: …"},
		{rawCase(0, map[string]any{"headers": []any{}, "end_stream": "yes"}), "raw_request.actions[0]: end_stream: json: …"},
		{rawCase(0, map[string]any{"message": "", "length": -1}), "raw_request.actions[0]: length: json: …"},
		{rawCase(0, map[string]any{"message": "", "frame_size": 1.5}), "raw_request.actions[0]: frame_size: json: …"},
		{rawCase(0, map[string]any{"rst_stream": "CANCEL"}), "raw_request.actions[0]: rst_stream: json: …"},
		{rawCase(0, map[string]any{"goaway": 0, "debug": 1}), "raw_request.actions[0]: debug: json: …"},
		{rawCase(0, map[string]any{"sleep_ms": -5}), "raw_request.actions[0]: sleep_ms: json: …"},
		{rawCase(0, map[string]any{"wait": "trailers"}), `raw_request.actions[0]: wait: "trailers" (the one thing to wait for is "headers")`},
		{map[string]any{"raw_request": map[string]any{"actions": []any{"x"}}}, "raw_request.actions[0]: not a JSON object: …"},
		{map[string]any{"raw_request": map[string]any{"actions": []any{}}, "timeout_ms": 0}, "timeout_ms: 0 (a deadline is 1 ms or more)"},
		{map[string]any{"raw_request": map[string]any{"actions": []any{}}, "timeout_ms": "5"}, "timeout_ms: json: …"},
	}
	files := map[string]any{}
	var names []string
	for i, c := range cases {
		name := "bad" + itoa(i)
		files[name] = c.inst
		names = append(names, name)
	}
	code, lines, log := runClient(t, "--server_port=1", "--test_case="+strings.Join(names, ","), "--cases_file="+writeCases(t, files))
	if code != 1 || len(lines) != len(cases) {
		t.Fatalf("exit code %d with %d lines, want 1 with %d", code, len(lines), len(cases))
	}
	for i, c := range cases {
		l := lines[i]
		ok := l.Error == c.why
		if prefix, cut := strings.CutSuffix(c.why, "…"); cut {
			ok = strings.HasPrefix(l.Error, prefix) && len(l.Error) > len(prefix)
		}
		if l.Case != names[i] || l.Status != "failed" || !ok || l.Observed.Raw != nil {
			t.Errorf("%s: %s, want failed: %s", names[i], l.line, c.why)
		}
		if !strings.Contains(log, "case "+names[i]+": failed: "+l.Error+"\n") {
			t.Errorf("%s: the reason is not in the log", names[i])
		}
	}
}

// What the raw client does not use, other clients do: it is ignored, and it is parsed as the
// runner writes it.
func TestInstructionParses(t *testing.T) {
	doc := `{"method":"Unary","metadata":{"a":"b"},"requests":[{}],"timeout_ms":1234,"raw_request":{"actions":[
		{"headers":[[":method","POST"],["X-A","{authority}"]],"end_stream":false,"split":3},
		{"message":"0A0b","compressed":true,"length":7,"frame_size":2,"end_stream":true},
		{"message":""},
		{"data":"","end_stream":true},
		{"rst_stream":8},
		{"goaway":2,"debug":"why"},
		{"sleep_ms":20},
		{"wait":"headers"}]}}`
	inst, err := parseInstruction([]byte(doc), false)
	if err != nil {
		t.Fatal(err)
	}
	if inst.timeout.Milliseconds() != 1234 || len(inst.actions) != 8 {
		t.Fatalf("%+v", inst)
	}
	a := inst.actions
	if a[0].Kind != "headers" || a[0].Split != 3 || a[0].EndStream || len(a[0].Fields) != 2 || a[0].Fields[1].Name != "X-A" || a[0].Fields[1].Value != "{authority}" {
		t.Errorf("headers: %+v", a[0])
	}
	if a[1].Kind != "message" || hex.EncodeToString(a[1].Payload) != "01000000070a0b" || a[1].FrameSize != 2 || !a[1].EndStream {
		t.Errorf("message: %+v", a[1])
	}
	if hex.EncodeToString(a[2].Payload) != "0000000000" || a[2].FrameSize != 0 || a[2].EndStream {
		t.Errorf("empty message: %+v", a[2])
	}
	if a[3].Kind != "data" || len(a[3].Payload) != 0 || !a[3].EndStream {
		t.Errorf("data: %+v", a[3])
	}
	if a[4].Code != 8 || a[5].Code != 2 || a[5].Debug != "why" || a[6].Sleep.Milliseconds() != 20 || a[7].Kind != "wait" {
		t.Errorf("rst_stream, goaway, sleep_ms, wait: %+v", a[4:])
	}
	// With the fault, raw_request is not read at all.
	inst, err = parseInstruction([]byte(`{"timeout_ms":null,"raw_request":7}`), true)
	if err != nil || inst.timeout != 0 || inst.actions != nil {
		t.Errorf("with the fault: %+v, %v", inst, err)
	}
}

func TestParseMessages(t *testing.T) {
	big := make([]byte, 65537)
	for i := range big {
		big[i] = byte(i)
	}
	sum := sha256.Sum256(big)
	bigMsg := append([]byte{1, 0, 1, 0, 1}, big...)
	long := make([]byte, 5+100)
	long[4] = 200 // 200 announced, 100 there
	for _, c := range []struct {
		name string
		data []byte
		want string // the report's message members
	}{
		{"one frame of nothing", []byte{}, `{"data_bytes":0}`},
		{"empty message", []byte{0, 0, 0, 0, 0}, `{"messages":[{"compressed":false,"hex":""}],"data_bytes":5}`},
		{"two", []byte{0, 0, 0, 0, 1, 'a', 1, 0, 0, 0, 2, 'b', 'c'},
			`{"messages":[{"compressed":false,"hex":"61"},{"compressed":true,"hex":"6263"}],"data_bytes":13}`},
		{"flag 0x80", []byte{0x80, 0, 0, 0, 0}, `{"messages":[{"compressed":false,"flag":128,"hex":""}],"data_bytes":5}`},
		{"a partial prefix", []byte{0, 0, 0}, `{"data_left":"000000","data_left_length":3,"data_bytes":3}`},
		{"a partial body", []byte{0, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 3, 'x'},
			`{"messages":[{"compressed":false,"hex":"61"}],"data_left":"000000000378","data_left_length":6,"data_bytes":12}`},
		{"a long partial body", long, `{"data_left":"` + hex.EncodeToString(long[:64]) + `","data_left_length":105,"data_bytes":105}`},
		{"over 65536 bytes", bigMsg, `{"messages":[{"compressed":true,"length":65537,"sha256":"` + hex.EncodeToString(sum[:]) + `"}],"data_bytes":65542}`},
		{"65536 bytes", append([]byte{0, 0, 1, 0, 0}, big[:65536]...),
			`{"messages":[{"compressed":false,"hex":"` + hex.EncodeToString(big[:65536]) + `"}],"data_bytes":65541}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := record{data: c.data, dataFrames: 1, end: "end_stream"}
			doc, err := json.Marshal(rec.report())
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(doc, &got); err != nil {
				t.Fatal(err)
			}
			delete(got, "end")
			delete(got, "ms")
			wantJSON(t, "report", got, c.want)
		})
	}
}

func TestCasesFile(t *testing.T) {
	t.Run("unknown case", func(t *testing.T) {
		code, lines, _ := runClient(t, "--server_port=1", "--test_case=nope,bad", "--cases_file="+writeCases(t, map[string]any{"bad": map[string]any{}}))
		if code != 1 || len(lines) != 2 || lines[0].Case != "nope" || lines[0].Status != "failed" || lines[0].Error != "unknown test case: nope" ||
			lines[1].Case != "bad" || lines[1].Status != "failed" {
			t.Errorf("exit code %d, lines %+v", code, lines)
		}
	})
	t.Run("no cases file", func(t *testing.T) {
		code, lines, _ := runClient(t, "--server_port=1", "--test_case=a")
		if code != 1 || len(lines) != 1 || lines[0].Error != "unknown test case: a (no --cases_file)" {
			t.Errorf("exit code %d, lines %+v", code, lines)
		}
	})
	for _, c := range []struct{ name, doc, why string }{
		{"missing", "", "cannot read the cases file: "},
		{"not JSON", "{", " is not {\"cases\": {…}}: "},
		{"no cases", "{}", " has no cases object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cases.json")
			if c.doc != "" {
				writeFile(t, path, c.doc)
			}
			code, lines, _ := runClient(t, "--server_port=1", "--test_case=a,b", "--cases_file="+path)
			if code != 1 || len(lines) != 2 {
				t.Fatalf("exit code %d, lines %+v; want 1 and two failed cases", code, lines)
			}
			for i, l := range lines {
				if l.Case != []string{"a", "b"}[i] || l.Status != "failed" || !strings.Contains(l.Error, c.why) {
					t.Errorf("line %s, want failed: …%s…", l.line, c.why)
				}
			}
		})
	}
}
