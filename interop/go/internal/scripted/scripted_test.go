package scripted_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "interopmatrix/gen/scripted"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/repo"
	"interopmatrix/internal/scripted"
	"interopmatrix/internal/servertest"
)

const timeout = 5 * time.Second

// sample is test/fixtures/scripted-sample.json.
func sample(t *testing.T) scripted.Cases {
	t.Helper()
	path, err := repo.InRoot("test/fixtures/scripted-sample.json")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := scripted.LoadCases(path)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// dial opens a channel to an in-process server with the faults f.
func dial(t *testing.T, f faults.Set) *grpc.ClientConn {
	t.Helper()
	port := servertest.Start(t, f)
	conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// observe runs one instruction and returns its observation as plain JSON values.
func observe(t *testing.T, conn *grpc.ClientConn, instruction json.RawMessage) map[string]any {
	t.Helper()
	obs, err := scripted.Execute(conn, instruction, timeout)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	return plain(t, obs)
}

// plain is an observation as the plain JSON values of its result line.
func plain(t *testing.T, obs any) map[string]any {
	t.Helper()
	data, err := json.Marshal(obs)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// at follows a path of object keys and list indexes; nil when it leads nowhere.
func at(v any, path ...any) any {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[p]
		case int:
			l, ok := v.([]any)
			if !ok || p >= len(l) {
				return nil
			}
			v = l[p]
		}
	}
	return v
}

// check compares at(v, path…) with want (compared as JSON).
func check(t *testing.T, v any, want any, path ...any) {
	t.Helper()
	got := at(v, path...)
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%v: got %s, want %s", path, g, w)
	}
}

func bytesHex(h string) map[string]any { return map[string]any{"$bytes": h} }

func pair(k string, v any) []any { return []any{k, v} }

