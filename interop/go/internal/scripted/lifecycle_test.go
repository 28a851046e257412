package scripted_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"interopmatrix/internal/faults"
	"interopmatrix/internal/scripted"
	"interopmatrix/internal/servertest"
)

// The calls' lifecycle (docs/peer-contract.md: the scripted server's active_calls, report_call,
// "Cancellation" and "Call records", the server's lifecycle flags, INSTRUCTION's concurrent,
// followups and {run}, the faults scripted-lifecycle-ignored and scripted-cancel-ignored).

const codeCancelled = 1

// waitQuiet waits until the server process handles no call of Scripted but the probe (its
// active_calls is process-wide, so a handler of an earlier test still running would count).
func waitQuiet(t *testing.T, p *peer) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		o := p.run(t, `{"method":"Unary","requests":[{"script":{}}]}`)
		active := at(o, "responses", 0, "request_info", "active_calls")
		if active == "1" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server still handles other calls: active_calls %v", active)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// activeCalls are the active_calls each call of a concurrent observation saw, first call first.
func activeCalls(t *testing.T, o map[string]any) []int {
	t.Helper()
	all := append([]any{o}, listAt(o, "concurrent")...)
	counts := make([]int, len(all))
	for i, c := range all {
		expectCode(t, fmt.Sprintf("call %d", i), c.(map[string]any), codeOK)
		n, err := strconv.Atoi(fmt.Sprint(at(c, "responses", 0, "request_info", "active_calls")))
		if err != nil {
			t.Fatalf("call %d: active_calls %v", i, at(c, "responses", 0, "request_info", "active_calls"))
		}
		counts[i] = n
	}
	return counts
}

// listAt is the list at path, nil when there is none.
func listAt(v any, path ...any) []any {
	l, _ := at(v, path...).([]any)
	return l
}

// TestActiveCallsAndMaxConcurrentStreams: three calls at once, each 400 ms in the handler, on a
// channel to a server with grpc.MaxConcurrentStreams(1) (--max_concurrent_streams=1): grpc-go's
// client queues them, so the server never handles more than one (active_calls 1 each). Without
// the option, or under scripted-lifecycle-ignored, it handles several at once.
func TestActiveCallsAndMaxConcurrentStreams(t *testing.T) {
	const three = `{"method":"Unary","concurrent":3,"timeout_ms":10000,"requests":[{"script":{"delay_ms":400}}]}`
	for _, tc := range []struct {
		name    string
		f       faults.Set
		opts    []grpc.ServerOption
		limited bool
	}{
		{"max_concurrent_streams 1", nil, []grpc.ServerOption{grpc.MaxConcurrentStreams(1)}, true},
		{"no limit", nil, nil, false},
		{"scripted-lifecycle-ignored", faults.Set{faults.ScriptedLifecycleIgnored: true}, []grpc.ServerOption{grpc.MaxConcurrentStreams(1)}, false},
	} {
		p, _ := newPeer(t, tc.f, false, tc.opts...)
		// The probe also connects the channel: the client knows the server's
		// SETTINGS_MAX_CONCURRENT_STREAMS before the three calls start.
		waitQuiet(t, p)
		o := p.run(t, three)
		if n := len(listAt(o, "concurrent")); n != 2 {
			t.Fatalf("%s: %d calls in concurrent, want 2: %v", tc.name, n, o)
		}
		counts := activeCalls(t, o)
		most := 0
		for _, n := range counts {
			most = max(most, n)
		}
		if tc.limited && most != 1 {
			t.Errorf("%s: active_calls %v, want 1 each", tc.name, counts)
		}
		if !tc.limited && most < 2 {
			t.Errorf("%s: active_calls %v, want more than 1 for some call", tc.name, counts)
		}
	}
}

// streamCancelled is a server stream of 20 replies 50 ms apart that the client cancels after 2,
// then a follow-up that reports how the server recorded it.
const streamCancelled = `{"method":"ServerStream","cancel_after_responses":2,"timeout_ms":10000,
	"requests":[{"script":{"call_id":"stream-{run}","replies":[%s]}}],
	"followups":[{"method":"Unary","timeout_ms":10000,"requests":[{"script":{"report_call":"stream-{run}"}}]}]}`

