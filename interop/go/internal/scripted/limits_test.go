package scripted_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/stats"
	"google.golang.org/protobuf/proto"

	pb "interopmatrix/gen/scripted"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/scripted"
	"interopmatrix/internal/servertest"
)

// The message size limits, compression and deadlines of the executor and the scripted server
// (docs/peer-contract.md: the server's --max_receive_message_length and
// --max_send_message_length, script.response_compression, INSTRUCTION's timeout_ms, compression
// and channel, the faults scripted-limits-ignored and scripted-client-limits-ignored).

const (
	// defaultLimit is grpc-go's default receive limit, on the server and on the client.
	defaultLimit          = 4 << 20
	codeOK                = 0
	codeDeadlineExceeded  = 4
	codeResourceExhausted = 8
	codeUnimplemented     = 12
	codeInternal          = 13
)

// peer is an in-process server and the executor's way to it: a shared channel made as the
// client's run makes it (Options.SharedDialOptions) and a dialer for the instructions' own.
type peer struct {
	conn *grpc.ClientConn
	opts scripted.Options
	// received records the grpc-encoding of every request the server got, in order.
	received *headerLog
}

// headerLog is a stats.Handler that records one value of the headers of every call it sees,
// in order: pick chooses it (the grpc-encoding that compressed the call's messages in that
// direction, or the :authority a server got).
type headerLog struct {
	pick func(*stats.InHeader) string
	mu   sync.Mutex
	seen []string
}

// encodingLog records the grpc-encoding of each call's headers.
func encodingLog() *headerLog {
	return &headerLog{pick: func(h *stats.InHeader) string { return h.Compression }}
}

func (l *headerLog) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (l *headerLog) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (l *headerLog) HandleConn(context.Context, stats.ConnStats) {}
func (l *headerLog) HandleRPC(_ context.Context, s stats.RPCStats) {
	if h, ok := s.(*stats.InHeader); ok {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.seen = append(l.seen, l.pick(h))
	}
}

// last is the latest value recorded, "<none>" before any.
func (l *headerLog) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.seen) == 0 {
		return "<none>"
	}
	return l.seen[len(l.seen)-1]
}

// take returns the values recorded since the last take.
func (l *headerLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := l.seen
	l.seen = nil
	return seen
}

// newPeer starts a server with the faults f and the server options serverOpts, and makes the
// executor's channel to it; clientLimitsIgnored is --client_fault=scripted-client-limits-ignored.
// Every channel (shared or own) records the response encodings in responses.
func newPeer(t *testing.T, f faults.Set, clientLimitsIgnored bool, serverOpts ...grpc.ServerOption) (*peer, *headerLog) {
	t.Helper()
	received := encodingLog()
	port := servertest.Start(t, f, append([]grpc.ServerOption{grpc.StatsHandler(received)}, serverOpts...)...)
	responses := encodingLog()
	opts := scripted.Options{LimitsIgnored: clientLimitsIgnored, Server: scripted.Server{Host: "127.0.0.1", Port: port}}
	opts.Dial = func(target string, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
		base := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithStatsHandler(responses)}
		return grpc.NewClient(target, append(base, extra...)...)
	}
	conn, err := opts.Dial("127.0.0.1:"+strconv.Itoa(port), opts.SharedDialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &peer{conn: conn, opts: opts, received: received}, responses
}

// run runs one instruction and returns its observation as plain JSON values.
func (p *peer) run(t *testing.T, instruction string) map[string]any {
	t.Helper()
	obs, err := scripted.ExecuteWith(p.conn, json.RawMessage(instruction), timeout, p.opts)
	if err != nil {
		t.Fatalf("%.200s: %v", instruction, err)
	}
	return plain(t, obs)
}

// code is the observed status code, -1 without a status.
func code(o map[string]any) int {
	c, ok := at(o, "status", "code").(float64)
	if !ok {
		return -1
	}
	return int(c)
}

func message(o map[string]any) string { s, _ := at(o, "status", "message").(string); return s }