// TestSampleObservations runs every case of the sample against a correct server.
func TestSampleObservations(t *testing.T) {
	cases := sample(t)
	conn := dial(t, nil)

	t.Run("unary_values", func(t *testing.T) {
		o := observe(t, conn, cases["unary_values"])
		v := at(o, "responses", 0, "values")
		check(t, o, map[string]any{"code": 0, "message": ""}, "status")
		check(t, v, "9007199254740993", "i64")
		check(t, v, "18446744073709551615", "u64")
		check(t, v, "-9223372036854775808", "s64")
		check(t, v, "9007199254740993", "f64")
		check(t, v, "-9007199254740993", "sf64")
		check(t, v, "-5", "i32")
		check(t, v, "NaN", "d")
		check(t, v, "-0", "f")
		check(t, v, "a\x00😀é", "s")
		check(t, v, bytesHex("00ff"), "by")
		check(t, v, 3, "color")
		check(t, v, []any{"1", "-9007199254740993"}, "packed_i64")
		check(t, v, map[string]any{"k": "9007199254740993"}, "str_i64")
		check(t, v, map[string]any{"-9007199254740993": "neg"}, "i64_str")
		check(t, v, map[string]any{"true": "yes"}, "bool_str")
		check(t, v, "0", "opt_i32") // explicit presence: set to 0 is reported
		check(t, v, "", "opt_s")
		check(t, v, "0", "choice_i32")
		check(t, v, []any{map[string]any{}, map[string]any{"i32": "1"}}, "children")
		check(t, v, "deep", "nested", "nested", "s")
		if _, ok := v.(map[string]any)["opt_b"]; ok {
			t.Error("opt_b reported, but it is not set")
		}
		// Duplicate metadata, value by value, in order.
		headers := at(o, "headers").([]any)
		for _, want := range [][]any{pair("x-h", "h1"), pair("x-h", "h2"), pair("x-hb-bin", bytesHex("0001")), pair("x-hb-bin", bytesHex("02"))} {
			if !containsPair(headers, want) {
				t.Errorf("headers %v lack %v", headers, want)
			}
		}
		if i, j := indexOf(headers, pair("x-h", "h1")), indexOf(headers, pair("x-h", "h2")); i > j {
			t.Errorf("headers %v: h2 before h1", headers)
		}
		check(t, o, []any{pair("x-t", "t1")}, "trailers")
		// RequestInfo: what the server received, in the one response of a call that ends OK
		// (not in the trailer x-scripted-request-info-bin).
		check(t, o, nil, "request_info")
		info := at(o, "responses", 0, "request_info")
		check(t, info, []any{
			map[string]any{"key": "x-a", "values": []any{"one", "two"}},
			map[string]any{"key": "x-b-bin", "binary_values": []any{bytesHex("00ff01")}},
		}, "headers")
		check(t, info, "-9007199254740993", "requests", 0, "values", "i64")
		check(t, info, bytesHex("00010203"), "requests", 0, "values", "by")
		check(t, info, 7, "requests", 0, "values", "color")
		if ms, err := strconv.Atoi(fmt.Sprint(at(info, "timeout_ms"))); err != nil || ms <= 0 || ms > 5000 {
			t.Errorf("request_info.timeout_ms = %v, want in (0, 5000]", at(info, "timeout_ms"))
		}
	})

	t.Run("unary_error_details", func(t *testing.T) {
		o := observe(t, conn, cases["unary_error_details"])
		check(t, o, map[string]any{"code": 3, "message": "bad: 100% ✓, done\nnext"}, "status")
		check(t, o, []any{pair("content-type", "application/grpc"), pair("x-before-error", "yes")}, "headers")
		check(t, o, []any{pair("x-t-bin", bytesHex("0001"))}, "trailers")
		st := at(o, "details", "status")
		check(t, st, "3", "code")
		check(t, st, "bad: 100% ✓, done\nnext", "message")
		check(t, st, map[string]any{
			"@type":            "type.googleapis.com/google.rpc.BadRequest",
			"field_violations": []any{map[string]any{"field": "name", "description": "empty"}},
		}, "details", 0)
		check(t, st, map[string]any{
			"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "R", "domain": "d.example", "metadata": map[string]any{"k": "v"},
		}, "details", 1)
		check(t, st, map[string]any{
			"@type": "type.googleapis.com/google.rpc.RetryInfo", "retry_delay": map[string]any{"seconds": "1", "nanos": "500000000"},
		}, "details", 2)
		check(t, o, "type.googleapis.com/google.rpc.ErrorInfo", "request_info", "requests", 0, "script", "details", 1, "@type")
	})

	t.Run("unary_contradicting_details", func(t *testing.T) {
		// grpc-go's client turns a details code that contradicts grpc-status into INTERNAL.
		o := observe(t, conn, cases["unary_contradicting_details"])
		check(t, o, 13, "status", "code")
		if msg := fmt.Sprint(at(o, "status", "message")); !strings.Contains(msg, "grpc-status-details-bin mismatch") {
			t.Errorf("status message %q", msg)
		}
		check(t, o, nil, "details")
	})

	t.Run("server_stream_then_error", func(t *testing.T) {
		o := observe(t, conn, cases["server_stream_then_error"])
		check(t, o, []any{
			map[string]any{"values": map[string]any{"i32": "1"}},
			map[string]any{"values": map[string]any{"i32": "2"}},
			map[string]any{"values": map[string]any{"i32": "3"}},
		}, "responses")
		check(t, o, map[string]any{"code": 10, "message": "aborted after 3"}, "status")
	})

	t.Run("client_stream_early_error", func(t *testing.T) {
		o := observe(t, conn, cases["client_stream_early_error"])
		check(t, o, map[string]any{"code": 9, "message": "early"}, "status")
		check(t, o, nil, "responses")
		check(t, o, nil, "headers") // trailers-only
		if n := len(at(o, "request_info", "requests").([]any)); n != 2 {
			t.Errorf("the server read %d requests, want 2", n)
		}
		if ms, err := strconv.Atoi(fmt.Sprint(at(o, "request_info", "timeout_ms"))); err != nil || ms <= 0 || ms > 3000 {
			t.Errorf("request_info.timeout_ms = %v, want in (0, 3000]", at(o, "request_info", "timeout_ms"))
		}
	})

	t.Run("bidi_cancel", func(t *testing.T) {
		o := observe(t, conn, cases["bidi_cancel"])
		check(t, o, []any{map[string]any{"values": map[string]any{"s": "first"}}}, "responses")
		check(t, o, 1, "status", "code")
		check(t, o, nil, "request_info")
	})

	t.Run("non_ascii_metadata", func(t *testing.T) {
		// grpc-go refuses the value before the call: a status error, INTERNAL.
		o := observe(t, conn, cases["non_ascii_metadata"])
		check(t, o, 13, "status", "code")
		check(t, o, nil, "headers")
		check(t, o, nil, "trailers")
	})

	t.Run("server_non_ascii_header", func(t *testing.T) {
		// A unary handler's grpc.SendHeader does not validate: the value goes out as UTF-8.
		o := observe(t, conn, cases["server_non_ascii_header"])
		check(t, o, 0, "status", "code")
		if !containsPair(at(o, "headers").([]any), pair("x-text", "café")) {
			t.Errorf("headers %v", at(o, "headers"))
		}
	})
}

// TestStreamingHandlerRefusesNonASCIIHeader: a streaming handler's SendHeader validates, so
// the call ends INTERNAL with the contract's message, naming the key.
func TestStreamingHandlerRefusesNonASCIIHeader(t *testing.T) {
	conn := dial(t, nil)
	o := observe(t, conn, json.RawMessage(`{"method":"BidiStream","requests":[{"script":{"headers":[{"key":"x-ok","values":["fine"]},{"key":"x-text","values":["café"]}]}}]}`))
	check(t, o, 13, "status", "code")
	msg := fmt.Sprint(at(o, "status", "message"))
	if !strings.HasPrefix(msg, "scripted: cannot send metadata x-text: ") || !strings.Contains(msg, "non-printable") {
		t.Errorf("status message %q", msg)
	}
}