func twentyReplies() string {
	replies := make([]string, 20)
	for i := range replies {
		replies[i] = fmt.Sprintf(`{"delay_ms":50,"values":{"i32":%d}}`, i+1)
	}
	return strings.Join(replies, ",")
}

// reported is the reported_call of the first follow-up's RequestInfo.
func reported(o map[string]any) any {
	return at(o, "followups", 0, "responses", 0, "request_info", "reported_call")
}

// TestCancelledServerStreamIsRecorded: the client cancels a server stream after 2 responses;
// the server stops (the wait before the next reply ends at once) and records the call cancelled,
// with the replies it handed to grpc-go (2, or a few more sent while the cancellation came).
// Under scripted-cancel-ignored it goes on to the end: completed, all 20 replies.
func TestCancelledServerStreamIsRecorded(t *testing.T) {
	instruction := fmt.Sprintf(streamCancelled, twentyReplies())
	p, _ := newPeer(t, nil, false)
	o := p.run(t, instruction)
	expectCode(t, "the stream", o, codeCancelled)
	if n := len(listAt(o, "responses")); n != 2 {
		t.Errorf("%d responses, want 2", n)
	}
	expectCode(t, "the follow-up", at(o, "followups", 0).(map[string]any), codeOK)
	record := reported(o)
	check(t, record, "cancelled", "ended")
	if n, err := strconv.Atoi(fmt.Sprint(at(record, "replies_sent"))); err != nil || n < 2 || n > 4 {
		t.Errorf("replies_sent %v, want 2 to 4", at(record, "replies_sent"))
	}

	ignored, _ := newPeer(t, faults.Set{faults.ScriptedCancelIgnored: true}, false)
	o = ignored.run(t, instruction)
	expectCode(t, "scripted-cancel-ignored: the stream", o, codeCancelled)
	check(t, reported(o), map[string]any{"ended": "completed", "replies_sent": "20"})
}

// TestDeadlineDuringDelayIsRecorded: a unary call whose deadline (300 ms) passes while the
// server waits its script.delay_ms (3 s): the wait ends at once, and the call is recorded
// cancelled long before the 3 s are over (the follow-up, which waits for the record, is back
// well before). Under scripted-cancel-ignored the handler waits the 3 s and records completed.
func TestDeadlineDuringDelayIsRecorded(t *testing.T) {
	const instruction = `{"method":"Unary","timeout_ms":300,"requests":[{"script":{"call_id":"slow-{run}","delay_ms":3000,"replies":[{"values":{"i32":1}}]}}],
		"followups":[{"method":"Unary","timeout_ms":10000,"requests":[{"script":{"report_call":"slow-{run}"}}]}]}`
	p, _ := newPeer(t, nil, false)
	start := time.Now()
	o := p.run(t, instruction)
	elapsed := time.Since(start)
	expectCode(t, "the call", o, codeDeadlineExceeded)
	check(t, reported(o), map[string]any{"ended": "cancelled"}) // replies_sent 0: not present
	if elapsed > 2*time.Second {
		t.Errorf("the record said cancelled after %v, want well before the 3 s delay", elapsed)
	}

	ignored, _ := newPeer(t, faults.Set{faults.ScriptedCancelIgnored: true}, false)
	start = time.Now()
	o = ignored.run(t, instruction)
	elapsed = time.Since(start)
	expectCode(t, "scripted-cancel-ignored: the call", o, codeDeadlineExceeded)
	check(t, reported(o), map[string]any{"ended": "completed", "replies_sent": "1"})
	if elapsed < 2500*time.Millisecond {
		t.Errorf("scripted-cancel-ignored: the record said completed after %v, before the 3 s delay", elapsed)
	}
}