// expectCode checks the observed status code, and that its message contains want (if given).
func expectCode(t *testing.T, what string, o map[string]any, c int, want ...string) {
	t.Helper()
	if code(o) != c {
		t.Errorf("%s: status %v, want code %d", what, at(o, "status"), c)
		return
	}
	for _, w := range want {
		if !strings.Contains(message(o), w) {
			t.Errorf("%s: status message %q lacks %q", what, message(o), w)
		}
	}
}

// requestOfSize is the "$fill_bytes" that makes {script:{}, values:{by:N zero bytes}} exactly
// size bytes long, serialized (proto.Size, not a formula).
func requestOfSize(t *testing.T, size int) int {
	t.Helper()
	for n := max(size-16, 0); n <= size; n++ {
		s := proto.Size(&pb.ScriptedRequest{Script: &pb.Script{}, Values: &pb.Values{By: make([]byte, n)}})
		if s == size {
			return n
		}
		if s > size {
			break
		}
	}
	t.Fatalf("no request of exactly %d bytes", size)
	return 0
}

// sizedRequest is a Unary instruction whose request is {script:{}, values:{by:N zero bytes}}
// of exactly size bytes; extra are more members of the instruction.
func sizedRequest(t *testing.T, size int, extra string) string {
	return fmt.Sprintf(`{"method":"Unary",%s"requests":[{"script":{},"$fill_bytes":%d}]}`, extra, requestOfSize(t, size))
}

// TestRequestSizeFormula: {script:{}, values:{by: N bytes}} is 2 + 1 + 4 + 1 + 4 + N bytes in
// the 4 MiB range (script: tag and length 0; values: tag, 4-byte length, then by: tag, 4-byte
// length, the bytes): the sizes the cases of the limits use.
func TestRequestSizeFormula(t *testing.T) {
	for _, n := range []int{defaultLimit - 12, defaultLimit - 11, 1 << 22, 8 << 20} {
		got := proto.Size(&pb.ScriptedRequest{Script: &pb.Script{}, Values: &pb.Values{By: make([]byte, n)}})
		if got != 12+n {
			t.Errorf("N = %d: %d bytes, want %d", n, got, 12+n)
		}
	}
}

// TestServerReceiveLimit: grpc.MaxRecvMsgSize (--max_receive_message_length) lowered to 1000:
// a request of 1000 bytes is taken, one of 1001 fails RESOURCE_EXHAUSTED, raised by grpc-go;
// under scripted-limits-ignored both are taken.
func TestServerReceiveLimit(t *testing.T) {
	p, _ := newPeer(t, nil, false, grpc.MaxRecvMsgSize(1000))
	o := p.run(t, sizedRequest(t, 1000, ""))
	expectCode(t, "1000 bytes", o, codeOK)
	if got := at(o, "responses", 0, "request_info", "requests", 0, "values", "by"); got == nil {
		t.Errorf("1000 bytes: the server reports no request: %v", o)
	}
	o = p.run(t, sizedRequest(t, 1001, ""))
	expectCode(t, "1001 bytes", o, codeResourceExhausted, "1001 vs. 1000")
	check(t, o, nil, "responses")

	ignored, _ := newPeer(t, faults.Set{faults.ScriptedLimitsIgnored: true}, false, grpc.MaxRecvMsgSize(1000))
	expectCode(t, "scripted-limits-ignored, 1001 bytes", ignored.run(t, sizedRequest(t, 1001, "")), codeOK)
}

// TestServerDefaultReceiveLimit: without the flag the server takes messages of up to 4 MiB
// (4194304 bytes) and refuses 4194305 bytes. The response, which carries the request back in
// RequestInfo, needs the client's own limit raised: a channel of the instruction's own.
func TestServerDefaultReceiveLimit(t *testing.T) {
	const roomy = `"channel":{"max_receive_message_length":67108864},`
	p, _ := newPeer(t, nil, false)
	o := p.run(t, sizedRequest(t, defaultLimit, roomy))
	expectCode(t, "4194304 bytes", o, codeOK)
	check(t, o, map[string]any{"$sha256": zeroDigest(defaultLimit - 12), "$length": defaultLimit - 12}, "responses", 0, "request_info", "requests", 0, "values", "by")
	o = p.run(t, sizedRequest(t, defaultLimit+1, roomy))
	expectCode(t, "4194305 bytes", o, codeResourceExhausted, "4194305 vs. 4194304")

	// scripted-limits-ignored: math.MaxInt32, whatever the options said.
	ignored, _ := newPeer(t, faults.Set{faults.ScriptedLimitsIgnored: true}, false, grpc.MaxRecvMsgSize(defaultLimit))
	expectCode(t, "scripted-limits-ignored, 4194305 bytes", ignored.run(t, sizedRequest(t, defaultLimit+1, roomy)), codeOK)
}

