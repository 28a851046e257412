package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"interopraw/internal/rawtest"
)

// The tests here drive an in-process server with the hand-written client of client_test.go
// and check the frames each action puts on the wire.

var (
	okHeaders  = rawtest.Fields(":status", "200", "content-type", "application/grpc")
	okTrailers = rawtest.Fields("grpc-status", "0")
)

func headersAction(fs []hpack.HeaderField, endStream bool) map[string]any {
	return map[string]any{"headers": pairs(fs), "end_stream": endStream}
}

func scenario(actions ...map[string]any) map[string]any {
	return map[string]any{"actions": actions}
}

func wantHeaders(t *testing.T, ev event, want []hpack.HeaderField, endStream bool) {
	t.Helper()
	if ev.Type != http2.FrameHeaders {
		t.Fatalf("got %+v, want a header block", ev)
	}
	if !reflect.DeepEqual(ev.Fields, want) {
		t.Errorf("header fields:\n got %v\nwant %v", ev.Fields, want)
	}
	if ev.EndStream != endStream {
		t.Errorf("END_STREAM %v, want %v", ev.EndStream, endStream)
	}
}

func wantData(t *testing.T, ev event, want []byte, endStream bool) {
	t.Helper()
	if ev.Type != http2.FrameData {
		t.Fatalf("got %+v, want DATA", ev)
	}
	if !bytes.Equal(ev.Data, want) {
		t.Errorf("DATA %x, want %x", ev.Data, want)
	}
	if ev.EndStream != endStream {
		t.Errorf("END_STREAM %v, want %v", ev.EndStream, endStream)
	}
}

func wantCount(t *testing.T, evs []event, n int) {
	t.Helper()
	if len(evs) != n {
		t.Fatalf("got %d events, want %d: %+v", len(evs), n, evs)
	}
}

func TestHeadersAsGivenInOrder(t *testing.T) {
	c := dial(t, startServer(t, false))
	// Upper-case names, a value no library would send, a repeated name, trailers before
	// the pseudo-header: all sent as they are.
	first := rawtest.Fields(":status", "200", "content-type", "application/grpc", "X-Upper-Case", "Value  with spaces",
		"x-dup", "1", "x-dup", "2", "x-bad-value", "line\nbreak")
	second := rawtest.Fields("grpc-status", "0", ":status", "200", "grpc-message", "")
	id := c.call(scenario(headersAction(first, false), headersAction(second, true)))
	evs := c.until(id)
	wantCount(t, evs, 2)
	wantHeaders(t, evs[0], first, false)
	wantHeaders(t, evs[1], second, true)
	for _, ev := range evs {
		if len(ev.Pieces) != 1 || !ev.EndHeaders[0] {
			t.Errorf("header block in %d frames (END_HEADERS %v), want one HEADERS frame", len(ev.Pieces), ev.EndHeaders)
		}
	}
}

func TestHeadersSplitIntoContinuation(t *testing.T) {
	c := dial(t, startServer(t, false))
	want := rawtest.Fields(":status", "200", "content-type", "application/grpc", "x-long", strings.Repeat("ab", 40))
	act := headersAction(want, true)
	act["split"] = 7
	id := c.call(scenario(act))
	evs := c.until(id)
	wantCount(t, evs, 1)
	ev := evs[0]
	wantHeaders(t, ev, want, true)
	total := 0
	for _, n := range ev.Pieces {
		total += n
	}
	if len(ev.Pieces) != (total+6)/7 || len(ev.Pieces) < 3 {
		t.Fatalf("pieces %v for a %d-byte block, want pieces of 7 bytes", ev.Pieces, total)
	}
	for i, n := range ev.Pieces {
		last := i == len(ev.Pieces)-1
		if !last && n != 7 || last && (n < 1 || n > 7) {
			t.Errorf("piece %d is %d bytes (pieces %v)", i, n, ev.Pieces)
		}
		if ev.EndHeaders[i] != last {
			t.Errorf("END_HEADERS on frame %d is %v (frames %v)", i, ev.EndHeaders[i], ev.EndHeaders)
		}
	}
}