// TestReportCall: report_call of an id no call had is unknown, at once; a call without
// report_call reports none; a record is replaced by the next call with its id.
func TestReportCall(t *testing.T) {
	p, _ := newPeer(t, nil, false)
	start := time.Now()
	o := p.run(t, `{"method":"Unary","requests":[{"script":{"report_call":"never-{run}"}}]}`)
	check(t, o, map[string]any{"ended": "unknown"}, "responses", 0, "request_info", "reported_call")
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("unknown after %v, want at once", elapsed)
	}
	o = p.run(t, `{"method":"Unary","requests":[{"script":{"call_id":"x-{run}"}}]}`)
	check(t, o, nil, "responses", 0, "request_info", "reported_call")

	// Each method, with its replies (a unary call's one reply counts once, when returned).
	for method, want := range map[string]map[string]any{
		"Unary":        {"ended": "completed", "replies_sent": "1"},
		"ServerStream": {"ended": "completed", "replies_sent": "2"},
		"ClientStream": {"ended": "completed", "replies_sent": "1"},
		"BidiStream":   {"ended": "completed", "replies_sent": "2"},
	} {
		replies := `[{"values":{"i32":1}},{"values":{"i32":2}}]`
		o := p.run(t, `{"method":"`+method+`","requests":[{"script":{"call_id":"m-{run}","replies":`+replies+`}}],
			"followups":[{"method":"Unary","requests":[{"script":{"report_call":"m-{run}"}}]}]}`)
		check(t, reported(o), want)
	}
	// An error status: the reply of a unary call is not sent.
	o = p.run(t, `{"method":"Unary","requests":[{"script":{"call_id":"e-{run}","code":5,"replies":[{"values":{"i32":1}}]}}],
		"followups":[{"method":"Unary","requests":[{"script":{"report_call":"e-{run}"}}]}]}`)
	expectCode(t, "NOT_FOUND", o, 5)
	check(t, reported(o), map[string]any{"ended": "completed"})
}

// TestMaxConnectionAge: a server whose connections have a maximum age of 500 ms and a grace of
// 10 s (--max_connection_age_ms, --max_connection_age_grace_ms): a 1.5 s server stream
// outlives the age and still ends OK (its connection drains), and a follow-up on the same
// channel goes over a new connection (another client address in RequestInfo.peer). Under
// scripted-lifecycle-ignored the follow-up takes the same connection.
func TestMaxConnectionAge(t *testing.T) {
	const instruction = `{"method":"ServerStream","channel":{},"timeout_ms":10000,"requests":[{"script":{"replies":[
		{"delay_ms":250,"values":{"i32":1}},{"delay_ms":250,"values":{"i32":2}},{"delay_ms":250,"values":{"i32":3}},
		{"delay_ms":250,"values":{"i32":4}},{"delay_ms":250,"values":{"i32":5}},{"delay_ms":250,"values":{"i32":6}}]}}],
		"followups":[{"after_ms":300,"method":"Unary","timeout_ms":10000,"requests":[{"script":{}}]}]}`
	age := grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: 500 * time.Millisecond, MaxConnectionAgeGrace: 10 * time.Second})
	peers := func(t *testing.T, f faults.Set) (string, string) {
		p, _ := newPeer(t, f, false, age)
		o := p.run(t, instruction)
		expectCode(t, "the stream", o, codeOK)
		if n := len(listAt(o, "responses")); n != 6 {
			t.Fatalf("%d responses, want 6", n)
		}
		expectCode(t, "the follow-up", at(o, "followups", 0).(map[string]any), codeOK)
		first, _ := at(o, "responses", 5, "request_info", "peer").(string)
		next, _ := at(o, "followups", 0, "responses", 0, "request_info", "peer").(string)
		if first == "" || next == "" {
			t.Fatalf("no peer: %v", o)
		}
		return first, next
	}
	if first, next := peers(t, nil); first == next {
		t.Errorf("the follow-up came from %s, the address of the connection past its maximum age", next)
	}
	if first, next := peers(t, faults.Set{faults.ScriptedLifecycleIgnored: true}); first != next {
		t.Errorf("scripted-lifecycle-ignored: the follow-up came from %s, not from %s", next, first)
	}
}