// TestContradictingDetailsAreSent: the server does send details whose code differs from the
// status (grpc-status-details-bin as a trailer); the client library is what refuses them.
func TestContradictingDetailsAreSent(t *testing.T) {
	conn := dial(t, nil)
	for _, script := range []string{
		`{"code": 5, "message": "nf", "details_code": 7, "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "X"}]}`,
		`{"code": 0, "message": "ok", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "Y"}]}`,
	} {
		req := &pb.ScriptedRequest{}
		if err := protojson.Unmarshal([]byte(`{"script":`+script+`}`), req); err != nil {
			t.Fatal(err)
		}
		var trailer metadata.MD
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		_, err := pb.NewScriptedClient(conn).Unary(ctx, req, grpc.Trailer(&trailer))
		cancel()
		values := trailer["grpc-status-details-bin"]
		if len(values) != 1 {
			t.Fatalf("%s: trailer grpc-status-details-bin %q (err %v)", script, values, err)
		}
		st := &spb.Status{}
		if err := proto.Unmarshal([]byte(values[0]), st); err != nil {
			t.Fatal(err)
		}
		if want := req.GetScript().GetCode(); req.GetScript().DetailsCode != nil {
			want = req.GetScript().GetDetailsCode()
			if st.GetCode() != want || len(st.GetDetails()) != 1 {
				t.Errorf("%s: details %v", script, st)
			}
		} else if st.GetCode() != want || st.GetMessage() != "ok" {
			t.Errorf("%s: details %v", script, st)
		}
	}
}

// TestFaultsChangeTheObservations: each scripted-* fault changes what the client observes.
func TestFaultsChangeTheObservations(t *testing.T) {
	cases := sample(t)
	for _, tc := range []struct {
		fault faults.Name
		cases string
		check func(t *testing.T, o map[string]any)
	}{
		{faults.ScriptedStatusUnknown, "unary_error_details", func(t *testing.T, o map[string]any) {
			check(t, o, 2, "status", "code")
			check(t, o, "2", "details", "status", "code")
		}},
		{faults.ScriptedMessageMangled, "unary_error_details", func(t *testing.T, o map[string]any) {
			check(t, o, "bad: 100%% ?, done?next", "status", "message")
		}},
		{faults.ScriptedDetailsDropped, "unary_error_details", func(t *testing.T, o map[string]any) {
			check(t, o, 3, "status", "code")
			check(t, o, nil, "details")
		}},
		{faults.ScriptedTrailersAsHeaders, "unary_values", func(t *testing.T, o map[string]any) {
			if !containsPair(at(o, "headers").([]any), pair("x-t", "t1")) {
				t.Errorf("headers %v lack x-t", at(o, "headers"))
			}
			check(t, o, []any{}, "trailers")
		}},
		{faults.ScriptedHeadersDropped, "unary_values", func(t *testing.T, o map[string]any) {
			check(t, o, []any{pair("content-type", "application/grpc")}, "headers")
		}},
		{faults.ScriptedMetadataJoined, "unary_values", func(t *testing.T, o map[string]any) {
			headers := at(o, "headers").([]any)
			if !containsPair(headers, pair("x-h", "h1, h2")) || !containsPair(headers, pair("x-hb-bin", bytesHex("000102"))) {
				t.Errorf("headers %v", headers)
			}
		}},
		{faults.ScriptedInt64Double, "unary_values", func(t *testing.T, o map[string]any) {
			v := at(o, "responses", 0, "values")
			check(t, v, "9007199254740992", "i64")
			check(t, v, "9007199254740992", "f64")
			check(t, v, "18446744073709551615", "u64") // 2^64 saturates
			check(t, v, []any{"1", "-9007199254740992"}, "packed_i64")
			check(t, v, map[string]any{"k": "9007199254740992"}, "str_i64")
			check(t, v, map[string]any{"-9007199254740992": "neg"}, "i64_str")
			check(t, o, "-9007199254740993", "responses", 0, "request_info", "requests", 0, "values", "i64") // never RequestInfo
		}},
		{faults.ScriptedEnumShifted, "unary_values", func(t *testing.T, o map[string]any) {
			check(t, o, 4, "responses", 0, "values", "color")
		}},
		{faults.ScriptedMapKeysOff, "unary_values", func(t *testing.T, o map[string]any) {
			v := at(o, "responses", 0, "values")
			check(t, v, map[string]any{"k~": "9007199254740993"}, "str_i64")
			check(t, v, map[string]any{"-9007199254740992": "neg"}, "i64_str")
			check(t, v, map[string]any{"false": "yes"}, "bool_str")
		}},
		{faults.ScriptedFloatsFlushed, "unary_values", func(t *testing.T, o map[string]any) {
			check(t, o, nil, "responses", 0, "values", "d") // NaN -> 0: not present
			check(t, o, nil, "responses", 0, "values", "f") // -0 -> 0
		}},
		{faults.ScriptedBytesTruncated, "unary_values", func(t *testing.T, o map[string]any) {
			check(t, o, bytesHex("00"), "responses", 0, "values", "by")
		}},
		{faults.ScriptedStringsTruncated, "unary_values", func(t *testing.T, o map[string]any) {
			check(t, o, "a\x00😀", "responses", 0, "values", "s")
			check(t, o, "dee", "responses", 0, "values", "nested", "nested", "s")
		}},
		{faults.ScriptedPresenceLost, "unary_values", func(t *testing.T, o map[string]any) {
			v := at(o, "responses", 0, "values").(map[string]any)
			for _, name := range []string{"opt_i32", "opt_s", "choice_i32"} {
				if _, ok := v[name]; ok {
					t.Errorf("%s still present", name)
				}
			}
		}},
		{faults.ScriptedRepeatedTruncated, "unary_values", func(t *testing.T, o map[string]any) {
			v := at(o, "responses", 0, "values")
			check(t, v, []any{"1"}, "packed_i64")
			check(t, v, nil, "unpacked_i64")
			check(t, v, []any{map[string]any{}}, "children")
		}},
		{faults.ScriptedRepliesDropLast, "server_stream_then_error", func(t *testing.T, o map[string]any) {
			if n := len(at(o, "responses").([]any)); n != 2 {
				t.Errorf("%d responses, want 2", n)
			}
		}},
		{faults.ScriptedRequestInfoEmpty, "unary_values", func(t *testing.T, o map[string]any) {
			check(t, o, map[string]any{}, "responses", 0, "request_info")
			check(t, o, nil, "request_info")
		}},
		{faults.ScriptedPeerIPv4, "unary_values", func(t *testing.T, o map[string]any) {
			check(t, o, "ipv4:127.0.0.1:1", "responses", 0, "request_info", "peer")
			if authority, _ := at(o, "responses", 0, "request_info", "authority").(string); !strings.HasPrefix(authority, "127.0.0.1:") {
				t.Errorf("authority %q, want 127.0.0.1:PORT", authority)
			}
		}},
		{faults.ScriptedAuthorityDropped, "unary_values", func(t *testing.T, o map[string]any) {
			check(t, o, nil, "responses", 0, "request_info", "authority")
			if peer, _ := at(o, "responses", 0, "request_info", "peer").(string); !strings.HasPrefix(peer, "tcp:127.0.0.1:") {
				t.Errorf("peer %q, want tcp:127.0.0.1:PORT", peer)
			}
		}},
		{faults.ScriptedReadAll, "client_stream_early_error", func(t *testing.T, o map[string]any) {
			if n := len(at(o, "request_info", "requests").([]any)); n != 4 {
				t.Errorf("the server read %d requests, want 4", n)
			}
		}},
	} {
		t.Run(string(tc.fault), func(t *testing.T) {
			t.Parallel()
			tc.check(t, observe(t, dial(t, faults.Set{tc.fault: true}), cases[tc.cases]))
		})
	}
}