// zeroDigest is the SHA-256 of n zero bytes, in lowercase hex.
func zeroDigest(n int) string {
	sum := sha256.Sum256(make([]byte, n))
	return hex.EncodeToString(sum[:])
}

// The authority and peer of a call over 127.0.0.1 between ports of five digits (Linux's
// ephemeral ports, 32768-60999), as the sizes of responseOfSize count them.
const (
	sizedAuthority = "127.0.0.1:50000"
	sizedPeer      = "tcp:127.0.0.1:50000"
)

// fillForResponse is the fill_bytes of a one-reply unary script whose response (values.by of
// fill_bytes zero bytes, and RequestInfo with the request, a timeout_ms of 2 bytes, as for any
// deadline from 128 ms to 16 s, an authority and peer as long as sizedAuthority and sizedPeer,
// and active_calls 1) is exactly size bytes.
func fillForResponse(t *testing.T, size int) int {
	t.Helper()
	responseSize := func(n int) int {
		req := &pb.ScriptedRequest{Script: &pb.Script{Replies: []*pb.Reply{{FillBytes: int32(n)}}}}
		return proto.Size(&pb.ScriptedResponse{
			Values: &pb.Values{By: make([]byte, n)},
			RequestInfo: &pb.RequestInfo{TimeoutMs: 4999, Requests: []*pb.ScriptedRequest{req},
				Authority: proto.String(sizedAuthority), Peer: proto.String(sizedPeer), ActiveCalls: 1},
		})
	}
	for n := size - 100; n <= size; n++ {
		if s := responseSize(n); s == size {
			return n
		} else if s > size {
			break
		}
	}
	t.Fatalf("no response of exactly %d bytes", size)
	return 0
}

// responseOfSize is a Unary instruction whose response is exactly size bytes; extra are more
// members of the instruction.
func responseOfSize(t *testing.T, size int, extra string) string {
	return fmt.Sprintf(`{"method":"Unary",%s"requests":[{"script":{"replies":[{"fill_bytes":%d}]}}]}`, extra, fillForResponse(t, size))
}

// checkInfoWidth: the sizes of responseOfSize hold only while the server saw a deadline whose
// time left is a 2-byte varint, an authority and peer as long as sizedAuthority and sizedPeer,
// and an active_calls of 1 byte (1 to 127, as 1 is).
func checkInfoWidth(t *testing.T, o map[string]any) {
	t.Helper()
	info := at(o, "responses", 0, "request_info")
	ms, err := strconv.Atoi(fmt.Sprint(at(o, "responses", 0, "request_info", "timeout_ms")))
	authority, _ := at(o, "responses", 0, "request_info", "authority").(string)
	peer, _ := at(o, "responses", 0, "request_info", "peer").(string)
	active, aerr := strconv.Atoi(fmt.Sprint(at(o, "responses", 0, "request_info", "active_calls")))
	if err != nil || ms < 128 || ms > 16383 || len(authority) != len(sizedAuthority) || len(peer) != len(sizedPeer) || aerr != nil || active < 1 || active > 127 {
		t.Fatalf("request_info %v: the response was not the size computed", info)
	}
}