func TestHeaderBlockLargerThanAFrame(t *testing.T) {
	c := dial(t, startServer(t, false))
	// Random-looking hex does not shrink much under Huffman coding.
	long := strings.Repeat("0123456789abcdef", 2500) // 40000 characters
	want := rawtest.Fields(":status", "200", "x-long", long)
	id := c.call(scenario(headersAction(want, true)))
	evs := c.until(id)
	wantCount(t, evs, 1)
	wantHeaders(t, evs[0], want, true)
	if p := evs[0].Pieces; len(p) < 2 || p[0] != 16384 {
		t.Errorf("pieces %v, want HEADERS of 16384 bytes (the default SETTINGS_MAX_FRAME_SIZE) then CONTINUATION", p)
	}
}

func TestClientMaxFrameSizeIsRespected(t *testing.T) {
	c := dial(t, startServer(t, false), http2.Setting{ID: http2.SettingMaxFrameSize, Val: 20000})
	payload := bytes.Repeat([]byte{0x5a}, 50000)
	id := c.call(scenario(
		headersAction(okHeaders, false),
		map[string]any{"data": hex.EncodeToString(payload)},
		map[string]any{"message": hex.EncodeToString(payload[:30000]), "frame_size": 25000, "end_stream": true},
	))
	evs := c.until(id)
	wantCount(t, evs, 1+3+2)
	var sizes []int
	for _, ev := range evs[1:] {
		sizes = append(sizes, len(ev.Data))
	}
	if want := []int{20000, 20000, 10000, 20000, 10005}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("DATA frame sizes %v, want %v", sizes, want)
	}
}

func TestMessageLengthPrefixMayLie(t *testing.T) {
	c := dial(t, startServer(t, false))
	id := c.call(scenario(
		headersAction(okHeaders, false),
		map[string]any{"message": "0a0B", "compressed": true, "length": 1000},
		map[string]any{"message": ""},
		headersAction(okTrailers, true),
	))
	evs := c.until(id)
	wantCount(t, evs, 4)
	wantData(t, evs[1], []byte{1, 0, 0, 0x03, 0xe8, 0x0a, 0x0b}, false)
	wantData(t, evs[2], []byte{0, 0, 0, 0, 0}, false)
	wantHeaders(t, evs[3], okTrailers, true)
}

func TestMessageInOneByteFrames(t *testing.T) {
	c := dial(t, startServer(t, false))
	id := c.call(scenario(
		headersAction(okHeaders, false),
		map[string]any{"message": hex.EncodeToString([]byte("hello")), "frame_size": 1, "end_stream": true},
	))
	evs := c.until(id)
	want := append([]byte{0, 0, 0, 0, 5}, "hello"...)
	wantCount(t, evs, 1+len(want))
	for i, ev := range evs[1:] {
		wantData(t, ev, want[i:i+1], i == len(want)-1)
	}
}

func TestDataExactBytes(t *testing.T) {
	c := dial(t, startServer(t, false))
	id := c.call(scenario(
		headersAction(okHeaders, false),
		map[string]any{"data": "DEADbeef"},
		map[string]any{"data": "", "end_stream": true},
	))
	evs := c.until(id)
	wantCount(t, evs, 3)
	wantData(t, evs[1], []byte{0xde, 0xad, 0xbe, 0xef}, false)
	wantData(t, evs[2], []byte{}, true)
}

func TestRSTStreamCodes(t *testing.T) {
	c := dial(t, startServer(t, false))
	for _, code := range []http2.ErrCode{http2.ErrCodeNo, http2.ErrCodeInternal, http2.ErrCodeRefusedStream, http2.ErrCodeCancel, 0x1234} {
		id := c.call(scenario(headersAction(okHeaders, false), map[string]any{"rst_stream": uint32(code)}))
		evs := c.until(id)
		wantCount(t, evs, 2)
		if evs[1].Type != http2.FrameRSTStream || evs[1].Code != code {
			t.Errorf("got %+v, want RST_STREAM %v", evs[1], code)
		}
	}
	// The connection is still usable.
	id := c.call(scenario(headersAction(okHeaders, true)))
	wantCount(t, c.until(id), 1)
}