// TestRepliesDropLastStillAnswersUnary: a unary call still gets its one response (no values,
// but RequestInfo).
func TestRepliesDropLastStillAnswersUnary(t *testing.T) {
	o := observe(t, dial(t, faults.Set{faults.ScriptedRepliesDropLast: true}), sample(t)["unary_values"])
	if n := len(at(o, "responses").([]any)); n != 1 {
		t.Fatalf("%d responses, want 1", n)
	}
	check(t, o, nil, "responses", 0, "values")
	check(t, o, "-9007199254740993", "responses", 0, "request_info", "requests", 0, "values", "i64")
	check(t, o, nil, "request_info")
}

// unary makes a Unary call with the generated client and returns the response, the trailer
// x-scripted-request-info-bin decoded (nil without it) and the call's error.
func unary(t *testing.T, conn *grpc.ClientConn, request string) (*pb.ScriptedResponse, *pb.RequestInfo, error) {
	t.Helper()
	req := &pb.ScriptedRequest{}
	if err := protojson.Unmarshal([]byte(request), req); err != nil {
		t.Fatal(err)
	}
	var trailer metadata.MD
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := pb.NewScriptedClient(conn).Unary(ctx, req, grpc.Trailer(&trailer))
	values, ok := trailer["x-scripted-request-info-bin"]
	if !ok {
		return resp, nil, err
	}
	if len(values) != 1 {
		t.Fatalf("trailer x-scripted-request-info-bin has %d values", len(values))
	}
	info := &pb.RequestInfo{}
	if uerr := proto.Unmarshal([]byte(values[0]), info); uerr != nil {
		t.Fatal(uerr)
	}
	return resp, info, err
}

// TestRequestInfoPlace: a call that ends OK carries RequestInfo in its last response and no
// trailer x-scripted-request-info-bin; an error call carries the trailer.
func TestRequestInfoPlace(t *testing.T) {
	conn := dial(t, nil)

	resp, trailerInfo, err := unary(t, conn, `{"script":{"replies":[{"values":{"i32":7}}]},"values":{"s":"sent"}}`)
	if err != nil {
		t.Fatalf("OK unary call: %v", err)
	}
	if trailerInfo != nil {
		t.Errorf("OK unary call: trailer x-scripted-request-info-bin %v", trailerInfo)
	}
	if resp.GetValues().GetI32() != 7 {
		t.Errorf("OK unary call: values %v", resp.GetValues())
	}
	if reqs := resp.GetRequestInfo().GetRequests(); len(reqs) != 1 || reqs[0].GetValues().GetS() != "sent" {
		t.Errorf("OK unary call: request_info %v", resp.GetRequestInfo())
	}

	// Large requests: fine in the response, where a trailer would exceed the peers' limits.
	big := strings.Repeat("x", 200<<10)
	resp, trailerInfo, err = unary(t, conn, `{"script":{},"values":{"s":"`+big+`"}}`)
	if err != nil || trailerInfo != nil || resp.GetRequestInfo().GetRequests()[0].GetValues().GetS() != big {
		t.Errorf("OK unary call with a large request: err %v, trailer %v", err, trailerInfo != nil)
	}

	resp, trailerInfo, err = unary(t, conn, `{"script":{"code":5,"message":"nf"},"values":{"s":"sent"}}`)
	if err == nil || resp != nil {
		t.Fatalf("error unary call: %v, %v", resp, err)
	}
	if reqs := trailerInfo.GetRequests(); len(reqs) != 1 || reqs[0].GetValues().GetS() != "sent" {
		t.Errorf("error unary call: trailer x-scripted-request-info-bin %v", trailerInfo)
	}
	if trailerInfo.GetTimeoutMs() <= 0 {
		t.Errorf("error unary call: timeout_ms %d", trailerInfo.GetTimeoutMs())
	}
}