// TestClientDefaultReceiveLimit: grpc-go's client takes a response of 4194304 bytes and refuses
// one of 4194305 (RESOURCE_EXHAUSTED raised by the client library), on the shared channel;
// under scripted-client-limits-ignored it takes both.
func TestClientDefaultReceiveLimit(t *testing.T) {
	p, _ := newPeer(t, nil, false)
	o := p.run(t, responseOfSize(t, defaultLimit, ""))
	expectCode(t, "4194304 bytes", o, codeOK)
	checkInfoWidth(t, o)
	n := fillForResponse(t, defaultLimit)
	check(t, o, map[string]any{"$sha256": zeroDigest(n), "$length": n}, "responses", 0, "values", "by")
	o = p.run(t, responseOfSize(t, defaultLimit+1, ""))
	expectCode(t, "4194305 bytes", o, codeResourceExhausted, "4194305 vs. 4194304")

	ignored, _ := newPeer(t, nil, true)
	o = ignored.run(t, responseOfSize(t, defaultLimit+1, ""))
	expectCode(t, "scripted-client-limits-ignored, 4194305 bytes", o, codeOK)
	checkInfoWidth(t, o)
	// An instruction's channel limits are ignored too.
	o = ignored.run(t, responseOfSize(t, 2000, `"channel":{"max_receive_message_length":1000,"max_send_message_length":10},`))
	expectCode(t, "scripted-client-limits-ignored, channel limits", o, codeOK)
}

// TestChannelLimits: an instruction's channel with max_receive_message_length 1000 takes a
// response of 1000 bytes and refuses 1001; max_send_message_length 1000 refuses to send a
// request of 1001 bytes (both RESOURCE_EXHAUSTED from grpc-go's client). The shared channel
// keeps its defaults.
func TestChannelLimits(t *testing.T) {
	p, _ := newPeer(t, nil, false)
	const small = `"channel":{"max_receive_message_length":1000},`
	o := p.run(t, responseOfSize(t, 1000, small))
	expectCode(t, "receive 1000 bytes", o, codeOK)
	checkInfoWidth(t, o)
	expectCode(t, "receive 1001 bytes", p.run(t, responseOfSize(t, 1001, small)), codeResourceExhausted, "1001 vs. 1000")
	expectCode(t, "shared channel, 1001 bytes", p.run(t, responseOfSize(t, 1001, "")), codeOK)

	const smallSend = `"channel":{"max_send_message_length":1000,"max_receive_message_length":1048576},`
	expectCode(t, "send 1000 bytes", p.run(t, sizedRequest(t, 1000, smallSend)), codeOK)
	o = p.run(t, sizedRequest(t, 1001, smallSend))
	expectCode(t, "send 1001 bytes", o, codeResourceExhausted, "1001 vs. 1000")
	check(t, o, nil, "responses") // never sent: the server answered nothing

	// A channel of zero limits: nothing but an empty message goes or comes.
	o = p.run(t, `{"method":"Unary","channel":{"max_send_message_length":0},"requests":[{"script":{}}]}`)
	expectCode(t, "send limit 0", o, codeResourceExhausted)
}

// TestServerSendLimit: grpc.MaxSendMsgSize (--max_send_message_length) lowered to 1000: the
// server fails a response of 1001 bytes with RESOURCE_EXHAUSTED; under scripted-limits-ignored
// it sends it.
func TestServerSendLimit(t *testing.T) {
	p, _ := newPeer(t, nil, false, grpc.MaxSendMsgSize(1000))
	o := p.run(t, responseOfSize(t, 1000, ""))
	expectCode(t, "1000 bytes", o, codeOK)
	checkInfoWidth(t, o)
	expectCode(t, "1001 bytes", p.run(t, responseOfSize(t, 1001, "")), codeResourceExhausted, "1001 vs. 1000")

	ignored, _ := newPeer(t, faults.Set{faults.ScriptedLimitsIgnored: true}, false, grpc.MaxSendMsgSize(1000))
	expectCode(t, "scripted-limits-ignored, 1001 bytes", ignored.run(t, responseOfSize(t, 1001, "")), codeOK)
}