// TestLifecycleFlags: the server's command line gives the lifecycle flags to grpc-go
// (--max_concurrent_streams=1: one call at a time; --max_connection_idle_ms=300: a call 1 s
// after the last comes over a new connection); --fault=scripted-lifecycle-ignored ignores them.
func TestLifecycleFlags(t *testing.T) {
	const idle = `{"method":"Unary","channel":{},"requests":[{"script":{}}],
		"followups":[{"after_ms":1000,"method":"Unary","requests":[{"script":{}}]}]}`
	const two = `{"method":"Unary","concurrent":2,"timeout_ms":10000,"requests":[{"script":{"delay_ms":400}}]}`
	for _, ignored := range []bool{false, true} {
		args := []string{"--port=0", "--max_concurrent_streams=1", "--max_connection_idle_ms=300"}
		if ignored {
			args = append(args, "--fault=scripted-lifecycle-ignored")
		}
		p := peerOn(t, servertest.Serve(t, args...))
		waitQuiet(t, p)
		counts := activeCalls(t, p.run(t, two))
		if limited := counts[0] == 1 && counts[1] == 1; limited == ignored {
			t.Errorf("%q: active_calls %v", args, counts)
		}
		o := p.run(t, idle)
		first, _ := at(o, "responses", 0, "request_info", "peer").(string)
		next, _ := at(o, "followups", 0, "responses", 0, "request_info", "peer").(string)
		if first == "" || next == "" {
			t.Fatalf("%q: no peer: %v", args, o)
		}
		if (first == next) != ignored {
			t.Errorf("%q: the call 1 s after the last came from %s, the first from %s", args, next, first)
		}
	}
}

// peerOn is the executor's way to a server already running on port (as newPeer makes it).
func peerOn(t *testing.T, port int) *peer {
	t.Helper()
	opts := scripted.Options{Server: scripted.Server{Host: "127.0.0.1", Port: port}}
	opts.Dial = func(target string, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
		return grpc.NewClient(target, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, extra...)...)
	}
	conn, err := opts.Dial("127.0.0.1:" + strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &peer{conn: conn, opts: opts}
}

// TestConcurrentAndFollowups: the OBSERVED of concurrent N has the first call in its own
// members and the others in "concurrent", in order, each without concurrent and followups;
// "followups" has one OBSERVED per follow-up, in order, made on the same channel after every
// concurrent call ended (each with its own metadata and deadline); an empty followups is [].
func TestConcurrentAndFollowups(t *testing.T) {
	p, _ := newPeer(t, nil, false)
	o := p.run(t, `{"method":"ServerStream","concurrent":3,"metadata":[{"key":"x-call","value":"main"}],
		"requests":[{"script":{"replies":[{"values":{"s":"main"}}]}}],
		"followups":[
			{"after_ms":10,"method":"Unary","metadata":[{"key":"x-call","value":"one"}],"timeout_ms":60000,"requests":[{"script":{"replies":[{"values":{"s":"one"}}]}}]},
			{"method":"ClientStream","requests":[{"script":{"code":5,"message":"two"}},{"values":{"i32":2}}]}]}`)
	expectCode(t, "the call", o, codeOK)
	check(t, o, "main", "responses", 0, "values", "s")
	concurrent := listAt(o, "concurrent")
	if len(concurrent) != 2 {
		t.Fatalf("concurrent %v, want 2 entries", at(o, "concurrent"))
	}
	for _, c := range concurrent {
		check(t, c, "main", "responses", 0, "values", "s")
		check(t, c, 0.0, "status", "code")
		check(t, c, nil, "concurrent")
		check(t, c, nil, "followups")
	}
	followups := listAt(o, "followups")
	if len(followups) != 2 {
		t.Fatalf("followups %v, want 2 entries", at(o, "followups"))
	}
	check(t, followups[0], "one", "responses", 0, "values", "s")
	check(t, followups[0], []any{map[string]any{"key": "x-call", "values": []any{"one"}}}, "responses", 0, "request_info", "headers")
	if ms, err := strconv.Atoi(fmt.Sprint(at(followups[0], "responses", 0, "request_info", "timeout_ms"))); err != nil || ms < 50_000 {
		t.Errorf("the first follow-up's deadline: %v ms left, want about 60000", at(followups[0], "responses", 0, "request_info", "timeout_ms"))
	}
	check(t, followups[1], map[string]any{"code": 5.0, "message": "two"}, "status")
	check(t, followups[1], "2", "request_info", "requests", 1, "values", "i32")
	check(t, followups[1], nil, "request_info", "headers")
	for _, f := range followups {
		check(t, f, nil, "concurrent")
		check(t, f, nil, "followups")
	}

	// The follow-ups of an instruction with a channel of its own go over that channel: the
	// same connection, while no lifecycle limit closes it.
	o = p.run(t, `{"method":"Unary","channel":{},"requests":[{"script":{}}],"followups":[{"method":"Unary","requests":[{"script":{}}]}]}`)
	first := at(o, "responses", 0, "request_info", "peer")
	if next := at(o, "followups", 0, "responses", 0, "request_info", "peer"); first == nil || next != first {
		t.Errorf("the follow-up came from %v, the call from %v", next, first)
	}

	// No concurrent or followups: neither member; an empty followups: [].
	o = p.run(t, `{"method":"Unary","concurrent":1,"requests":[{"script":{}}]}`)
	check(t, o, nil, "concurrent")
	check(t, o, nil, "followups")
	o = p.run(t, `{"method":"Unary","requests":[{"script":{}}],"followups":[]}`)
	check(t, o, []any{}, "followups")

	// A follow-up whose request protobuf-go refuses is that follow-up's local_error; the call
	// and the other follow-ups are made. A call whose request is refused is a local_error in
	// each of its concurrent OBSERVEDs, and its follow-ups are still made.
	o = p.run(t, `{"method":"Unary","requests":[{"script":{}}],"followups":[
		{"method":"Unary","requests":[{"values":{"i32":"x"}}]},{"method":"Unary","requests":[{"script":{}}]}]}`)
	expectCode(t, "the call", o, codeOK)
	if e, _ := at(o, "followups", 0, "local_error").(string); e == "" || at(o, "followups", 0, "status") != nil {
		t.Errorf("the refused follow-up: %v", at(o, "followups", 0))
	}
	expectCode(t, "the follow-up after it", at(o, "followups", 1).(map[string]any), codeOK)
	o = p.run(t, `{"method":"Unary","concurrent":2,"requests":[{"values":{"i32":"x"}}],"followups":[{"method":"Unary","requests":[{"script":{}}]}]}`)
	if e, _ := at(o, "local_error").(string); e == "" || at(o, "concurrent", 0, "local_error") != e || at(o, "status") != nil {
		t.Errorf("a refused call made twice: %v", o)
	}
	expectCode(t, "its follow-up", at(o, "followups", 0).(map[string]any), codeOK)
}