// TestRequestInfoInStreams: a streaming call that ends OK carries RequestInfo in the last
// response it sends (after scripted-replies-drop-last), reported inside "responses" with the
// scripts' Anys unpacked; without a response, or with an error, it is the trailer.
func TestRequestInfoInStreams(t *testing.T) {
	errorInfo := map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "R"}
	for _, method := range []string{"ServerStream", "BidiStream"} {
		t.Run(method, func(t *testing.T) {
			// Three replies, a trailer, details (an Any in the script) and the final code;
			// a bidi call sends a second request.
			requests, more := 1, ""
			if method == "BidiStream" {
				requests, more = 2, `,{"values":{"i32":9}}`
			}
			instruction := func(code int) json.RawMessage {
				return json.RawMessage(fmt.Sprintf(`{"method":%q,"requests":[{"script":{`+
					`"replies":[{"values":{"i32":1}},{"values":{"i32":2}},{"values":{"i32":3}}],"code":%d,`+
					`"trailers":[{"key":"x-t","values":["t"]}],`+
					`"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"R"}]}}%s]}`, method, code, more))
			}

			o := observe(t, dial(t, nil), instruction(0))
			responses, _ := at(o, "responses").([]any)
			if len(responses) != 3 {
				t.Fatalf("%d responses, want 3: %v", len(responses), o)
			}
			check(t, o, nil, "responses", 0, "request_info")
			check(t, o, nil, "responses", 1, "request_info")
			check(t, o, "3", "responses", 2, "values", "i32")
			check(t, o, errorInfo, "responses", 2, "request_info", "requests", 0, "script", "details", 0)
			if n := len(at(o, "responses", 2, "request_info", "requests").([]any)); n != requests {
				t.Errorf("request_info has %d requests, want %d", n, requests)
			}
			check(t, o, nil, "request_info")
			check(t, o, []any{pair("x-t", "t")}, "trailers")

			// scripted-replies-drop-last: the last reply actually sent carries it.
			o = observe(t, dial(t, faults.Set{faults.ScriptedRepliesDropLast: true}), instruction(0))
			check(t, o, nil, "responses", 2)
			check(t, o, nil, "responses", 0, "request_info")
			check(t, o, "2", "responses", 1, "values", "i32")
			check(t, o, errorInfo, "responses", 1, "request_info", "requests", 0, "script", "details", 0)
			check(t, o, nil, "request_info")

			// An error: the trailer, no response carries it.
			o = observe(t, dial(t, nil), instruction(10))
			check(t, o, 10, "status", "code")
			for i := 0; i < 3; i++ {
				check(t, o, nil, "responses", i, "request_info")
			}
			check(t, o, errorInfo, "request_info", "requests", 0, "script", "details", 0)

			// OK without any response: the trailer.
			o = observe(t, dial(t, nil), json.RawMessage(`{"method":"`+method+`","requests":[{"script":{},"values":{"i32":4}}]}`))
			check(t, o, 0, "status", "code")
			check(t, o, nil, "responses")
			check(t, o, "4", "request_info", "requests", 0, "values", "i32")
		})
	}
}

// TestDelayIgnored: under scripted-delay-ignored a call scripted to wait 3 s (in script.delay_ms,
// or in a reply's delay_ms) ends OK within a 500 ms deadline instead of DEADLINE_EXCEEDED.
func TestDelayIgnored(t *testing.T) {
	t.Parallel()
	for _, text := range []string{
		`{"method":"Unary","timeout_ms":500,"requests":[{"script":{"delay_ms":3000}}]}`,
		`{"method":"ServerStream","timeout_ms":500,"requests":[{"script":{"replies":[{"values":{"i32":1}},{"delay_ms":3000,"values":{"i32":2}}]}}]}`,
	} {
		correct := observe(t, dial(t, nil), json.RawMessage(text))
		check(t, correct, 4.0, "status", "code")
		faulty := observe(t, dial(t, faults.Set{faults.ScriptedDelayIgnored: true}), json.RawMessage(text))
		check(t, faulty, 0.0, "status", "code")
	}
}