// TestRequestCompression: the per-call compression gzip compresses the request (the server's
// call headers say gzip) and it arrives intact; deflate, which grpc-go does not have, is passed
// on and grpc-go ends the call INTERNAL before sending anything; a channel's compression is the
// default of its calls.
func TestRequestCompression(t *testing.T) {
	p, _ := newPeer(t, nil, false)
	const values = `"values":{"s":"compressed ✓","by":"AAECAwQFBgcICQ==","strings":["a","a","a","a","a","a","a","a"]}`
	o := p.run(t, `{"method":"ClientStream","compression":"gzip","requests":[{"script":{}, `+values+`},{`+values+`}]}`)
	expectCode(t, "gzip", o, codeOK)
	if got := p.received.last(); got != "gzip" {
		t.Errorf("gzip: the server's call came with grpc-encoding %q", got)
	}
	for i := range 2 {
		check(t, o, "compressed ✓", "responses", 0, "request_info", "requests", i, "values", "s")
		check(t, o, bytesHex("00010203040506070809"), "responses", 0, "request_info", "requests", i, "values", "by")
	}

	o = p.run(t, `{"method":"Unary","compression":"deflate","requests":[{"script":{}}]}`)
	expectCode(t, "deflate", o, codeInternal, "Compressor is not installed", "deflate")
	check(t, o, nil, "local_error")
	check(t, o, nil, "responses")

	o = p.run(t, `{"method":"Unary","compression":"identity","requests":[{"script":{},`+values+`}]}`)
	expectCode(t, "identity", o, codeOK)
	if got := p.received.last(); got != "identity" && got != "" {
		t.Errorf("identity: the server's call came with grpc-encoding %q", got)
	}

	o = p.run(t, `{"method":"Unary","channel":{"compression":"gzip"},"requests":[{"script":{},`+values+`}]}`)
	expectCode(t, "channel gzip", o, codeOK)
	if got := p.received.last(); got != "gzip" {
		t.Errorf("channel gzip: the server's call came with grpc-encoding %q", got)
	}
	o = p.run(t, `{"method":"Unary","channel":{"compression":"deflate"},"requests":[{"script":{}}]}`)
	expectCode(t, "channel deflate", o, codeInternal, "Compressor is not installed")
	// The call's own compression wins over the channel's.
	o = p.run(t, `{"method":"Unary","channel":{"compression":"deflate"},"compression":"gzip","requests":[{"script":{}}]}`)
	expectCode(t, "channel deflate, call gzip", o, codeOK)
}

// TestResponseCompression: script.response_compression gzip compresses the responses (the
// client's call headers say gzip); deflate, which grpc-go does not have, ends the call before
// anything is sent with UNIMPLEMENTED and the contract's message.
func TestResponseCompression(t *testing.T) {
	p, responses := newPeer(t, nil, false)
	for _, method := range []string{"Unary", "ServerStream", "ClientStream", "BidiStream"} {
		o := p.run(t, `{"method":"`+method+`","requests":[{"script":{"response_compression":"gzip","replies":[{"values":{"s":"zipped"}}]}}]}`)
		expectCode(t, method+" gzip", o, codeOK)
		check(t, o, "zipped", "responses", 0, "values", "s")
		if got := responses.last(); got != "gzip" {
			t.Errorf("%s gzip: the response headers came with grpc-encoding %q", method, got)
		}

		o = p.run(t, `{"method":"`+method+`","requests":[{"script":{"response_compression":"deflate","send_headers_first":true,"headers":[{"key":"x-h","values":["v"]}],"replies":[{"values":{"s":"x"}}]}}]}`)
		expectCode(t, method+" deflate", o, codeUnimplemented, "scripted: cannot compress responses with deflate: ")
		check(t, o, nil, "responses")
		check(t, o, nil, "headers") // trailers-only: nothing was sent before the status
	}
}