// TestRunToken: {run} is replaced in every string of the requests, of the call and of its
// follow-ups, by one token (16 hex digits) per run of the instruction; a key holding it too;
// metadata and the rest of the instruction keep it as written.
func TestRunToken(t *testing.T) {
	p, _ := newPeer(t, nil, false)
	const instruction = `{"method":"ClientStream","metadata":[{"key":"x-run","value":"{run}"}],
		"requests":[{"script":{"call_id":"{run}"},"values":{"s":"a-{run}-b-{run}","strings":["{run}","{run"],"str_i64":{"k{run}":"1"}}},{"values":{"s":"\u007brun}"}}],
		"followups":[{"method":"Unary","requests":[{"values":{"s":"{run}"}}]}]}`
	tokens := map[string]bool{}
	for range 2 {
		o := p.run(t, instruction)
		expectCode(t, "the call", o, codeOK)
		first := at(o, "responses", 0, "request_info", "requests", 0)
		token, _ := at(first, "script", "call_id").(string)
		if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(token) {
			t.Fatalf("call_id %q, want 16 hex digits", token)
		}
		tokens[token] = true
		check(t, first, "a-"+token+"-b-"+token, "values", "s")
		check(t, first, []any{token, "{run"}, "values", "strings")
		check(t, first, map[string]any{"k" + token: "1"}, "values", "str_i64")
		// Written with an escape, {run} is not the text {run} of the instruction.
		check(t, o, "{run}", "responses", 0, "request_info", "requests", 1, "values", "s")
		check(t, o, []any{map[string]any{"key": "x-run", "values": []any{"{run}"}}}, "responses", 0, "request_info", "headers")
		check(t, o, token, "followups", 0, "responses", 0, "request_info", "requests", 0, "values", "s")
	}
	if len(tokens) != 2 {
		t.Errorf("two runs drew the tokens %v, want two different ones", tokens)
	}
	// ParseInstruction leaves {run} as it is.
	_, requests, err := scripted.ParseInstruction(json.RawMessage(`{"method":"Unary","requests":[{"values":{"s":"{run}"}}]}`))
	if err != nil || requests[0].GetValues().GetS() != "{run}" {
		t.Errorf("ParseInstruction: %v, %v", requests, err)
	}
}