func TestGoAway(t *testing.T) {
	c := dial(t, startServer(t, false))
	// The first call takes stream 1, so that the second one's id (3) is not the lowest.
	wantCount(t, c.until(c.call(scenario(headersAction(okHeaders, true)))), 1)

	id := c.call(scenario(
		map[string]any{"goaway": 0},
		headersAction(okHeaders, false),
		map[string]any{"goaway": 11, "last_stream_id": 1, "debug": "too much"},
		map[string]any{"message": "0a00"},
		headersAction(okTrailers, true),
	))
	evs := c.until(id)
	wantCount(t, evs, 5)
	if ev := evs[0]; ev.Type != http2.FrameGoAway || ev.Code != http2.ErrCodeNo || ev.LastID != id || len(ev.Data) != 0 {
		t.Errorf("got %+v, want GOAWAY NO_ERROR, last stream %d (the call's own), no debug data", ev, id)
	}
	if ev := evs[2]; ev.Type != http2.FrameGoAway || ev.Code != http2.ErrCodeEnhanceYourCalm || ev.LastID != 1 || string(ev.Data) != "too much" {
		t.Errorf("got %+v, want GOAWAY ENHANCE_YOUR_CALM, last stream 1, debug data \"too much\"", ev)
	}
	// The call in flight goes on after the GOAWAY.
	wantData(t, evs[3], []byte{0, 0, 0, 0, 2, 0x0a, 0}, false)
	wantHeaders(t, evs[4], okTrailers, true)
}

func TestClose(t *testing.T) {
	c := dial(t, startServer(t, false))
	id := c.call(scenario(headersAction(okHeaders, false), map[string]any{"close": true}, headersAction(okTrailers, true)))
	evs := c.until(id)
	wantCount(t, evs, 2)
	wantHeaders(t, evs[0], okHeaders, false)
	if !evs[1].EOF {
		t.Errorf("got %+v, want the connection closed without GOAWAY", evs[1])
	}
}

func TestSleepKeepsOrder(t *testing.T) {
	c := dial(t, startServer(t, false))
	id := c.call(scenario(headersAction(okHeaders, false), map[string]any{"sleep_ms": 1}, headersAction(okTrailers, true)))
	evs := c.until(id)
	wantCount(t, evs, 2)
	wantHeaders(t, evs[0], okHeaders, false)
	wantHeaders(t, evs[1], okTrailers, true)
}