// TestTimeouts: timeout_ms 0 is a deadline that has passed when the call is made
// (DEADLINE_EXCEEDED, on a new channel and on one already connected); 30 days and a year are
// given to grpc-go as they are, and the server sees about that much time left.
func TestTimeouts(t *testing.T) {
	p, _ := newPeer(t, nil, false)
	const zero = `{"method":"Unary","timeout_ms":0,"requests":[{"script":{}}]}`
	expectCode(t, "0 ms, new channel", p.run(t, zero), codeDeadlineExceeded)
	expectCode(t, "warm up", p.run(t, `{"method":"Unary","requests":[{"script":{}}]}`), codeOK)
	for _, method := range []string{"Unary", "ServerStream", "ClientStream", "BidiStream"} {
		o := p.run(t, `{"method":"`+method+`","timeout_ms":0,"requests":[{"script":{}}]}`)
		expectCode(t, method+" 0 ms", o, codeDeadlineExceeded)
		check(t, o, nil, "local_error")
	}
	expectCode(t, "0 ms, own channel", p.run(t, `{"method":"Unary","timeout_ms":0,"channel":{},"requests":[{"script":{}}]}`), codeDeadlineExceeded)

	for _, ms := range []int64{2_592_000_000, 31_536_000_000, scripted.MaxTimeoutMs} {
		o := p.run(t, fmt.Sprintf(`{"method":"Unary","timeout_ms":%d,"requests":[{"script":{}}]}`, ms))
		expectCode(t, fmt.Sprint(ms, " ms"), o, codeOK)
		left, err := strconv.ParseInt(fmt.Sprint(at(o, "responses", 0, "request_info", "timeout_ms")), 10, 64)
		if err != nil || left > ms || left < ms-10_000 {
			t.Errorf("timeout_ms %d: the server saw %v ms left", ms, at(o, "responses", 0, "request_info", "timeout_ms"))
		}
	}
}

// TestDeadlineIgnoredClientFault: under scripted-deadline-ignored every call gets the default
// deadline, whatever timeout_ms says.
func TestDeadlineIgnoredClientFault(t *testing.T) {
	p, _ := newPeer(t, nil, false)
	p.opts.DeadlineIgnored = true
	expectCode(t, "0 ms ignored", p.run(t, `{"method":"Unary","timeout_ms":0,"requests":[{"script":{}}]}`), codeOK)
	o := p.run(t, `{"method":"Unary","timeout_ms":2592000000,"requests":[{"script":{}}]}`)
	expectCode(t, "30 days ignored", o, codeOK)
	left, err := strconv.ParseInt(fmt.Sprint(at(o, "responses", 0, "request_info", "timeout_ms")), 10, 64)
	if err != nil || left > timeout.Milliseconds() || left < timeout.Milliseconds()-1000 {
		t.Errorf("30 days ignored: the server saw %v ms left, want about %v", at(o, "responses", 0, "request_info", "timeout_ms"), timeout)
	}
	// A timeout_ms out of range is still a broken instruction.
	if _, err := scripted.ExecuteWith(p.conn, json.RawMessage(`{"method":"Unary","timeout_ms":-1,"requests":[{"script":{}}]}`), timeout, p.opts); err == nil {
		t.Error("timeout_ms -1 ran")
	}
}

// TestInstructionMembersThatCannotRun: compression, channel, timeout_ms and $fill_bytes of the
// wrong type or range make an instruction that cannot run (the case fails).
func TestInstructionMembersThatCannotRun(t *testing.T) {
	p, _ := newPeer(t, nil, false)
	for _, member := range []string{
		`"compression":5`, `"compression":null`, `"compression":{"name":"gzip"}`,
		`"channel":"gzip"`, `"channel":null`, `"channel":[]`,
		`"channel":{"max_message_length":1}`, `"channel":{"Compression":"gzip"}`,
		`"channel":{"max_receive_message_length":-1}`, `"channel":{"max_send_message_length":1.5}`,
		`"channel":{"max_receive_message_length":"10"}`, `"channel":{"max_receive_message_length":null}`,
		`"channel":{"compression":"br"}`, `"channel":{"compression":1}`,
		`"channel":{"server_name":""}`, `"channel":{"server_name":5}`, `"channel":{"server_name":null}`,
		`"channel":{"server_name":["foo.test.google.fr"]}`, `"channel":{"server_name":{}}`, `"channel":{"server_name":true}`,
		`"channel":{"serverName":"foo.test.google.fr"}`,
		`"timeout_ms":-1`, `"timeout_ms":31622400001`, `"timeout_ms":1.5`, `"timeout_ms":"5"`, `"timeout_ms":null`,
	} {
		instruction := `{"method":"Unary",` + member + `,"requests":[{"script":{}}]}`
		if _, err := scripted.ExecuteWith(p.conn, json.RawMessage(instruction), timeout, p.opts); err == nil {
			t.Errorf("%s ran", instruction)
		}
	}
	for _, fill := range []string{`-1`, `"5"`, `1.5`, `null`, `4294967296`} {
		instruction := `{"method":"Unary","requests":[{"script":{},"$fill_bytes":` + fill + `}]}`
		if _, err := scripted.ExecuteWith(p.conn, json.RawMessage(instruction), timeout, p.opts); err == nil {
			t.Errorf("%s ran", instruction)
		}
	}
	// A channel needs a dialer.
	if _, err := scripted.Execute(p.conn, json.RawMessage(`{"method":"Unary","channel":{},"requests":[{"script":{}}]}`), timeout); err == nil {
		t.Error("an instruction with channel ran without a dialer")
	}
}