// TestLifecycleInstructionsThatCannotRun: concurrent, followups and the channel's keepalive
// members of the wrong type or range make an instruction that cannot run, and so does a
// follow-up that is not a call.
func TestLifecycleInstructionsThatCannotRun(t *testing.T) {
	p, _ := newPeer(t, nil, false)
	for _, member := range []string{
		`"concurrent":0`, `"concurrent":-1`, `"concurrent":1.5`, `"concurrent":"2"`, `"concurrent":null`,
		`"followups":{}`, `"followups":null`, `"followups":[1]`, `"followups":[null]`, `"followups":[{}]`,
		`"followups":[{"method":"Nope","requests":[{}]}]`, `"followups":[{"method":"Unary","requests":[]}]`,
		`"followups":[{"method":"Unary","requests":[{}],"after_ms":-1}]`, `"followups":[{"method":"Unary","requests":[{}],"after_ms":"5"}]`,
		`"followups":[{"method":"Unary","requests":[{}],"after_ms":null}]`, `"followups":[{"method":"Unary","requests":[{}],"timeout_ms":null}]`,
		`"followups":[{"method":"Unary","requests":[{}],"timeout_ms":-1}]`,
		`"followups":[{"method":"Unary","requests":[{}],"metadata":[{"key":"x-b-bin","value":{"$bytes":"zz"}}]}]`,
		`"followups":[{"method":"Unary","requests":[{"values":{"$unknown":"zz"}}]}]`,
		`"followups":[{"method":"Unary","requests":[{"$fill_bytes":-1}]}]`,
		`"channel":{"keepalive_time_ms":-1}`, `"channel":{"keepalive_time_ms":"10"}`, `"channel":{"keepalive_time_ms":null}`,
		`"channel":{"keepalive_timeout_ms":1.5}`, `"channel":{"keepalive_timeout_ms":9223372036855}`,
		`"channel":{"keepalive_permit_without_calls":1}`, `"channel":{"keepalive_permit_without_calls":"true"}`,
		`"channel":{"keepalive_permit_without_calls":null}`, `"channel":{"keepalive":true}`,
	} {
		instruction := `{"method":"Unary",` + member + `,"requests":[{"script":{}}]}`
		if _, err := scripted.ExecuteWith(p.conn, json.RawMessage(instruction), timeout, p.opts); err == nil {
			t.Errorf("%s ran", instruction)
		}
	}
	// A follow-up's broken member fails the case even when the call's request is refused.
	instruction := `{"method":"Unary","requests":[{"values":{"i32":"x"}}],"followups":[{"method":"Nope","requests":[{}]}]}`
	if _, err := scripted.ExecuteWith(p.conn, json.RawMessage(instruction), timeout, p.opts); err == nil || !strings.Contains(err.Error(), "followups[0]: unknown method") {
		t.Errorf("%s: %v", instruction, err)
	}
}

// TestChannelKeepalive: the channel's keepalive members are taken (grpc.WithKeepaliveParams),
// and the calls work: keepalive_time_ms 10000 (grpc-go's minimum, to which it raises less),
// keepalive_timeout_ms, keepalive_permit_without_calls, alone or together.
func TestChannelKeepalive(t *testing.T) {
	p, _ := newPeer(t, nil, false, grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}))
	for _, channel := range []string{
		`{"keepalive_time_ms":10000,"keepalive_timeout_ms":1000,"keepalive_permit_without_calls":true}`,
		`{"keepalive_time_ms":1}`, `{"keepalive_timeout_ms":0}`, `{"keepalive_permit_without_calls":false}`,
	} {
		o := p.run(t, `{"method":"Unary","channel":`+channel+`,"requests":[{"script":{}}]}`)
		expectCode(t, channel, o, codeOK)
	}
}