// TestLenientClientFault: under --client_fault=scripted-lenient the executor drops the requests'
// values (a value protobuf-go refuses included) and cleans the text metadata, so the call is
// made; -bin metadata is unchanged. Without it, the same instruction is a local_error.
func TestLenientClientFault(t *testing.T) {
	text := json.RawMessage(`{"method":"Unary","metadata":[{"key":"X-Text","value":"café ✓"},{"key":"x-data-bin","value":{"$bytes":"00ff"}},{"key":":path","value":"/x"}],` +
		`"requests":[{"script":{"replies":[{"values":{"s":"ok"}}]},"values":{"i64":"12abc"}}]}`)
	conn := dial(t, nil)
	obs, err := scripted.Execute(conn, text, timeout)
	if err != nil || obs.LocalError == "" || obs.Status != nil {
		t.Fatalf("without the fault: got %+v, %v; want a local_error only", obs, err)
	}

	lenient, err := scripted.ExecuteWith(conn, text, timeout, scripted.Options{Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(lenient)
	var o map[string]any
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatal(err)
	}
	check(t, o, nil, "local_error")
	check(t, o, map[string]any{"code": 0, "message": ""}, "status")
	check(t, o, "ok", "responses", 0, "values", "s")
	info := at(o, "responses", 0, "request_info")
	check(t, info, []any{
		map[string]any{"key": "x-data-bin", "binary_values": []any{bytesHex("00ff")}},
		map[string]any{"key": "x-text", "values": []any{"caf "}},
	}, "headers")
	requests, _ := at(info, "requests").([]any)
	if len(requests) != 1 {
		t.Fatalf("request_info.requests = %v, want one request", at(info, "requests"))
	}
	check(t, requests[0], nil, "values")
	check(t, requests[0], "ok", "script", "replies", 0, "values", "s")

	// A correct value is dropped too, in every request of a stream.
	stream := json.RawMessage(`{"method":"ClientStream","requests":[{"script":{},"values":{"s":"a"}},{"values":{"i32":2}}]}`)
	lenient, err = scripted.ExecuteWith(conn, stream, timeout, scripted.Options{Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	data, _ = json.Marshal(lenient)
	o = nil
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatal(err)
	}
	check(t, o, []any{map[string]any{"script": map[string]any{}}, map[string]any{}}, "responses", 0, "request_info", "requests")

	// No compression is asked for: grpc-go's refusal of deflate is gone (per channel too: lenient clears channel.compression).
	for _, deflate := range []string{`"compression":"deflate"`} {
		call := json.RawMessage(`{"method":"Unary",` + deflate + `,"requests":[{"script":{}}]}`)
		refused, err := scripted.Execute(conn, call, timeout)
		if err != nil || refused.Status == nil || refused.Status.Code != 13 {
			t.Fatalf("%s without the fault: got %+v, %v; want INTERNAL", deflate, refused, err)
		}
		made, err := scripted.ExecuteWith(conn, call, timeout, scripted.Options{Lenient: true})
		if err != nil || made.Status == nil || made.Status.Code != 0 {
			t.Fatalf("%s under scripted-lenient: got %+v, %v; want OK", deflate, made, err)
		}
	}
}

// TestEveryScriptedFaultIsKnown: the contract's 26 scripted faults are in faults.All.
func TestEveryScriptedFaultIsKnown(t *testing.T) {
	n := 0
	for _, name := range faults.All {
		if strings.HasPrefix(string(name), "scripted-") {
			n++
		}
	}
	if n != 26 {
		t.Errorf("%d scripted faults, the contract has 26", n)
	}
	if _, err := faults.Parse("scripted-unknown-dropped,scripted-limits-ignored,scripted-peer-ipv4,scripted-authority-dropped,scripted-lifecycle-ignored,scripted-cancel-ignored,scripted-second-host-ignored,scripted-shutdown-abrupt"); err != nil {
		t.Error(err)
	}
}

func TestInstructionsThatCannotRun(t *testing.T) {
	conn := dial(t, nil)
	for _, text := range []string{
		`{"method":"Nope","requests":[{}]}`,
		`{"method":"Unary","requests":[]}`,
		`{"method":"Unary","requests":[{}],"metadata":[{"key":"x-b-bin","value":{"$bytes":"zz"}}]}`,
		`[1]`,
		// A "$unknown" that is not hex: a broken case, at any depth.
		`{"method":"Unary","requests":[{"values":{"$unknown":"zz"}}]}`,
		`{"method":"Unary","requests":[{"values":{"$unknown":"c03"}}]}`,
		`{"method":"Unary","requests":[{"values":{"$unknown":150}}]}`,
		`{"method":"Unary","requests":[{"$unknown":"c03e9601 "}]}`,
		`{"method":"Unary","requests":[{"values":{"nested":{"$unknown":"xyz1"}}}]}`,
		`{"method":"ClientStream","requests":[{},{"values":{"children":[{},{"$unknown":"g0"}]}}]}`,
		`{"method":"Unary","requests":[{"values":{"str_values":{"k":{"$unknown":"0"}}}}]}`,
		`{"method":"Unary","requests":[{"script":{"replies":[{"values":{"$unknown":"-1"}}]}}]}`,
	} {
		if _, err := scripted.Execute(conn, json.RawMessage(text), timeout); err == nil {
			t.Errorf("%s ran", text)
		}
	}
}

// A value protobuf-go will not encode is the library refusing it: a local error, no call.
func TestValuesTheLibraryRefusesAreLocalErrors(t *testing.T) {
	conn := dial(t, nil)
	for _, text := range []string{
		`{"method":"Unary","requests":[{"values":{"i64":"12abc"}}]}`,
		`{"method":"Unary","requests":[{"values":{"i32":2147483648}}]}`,
		`{"method":"Unary","requests":[{"values":{"s":"bad \ud800 surrogate"}}]}`,
	} {
		obs, err := scripted.Execute(conn, json.RawMessage(text), timeout)
		if err != nil || obs.LocalError == "" || obs.Status != nil {
			t.Errorf("%s: got %+v, %v; want a local_error only", text, obs, err)
		}
	}
}

// The unknown fields of the contract's example: field 1000 varint 150, field 1001 bytes "relay",
// field 1002 fixed32; field 1003 fixed64; and the reply's field 1000 and 1001.
const (
	unknownValues = "c03e9601ca3e0572656c6179d53e01020304"
	unknownNested = "d93e0102030405060708"
	unknownReply  = "c03e9601ca3e0572656c6179"
)

// unknownRelay: unknown fields on a request's values, on its nested message and on the scripted
// reply's values.
var unknownRelay = json.RawMessage(`{"method":"Unary","requests":[{` +
	`"script":{"replies":[{"values":{"i32":7,"$unknown":"` + unknownReply + `"}}]},` +
	`"values":{"s":"kept","$unknown":"` + unknownValues + `","nested":{"i32":1,"$unknown":"` + unknownNested + `"}}}]}`)

// TestUnknownFieldsRelay: the executor sends the "$unknown" bytes as unknown fields, the server
// keeps them in RequestInfo and in the reply it sends, and the observation reports each one as
// "$unknown" on its message; under scripted-unknown-dropped none is left.
func TestUnknownFieldsRelay(t *testing.T) {
	o := observe(t, dial(t, nil), unknownRelay)
	check(t, o, map[string]any{"code": 0, "message": ""}, "status")
	reply := at(o, "responses", 0, "values")
	check(t, reply, "7", "i32")
	check(t, reply, unknownReply, "$unknown")
	info := at(o, "responses", 0, "request_info")
	check(t, info, "kept", "requests", 0, "values", "s")
	check(t, info, unknownValues, "requests", 0, "values", "$unknown")
	check(t, info, "1", "requests", 0, "values", "nested", "i32")
	check(t, info, unknownNested, "requests", 0, "values", "nested", "$unknown")
	check(t, info, unknownReply, "requests", 0, "script", "replies", 0, "values", "$unknown")
	// Messages without unknown fields have no "$unknown".
	for _, path := range [][]any{{"responses", 0}, {"responses", 0, "request_info"}, {"responses", 0, "request_info", "requests", 0},
		{"responses", 0, "request_info", "requests", 0, "script"}, {"responses", 0, "request_info", "requests", 0, "script", "replies", 0}} {
		check(t, o, nil, append(path, "$unknown")...)
	}

	o = observe(t, dial(t, faults.Set{faults.ScriptedUnknownDropped: true}), unknownRelay)
	check(t, o, 0, "status", "code")
	check(t, o, map[string]any{"i32": "7"}, "responses", 0, "values")
	info = at(o, "responses", 0, "request_info")
	check(t, info, map[string]any{"s": "kept", "nested": map[string]any{"i32": "1"}}, "requests", 0, "values")
	check(t, info, map[string]any{"i32": "7"}, "requests", 0, "script", "replies", 0, "values")
	if data, _ := json.Marshal(o); strings.Contains(string(data), "$unknown") {
		t.Errorf("scripted-unknown-dropped: %s", data)
	}
}

// TestUnknownFieldsEverywhere: "$unknown" on the request itself, in repeated and map message
// values, in a oneof member and in a message holding nothing else (which protojson then sets,
// empty), fields named by their JSON names too, through a bidi stream whose RequestInfo comes
// in the trailer; each is reported on its own message. Under scripted-unknown-dropped the
// trailer's RequestInfo has none either.
func TestUnknownFieldsEverywhere(t *testing.T) {
	instruction := json.RawMessage(`{"method":"BidiStream","requests":[` +
		`{"$unknown":"c03e05","script":{"code":10,"replies":[{"values":{"i32":1,"$unknown":"c03e9601"}},` +
		`{"values":{"children":[{"s":"c","$unknown":"ca3e0572656c6179"}]},"$unknown":"c03e06"}]},"values":{"i32":1,"$unknown":"c03e01"}},` +
		`{"values":{"children":[{"s":"a","$unknown":"c03e02"},{"$unknown":"c03e03"}],"strValues":{"k":{"i32":4,"$unknown":"c03e04"},"l":{}},` +
		`"choiceValues":{"$unknown":"c03e07"},"nested":{"$unknown":"c03e08","children":[{"$unknown":"c03e09"}]}}}]}`)
	o := observe(t, dial(t, nil), instruction)
	check(t, o, 10, "status", "code")
	check(t, o, []any{
		map[string]any{"values": map[string]any{"i32": "1", "$unknown": "c03e9601"}},
		map[string]any{"values": map[string]any{"children": []any{map[string]any{"s": "c", "$unknown": "ca3e0572656c6179"}}}},
	}, "responses")
	requests := at(o, "request_info", "requests")
	check(t, requests, "c03e05", 0, "$unknown")
	check(t, requests, map[string]any{"i32": "1", "$unknown": "c03e01"}, 0, "values")
	check(t, requests, "c03e06", 0, "script", "replies", 1, "$unknown")
	check(t, requests, map[string]any{
		"children":      []any{map[string]any{"s": "a", "$unknown": "c03e02"}, map[string]any{"$unknown": "c03e03"}},
		"str_values":    map[string]any{"k": map[string]any{"i32": "4", "$unknown": "c03e04"}, "l": map[string]any{}},
		"choice_values": map[string]any{"$unknown": "c03e07"},
		"nested":        map[string]any{"$unknown": "c03e08", "children": []any{map[string]any{"$unknown": "c03e09"}}},
	}, 1, "values")

	o = observe(t, dial(t, faults.Set{faults.ScriptedUnknownDropped: true}), instruction)
	check(t, o, 10, "status", "code")
	check(t, o, "1", "responses", 0, "values", "i32")
	check(t, o, map[string]any{}, "request_info", "requests", 1, "values", "choice_values")
	if data, _ := json.Marshal(o); strings.Contains(string(data), "$unknown") {
		t.Errorf("scripted-unknown-dropped: %s", data)
	}
}

// TestUnknownFieldsInTheRequest: ParseInstruction appends the "$unknown" bytes to the unknown
// fields of the message protojson made (after a repeated "$unknown" of one object, in order),
// leaves the rest of the JSON as written (protojson still judges it: a lone surrogate stays a
// local error, a misplaced "$unknown" is protojson's to refuse), and changes nothing without one.
func TestUnknownFieldsInTheRequest(t *testing.T) {
	_, requests, err := scripted.ParseInstruction(unknownRelay)
	if err != nil {
		t.Fatal(err)
	}
	req := requests[0]
	for _, tc := range []struct {
		m    proto.Message
		want string
	}{
		{req, ""},
		{req.GetValues(), unknownValues},
		{req.GetValues().GetNested(), unknownNested},
		{req.GetScript(), ""},
		{req.GetScript().GetReplies()[0].GetValues(), unknownReply},
	} {
		if got := fmt.Sprintf("%x", tc.m.ProtoReflect().GetUnknown()); got != tc.want {
			t.Errorf("%T: unknown %s, want %q", tc.m, got, tc.want)
		}
	}
	if req.GetValues().GetS() != "kept" || req.GetValues().GetNested().GetI32() != 1 || req.GetScript().GetReplies()[0].GetValues().GetI32() != 7 {
		t.Errorf("request %v", req)
	}
	// On the wire: the known fields, then the unknown ones.
	wire, err := proto.Marshal(req.GetValues().GetNested())
	if err != nil || fmt.Sprintf("%x", wire) != "0801"+unknownNested {
		t.Errorf("nested on the wire: %x, %v", wire, err)
	}

	_, requests, err = scripted.ParseInstruction(json.RawMessage(`{"method":"Unary","requests":[{"values":{"$unknown":"c03e01","i32":2,"$unknown":"C03E02"}}]}`))
	if err != nil || fmt.Sprintf("%x", requests[0].GetValues().ProtoReflect().GetUnknown()) != "c03e01c03e02" {
		t.Errorf("two $unknown: %v, %v", requests, err)
	}

	conn := dial(t, nil)
	for _, text := range []string{
		`{"method":"Unary","requests":[{"values":{"$unknown":"c03e01","s":"bad \ud800 surrogate"}}]}`,
		`{"method":"Unary","requests":[{"values":{"$unknown":"c03e01","i64":"12abc"}}]}`,
		`{"method":"Unary","requests":[{"values":{"$unknown":"c03e01","str_i64":{"k":{"$unknown":"c03e01"}}}}]}`,
		`{"method":"Unary","requests":[{"script":{"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","$unknown":"c03e01"}]}}]}`,
	} {
		obs, err := scripted.Execute(conn, json.RawMessage(text), timeout)
		if err != nil || obs.LocalError == "" || obs.Status != nil {
			t.Errorf("%s: got %+v, %v; want a local_error only", text, obs, err)
		}
	}
}

// TestEncodeMessageReportsUnknownFields: "$unknown" on every message grpc-go kept unknown fields
// for, none on the others.
func TestEncodeMessageReportsUnknownFields(t *testing.T) {
	v := &pb.Values{I32: 3, Nested: &pb.Values{}, Children: []*pb.Values{{}, {}}, StrValues: map[string]*pb.Values{"k": {}}}
	v.ProtoReflect().SetUnknown([]byte{0xc0, 0x3e, 0x01})
	v.GetNested().ProtoReflect().SetUnknown([]byte{0xc0, 0x3e, 0x02})
	v.GetChildren()[1].ProtoReflect().SetUnknown([]byte{0xc0, 0x3e, 0x03})
	v.GetStrValues()["k"].ProtoReflect().SetUnknown([]byte{0xc0, 0x3e, 0x04})
	check(t, scripted.EncodeMessage(v.ProtoReflect()), map[string]any{
		"i32": "3", "$unknown": "c03e01",
		"nested":     map[string]any{"$unknown": "c03e02"},
		"children":   []any{map[string]any{}, map[string]any{"$unknown": "c03e03"}},
		"str_values": map[string]any{"k": map[string]any{"$unknown": "c03e04"}},
	})
}

func TestEncodeMetadataKeepsAnEmptyList(t *testing.T) {
	data, err := json.Marshal(scripted.Observed{Trailers: &[]any{}})
	if err != nil || string(data) != `{"trailers":[]}` {
		t.Errorf("%s, %v", data, err)
	}
}

func containsPair(list []any, want []any) bool { return indexOf(list, want) >= 0 }

func indexOf(list []any, want []any) int {
	w, _ := json.Marshal(want)
	for i, p := range list {
		if g, _ := json.Marshal(p); string(g) == string(w) {
			return i
		}
	}
	return -1
}