// TestFillBytes: "$fill_bytes" sets the request's values.by after the conversion (values made
// if absent, its other fields kept); a reply's fill_bytes sets the response's, the faults
// applying after, and RequestInfo reports the script as it came.
func TestFillBytes(t *testing.T) {
	p, _ := newPeer(t, nil, false)
	o := p.run(t, `{"method":"ClientStream","requests":[{"script":{"replies":[{"fill_bytes":3,"values":{"s":"kept","by":"/w=="}}]},"$fill_bytes":2},{"values":{"i32":1},"$fill_bytes":0}]}`)
	expectCode(t, "fill", o, codeOK)
	check(t, o, map[string]any{"s": "kept", "by": bytesHex("000000")}, "responses", 0, "values")
	check(t, o, map[string]any{"by": bytesHex("0000")}, "responses", 0, "request_info", "requests", 0, "values")
	check(t, o, map[string]any{"i32": "1"}, "responses", 0, "request_info", "requests", 1, "values")
	check(t, o, map[string]any{"fill_bytes": "3", "values": map[string]any{"s": "kept", "by": bytesHex("ff")}}, "responses", 0, "request_info", "requests", 0, "script", "replies", 0)

	truncated, _ := newPeer(t, faults.Set{faults.ScriptedBytesTruncated: true}, false)
	o = truncated.run(t, `{"method":"ServerStream","requests":[{"script":{"replies":[{"fill_bytes":3},{"fill_bytes":65538}]}}]}`)
	check(t, o, bytesHex("0000"), "responses", 0, "values", "by")
	check(t, o, map[string]any{"$sha256": zeroDigest(65537), "$length": 65537}, "responses", 1, "values", "by")
}

// TestLongBytesAreDigested: a bytes value of a message is hex up to 65536 bytes, its SHA-256
// and length past that (in repeated fields and maps too).
func TestLongBytesAreDigested(t *testing.T) {
	long := make([]byte, 65537)
	long[0] = 1
	sum := sha256.Sum256(long)
	v := &pb.Values{By: make([]byte, 65536), BytesList: [][]byte{long}, I32Bytes: map[int32][]byte{7: long}}
	got, err := json.Marshal(scripted.EncodeMessage(v.ProtoReflect()))
	if err != nil {
		t.Fatal(err)
	}
	digest := fmt.Sprintf(`{"$sha256":"%x","$length":65537}`, sum)
	want := fmt.Sprintf(`{"by":{"$bytes":"%s"},"bytes_list":[%s],"i32_bytes":{"7":%s}}`, strings.Repeat("00", 65536), digest, digest)
	if string(got) != want {
		t.Errorf("EncodeMessage = %.300s…, want %.300s…", got, want)
	}
}

// TestLargeRequestInTheInstruction: an instruction holding a 4 MiB+ base64 value is read and
// sent (a cases file of that size is read as a whole).
func TestLargeRequestInTheInstruction(t *testing.T) {
	p, _ := newPeer(t, faults.Set{faults.ScriptedLimitsIgnored: true}, true)
	raw := make([]byte, defaultLimit+1)
	for i := range raw {
		raw[i] = byte(i)
	}
	b64, _ := json.Marshal(raw) // base64
	o := p.run(t, `{"method":"Unary","requests":[{"script":{},"values":{"by":`+string(b64)+`}}]}`)
	expectCode(t, "4 MiB + 1 in the instruction", o, codeOK)
	sum := sha256.Sum256(raw)
	check(t, o, map[string]any{"$sha256": hex.EncodeToString(sum[:]), "$length": len(raw)}, "responses", 0, "request_info", "requests", 0, "values", "by")
}