// A request the server cannot read is answered INTERNAL, trailers-only, with the reason.
func TestUnreadableRequestIsInternal(t *testing.T) {
	c := dial(t, startServer(t, false))
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name, value, why string // value "": no x-raw-response-bin header
	}{
		{"missing", "", "no x-raw-response-bin header"},
		{"not base64", "!!!", "not base64"},
		{"not JSON", b64("{actions"), "not a JSON object"},
		{"not UTF-8", b64("\xff"), "not UTF-8"},
		{"no actions", b64(`{"respond_before_end":true}`), "no actions"},
		{"unknown member", b64(`{"actions":[],"respond":true}`), `unknown member "respond"`},
		{"no kind", b64(`{"actions":[{"end_stream":true}]}`), "actions[0]: an action has exactly one"},
		{"two kinds", b64(`{"actions":[{"data":"","rst_stream":8}]}`), "this one has 2: data, rst_stream"},
		{"member of another kind", b64(`{"actions":[{"data":"","split":2}]}`), `data: unknown member "split"`},
		{"bad hex", b64(`{"actions":[{"message":"zz"}]}`), "message: not hex"},
		{"bad pair", b64(`{"actions":[{"headers":[["a"]]}]}`), "headers[0]"},
		{"close false", b64(`{"actions":[{"close":false}]}`), "close"},
		{"negative code", b64(`{"actions":[{"rst_stream":-1}]}`), "rst_stream"},
		{"percent and non-ASCII", b64(`{"actions":[],"%é":1}`), `unknown member "%25%C3%A9"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := request(nil)
			if tc.value != "" {
				hs = append(hs, hpack.HeaderField{Name: scriptHeader, Value: tc.value})
			}
			id := c.open(hs, true)
			evs := c.until(id)
			wantCount(t, evs, 1)
			ev := evs[0]
			if len(ev.Fields) != 4 || !ev.EndStream {
				t.Fatalf("got %+v, want a trailers-only response", ev)
			}
			wantHeaders(t, ev, rawtest.Fields(":status", "200", "content-type", "application/grpc", "grpc-status", "13", "grpc-message", ev.Fields[3].Value), true)
			msg := ev.Fields[3].Value
			if !strings.HasPrefix(msg, "raw: ") || !strings.Contains(msg, tc.why) {
				t.Errorf("grpc-message %q, want \"raw: …%s…\"", msg, tc.why)
			}
			for _, b := range []byte(msg) {
				if b < 0x20 || b > 0x7e {
					t.Errorf("grpc-message %q is not percent-encoded", msg)
					break
				}
			}
		})
	}
}

func TestBase64WithoutPadding(t *testing.T) {
	c := dial(t, startServer(t, false))
	doc := `{"actions":[{"headers":[[":status","200"]],"end_stream":true}]}` // 62 bytes: padded
	value := base64.RawStdEncoding.EncodeToString([]byte(doc))
	id := c.open(append(request(nil), hpack.HeaderField{Name: scriptHeader, Value: value}), true)
	evs := c.until(id)
	wantCount(t, evs, 1)
	wantHeaders(t, evs[0], rawtest.Fields(":status", "200"), true)
}

// Without respond_before_end, nothing is sent before the request's END_STREAM; the request
// DATA gets its flow-control credit back.
func TestWaitsForTheEndOfTheRequest(t *testing.T) {
	c := dial(t, startServer(t, false))
	id := c.open(request(scenario(headersAction(okHeaders, true))), false)
	c.check(c.fr.WriteData(id, false, make([]byte, 100)))
	if evs := c.ping([8]byte{1}); len(evs) != 0 {
		t.Fatalf("the server answered before the end of the request: %+v", evs)
	}
	if c.credit[0] != 100 || c.credit[id] != 100 {
		t.Errorf("WINDOW_UPDATE credit %v, want 100 for the connection and for stream %d", c.credit, id)
	}
	// Another whole call in the meantime gives a server that does not wait time to show it.
	wantCount(t, c.until(c.call(scenario(headersAction(okHeaders, true)))), 1)
	if len(c.skipped) > 0 {
		t.Fatalf("the server answered before the end of the request: %+v", c.skipped)
	}
	c.check(c.fr.WriteData(id, true, make([]byte, 50)))
	evs := c.until(id)
	wantCount(t, evs, 1)
	wantHeaders(t, evs[0], okHeaders, true)
	c.ping([8]byte{2})
	if c.credit[0] != 155 || c.credit[id] != 100 {
		t.Errorf("WINDOW_UPDATE credit %v, want 155 for the connection (the other call's 5 bytes too), still 100 for the ended stream %d", c.credit, id)
	}
}

func TestRespondBeforeEnd(t *testing.T) {
	c := dial(t, startServer(t, false))
	doc := scenario(headersAction(okHeaders, false), map[string]any{"message": ""}, headersAction(okTrailers, true))
	doc["respond_before_end"] = true
	id := c.open(request(doc), false) // the request stays open
	evs := c.until(id)
	wantCount(t, evs, 3)
	wantHeaders(t, evs[2], okTrailers, true)
}

// Streams are served at once: a call answers while another one sleeps, and an RST_STREAM
// from the client ends the sleeping one.
func TestConcurrentStreams(t *testing.T) {
	c := dial(t, startServer(t, false))
	slow := c.call(scenario(headersAction(okHeaders, false), map[string]any{"sleep_ms": 3_600_000}, headersAction(okTrailers, true)))
	wantHeaders(t, c.next(), okHeaders, false) // the slow call sleeps from now on

	const n = 20
	var ids []uint32
	want := map[uint32][]byte{}
	for i := range n {
		msg := []byte(fmt.Sprintf("message of call %d", i))
		id := c.open(request(scenario(
			headersAction(okHeaders, false),
			map[string]any{"message": hex.EncodeToString(msg), "frame_size": 1},
			headersAction(okTrailers, true),
		)), false)
		ids = append(ids, id)
		want[id] = append([]byte{0, 0, 0, 0, byte(len(msg))}, msg...)
	}
	for _, id := range ids { // every request ends only once every stream is open
		c.check(c.fr.WriteData(id, true, nil))
	}
	got := map[uint32][]byte{}
	for _, ev := range c.until(ids...) {
		got[ev.Stream] = append(got[ev.Stream], ev.Data...)
	}
	if len(c.skipped) > 0 {
		t.Fatalf("the sleeping call sent %+v", c.skipped)
	}
	for _, id := range ids {
		if !bytes.Equal(got[id], want[id]) {
			t.Errorf("stream %d: DATA %q, want %q", id, got[id], want[id])
		}
	}

	c.check(c.fr.WriteRSTStream(slow, http2.ErrCodeCancel))
	id := c.call(scenario(headersAction(okHeaders, true)))
	wantCount(t, c.until(id), 1)
	if len(c.skipped) > 0 {
		t.Errorf("the call reset by the client sent %+v", c.skipped)
	}
}

func TestSettingsAndPing(t *testing.T) {
	addr := startServer(t, false)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := handshake(t, nc, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20})
	f, err := c.fr.ReadFrame()
	c.check(err)
	if sf, ok := f.(*http2.SettingsFrame); !ok || sf.IsAck() {
		t.Fatalf("first frame %v, want the server's SETTINGS", f)
	}
	c.check(c.fr.WriteSettingsAck())
	f, err = c.fr.ReadFrame()
	c.check(err)
	if sf, ok := f.(*http2.SettingsFrame); !ok || !sf.IsAck() {
		t.Fatalf("second frame %v, want the ack of the client's SETTINGS", f)
	}
	c.ping([8]byte{'r', 'a', 'w', 0, 1, 2, 3, 4})
}

// A client that announces SETTINGS_HEADER_TABLE_SIZE 0 gets header blocks that do not use
// the dynamic table (the client's decoder has none).
func TestHeaderTableSize(t *testing.T) {
	c := dial(t, startServer(t, false), http2.Setting{ID: http2.SettingHeaderTableSize, Val: 0})
	for range 3 {
		id := c.call(scenario(headersAction(rawtest.Fields(":status", "200", "x-same", "again and again"), true)))
		evs := c.until(id)
		wantCount(t, evs, 1)
	}
}

// A connection that ends before or during the preface (the runner's readiness probe) is
// dropped and does not disturb the others.
func TestProbesAreDropped(t *testing.T) {
	addr := startServer(t, false)
	kept := dial(t, addr)
	for _, send := range []string{"", "PRI * HTTP/2", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"} {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if send != "" {
			if _, err := nc.Write([]byte(send)); err != nil {
				t.Fatal(err)
			}
		}
		nc.Close()
	}
	wantCount(t, kept.until(kept.call(scenario(headersAction(okHeaders, true)))), 1)
	c := dial(t, addr)
	wantCount(t, c.until(c.call(scenario(headersAction(okHeaders, true)))), 1)
}

// After the client's GOAWAY the server finishes the streams it has, serves no new one and
// closes the connection.
func TestClientGoAway(t *testing.T) {
	c := dial(t, startServer(t, false))
	id := c.open(request(scenario(headersAction(okHeaders, false), map[string]any{"message": ""}, headersAction(okTrailers, true))), false)
	c.check(c.fr.WriteGoAway(0, http2.ErrCodeNo, nil))
	late := c.open(request(scenario(headersAction(okHeaders, true))), true)
	c.check(c.fr.WriteData(id, true, nil)) // the server closes no sooner than this
	evs := c.until(id, late)
	wantCount(t, evs, 4)
	wantHeaders(t, evs[2], okTrailers, true)
	if !evs[3].EOF {
		t.Errorf("got %+v, want the end of the connection", evs[3])
	}
}

func TestWellBehavedFault(t *testing.T) {
	c := dial(t, startServer(t, true))
	doc := scenario(map[string]any{"rst_stream": 2})
	doc["respond_before_end"] = true
	for _, hs := range [][]hpack.HeaderField{request(nil), request(doc)} {
		id := c.open(hs, false)
		if evs := c.ping([8]byte{byte(id)}); len(evs) != 0 {
			t.Fatalf("the server answered before the end of the request: %+v", evs)
		}
		c.check(c.fr.WriteData(id, true, []byte{0, 0, 0, 0, 0}))
		evs := c.until(id)
		wantCount(t, evs, 3)
		wantHeaders(t, evs[0], okHeaders, false)
		wantData(t, evs[1], []byte{0, 0, 0, 0, 0}, false)
		wantHeaders(t, evs[2], okTrailers, true)
	}
}
