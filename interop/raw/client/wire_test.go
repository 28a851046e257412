package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"interopraw/internal/rawtest"
)

// The tests here run the client (in this process) against the fake server and check every
// frame each side sends.

func headersAction(endStream bool, kv ...string) map[string]any {
	pairs := [][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, []string{kv[i], kv[i+1]})
	}
	return map[string]any{"headers": pairs, "end_stream": endStream}
}

// request is a gRPC-looking request header block.
var request = []string{":method", "POST", ":scheme", "{scheme}", ":path", "/interop.scripted.Scripted/Unary",
	":authority", "{authority}", "content-type", "application/grpc", "te", "trailers"}

// replaced is kv with {scheme} and {authority} as the client replaces them over h2c.
func replaced(fc *fakeConn, kv []string) []string {
	r := strings.NewReplacer("{scheme}", "http", "{authority}", "127.0.0.1:"+portOf(fc.nc.LocalAddr().String()))
	out := make([]string, len(kv))
	for i, s := range kv {
		out[i] = r.Replace(s)
	}
	return out
}

func wantFields(fc *fakeConn, what string, got []hpack.HeaderField, want ...string) {
	fc.t.Helper()
	w := rawtest.Fields(want...)
	if len(got) != len(w) {
		fc.fatalf("%s: %q, want %q", what, got, w)
	}
	for i := range w {
		if got[i].Name != w[i].Name || got[i].Value != w[i].Value {
			fc.fatalf("%s: %q, want %q", what, got, w)
		}
	}
}

func equalInts(a, b []int) bool { return slicesEqual(a, b) }

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPrefaceSettingsHeadersAndTrailersOnly(t *testing.T) {
	port := startFake(t, func(fc *fakeConn) {
		fc.handshake()
		f := fc.read()
		want := []http2.Setting{{ID: http2.SettingEnablePush, Val: 0}, {ID: http2.SettingInitialWindowSize, Val: 1 << 20}}
		if f.Type != http2.FrameSettings || f.Ack || !slicesEqual(f.Settings, want) {
			fc.fatalf("first frame %+v, want SETTINGS %v", f, want)
		}
		if f := fc.read(); f.Type != http2.FrameWindowUpdate || f.Stream != 0 || f.Incr != 1<<20-65535 {
			fc.fatalf("second frame %+v, want WINDOW_UPDATE 0 by 1 MiB - 65535", f)
		}
		if f := fc.read(); f.Type != http2.FrameSettings || !f.Ack {
			fc.fatalf("third frame %+v, want the SETTINGS ack", f)
		}
		f = fc.read()
		if f.Type != http2.FrameHeaders || f.Stream != 1 || !f.EndStream || !slicesEqual(f.EndHeaders, []bool{true}) {
			fc.fatalf("request %+v, want one HEADERS frame on stream 1 with END_STREAM", f)
		}
		authority := "127.0.0.1:" + portOf(fc.nc.LocalAddr().String())
		wantFields(fc, "request headers", f.Fields, "X-First", "a", ":method", "POST", ":scheme", "http",
			":authority", authority, "x-both", "http://"+authority+"/{path}", "x-dup", "1", "x-dup", "2", "x-empty", "")
		fc.headers(1, true, ":status", "200", "content-type", "application/grpc", "grpc-status", "12", "grpc-message", "nope")
		fc.goodbye(http2.ErrCodeNo)
	})
	r := runCase(t, port, rawCase(0, headersAction(true, "X-First", "a", ":method", "POST", ":scheme", "{scheme}",
		":authority", "{authority}", "x-both", "{scheme}://{authority}/{path}", "x-dup", "1", "x-dup", "2", "x-empty", "")))
	wantRaw(t, r, `{"http_status":"200","headers":[[":status","200"],["content-type","application/grpc"],
		["grpc-status","12"],["grpc-message","nope"]],"end_stream_on_headers":true,"end":"end_stream"}`)
}

func TestHeaderBlocksAreCut(t *testing.T) {
	big := strings.Repeat("a", 40000) // 25000 bytes once Huffman-coded
	port := startFake(t, func(fc *fakeConn) {
		fc.handshake()
		f := fc.request()
		if n := len(f.Pieces); n < 3 || f.Pieces[n-1] > 7 || f.EndStream || !f.EndHeaders[n-1] {
			fc.fatalf("split block: pieces %v, END_HEADERS %v, END_STREAM %v; want pieces of 7 bytes, END_HEADERS on the last",
				f.Pieces, f.EndHeaders, f.EndStream)
		}
		for i, p := range f.Pieces[:len(f.Pieces)-1] {
			if p != 7 || f.EndHeaders[i] {
				fc.fatalf("split block: pieces %v, END_HEADERS %v", f.Pieces, f.EndHeaders)
			}
		}
		wantFields(fc, "split block", f.Fields, replaced(fc, request)...)
		for _, split := range []int{0, 20000} {
			f = fc.next()
			if f.Type != http2.FrameHeaders || f.Stream != 1 || len(f.Pieces) != 2 || f.Pieces[0] != 16384 ||
				!slicesEqual(f.EndHeaders, []bool{false, true}) || f.EndStream != (split > 0) {
				fc.fatalf("big block (split %d): %+v, want HEADERS of 16384 bytes then CONTINUATION", split, f)
			}
			wantFields(fc, "big block", f.Fields, "x-big", big)
		}
		fc.okResponse([]byte("hi"))
		fc.goodbye(http2.ErrCodeNo)
	})
	split := headersAction(false, request...)
	split["split"] = 7
	last := headersAction(true, "x-big", big)
	last["split"] = 20000
	r := runCase(t, port, rawCase(0, split, headersAction(false, "x-big", big), last))
	wantRaw(t, r, `{"http_status":"200","headers":[[":status","200"],["content-type","application/grpc"]],
		"trailers":[["grpc-status","0"]],"messages":[{"compressed":false,"hex":"6869"}],"data_bytes":7,"end":"end_stream"}`)
}

// The server's MAX_FRAME_SIZE cuts header blocks and DATA; its HEADER_TABLE_SIZE 0 keeps the
// client's encoder from indexing.
func TestServerSettingsApply(t *testing.T) {
	big := strings.Repeat("a", 40000)
	port := startFake(t, func(fc *fakeConn) {
		fc.dec = hpack.NewDecoder(0, nil)
		fc.handshake(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 20000}, http2.Setting{ID: http2.SettingHeaderTableSize, Val: 0})
		f := fc.request()
		if len(f.Pieces) != 2 || f.Pieces[0] != 20000 {
			fc.fatalf("big block pieces %v, want 20000 then the rest", f.Pieces)
		}
		for range 2 { // the same field again: indexed, it could not be decoded with a table of 0
			f = fc.next()
			wantFields(fc, "small block", f.Fields, "x-same", "v")
		}
		var sizes []int
		for f = fc.next(); f.Type == http2.FrameData; f = fc.next() {
			sizes = append(sizes, len(f.Data))
			if f.EndStream {
				break
			}
		}
		if !equalInts(sizes, []int{20000, 10005}) {
			fc.fatalf("DATA frames of %v bytes, want 20000 and 10005", sizes)
		}
		fc.headers(1, true, ":status", "200")
		fc.goodbye(http2.ErrCodeNo)
	})
	r := runCase(t, port, rawCase(0, headersAction(false, "x-big", big), headersAction(false, "x-same", "v"),
		headersAction(false, "x-same", "v"), map[string]any{"message": strings.Repeat("00", 30000), "end_stream": true}))
	wantRaw(t, r, `{"http_status":"200","headers":[[":status","200"]],"end_stream_on_headers":true,"end":"end_stream"}`)
}

func TestMessageAndDataActions(t *testing.T) {
	port := startFake(t, func(fc *fakeConn) {
		fc.handshake()
		fc.request()
		type dataFrame struct {
			hex string
			end bool
		}
		want := []dataFrame{{"010000", false}, {"00640a", false}, {"036162", false}, {"63", false}, // lying length, frame_size 3
			{"0000000000", false}, // an empty message
			{"abcd", false},       // data
			{"", true},            // an empty DATA frame with END_STREAM
		}
		for i, w := range want {
			f := fc.next()
			if f.Type != http2.FrameData || f.Stream != 1 || hexOf(f.Data) != w.hex || f.EndStream != w.end {
				fc.fatalf("DATA frame %d: %+v, want %x (END_STREAM %v)", i, f, w.hex, w.end)
			}
		}
		fc.okResponse(nil)
		fc.goodbye(http2.ErrCodeNo)
	})
	r := runCase(t, port, rawCase(0, headersAction(false, request...),
		map[string]any{"message": "0A03616263", "compressed": true, "length": 100, "frame_size": 3},
		map[string]any{"message": ""},
		map[string]any{"data": "ABcd"},
		map[string]any{"data": "", "end_stream": true}))
	wantRaw(t, r, `{"http_status":"200","headers":[[":status","200"],["content-type","application/grpc"]],
		"trailers":[["grpc-status","0"]],"messages":[{"compressed":false,"hex":""}],"data_bytes":5,"end":"end_stream"}`)
}

func TestResetAndGoAwayActions(t *testing.T) {
	port := startFake(t, func(fc *fakeConn) {
		fc.handshake()
		fc.request()
		if f := fc.next(); f.Type != http2.FrameRSTStream || f.Stream != 1 || f.Code != 8 {
			fc.fatalf("got %+v, want RST_STREAM 8 on stream 1", f)
		}
		if f := fc.next(); f.Type != http2.FrameGoAway || f.Stream != 0 || f.LastID != 0 || f.Code != 11 || string(f.Data) != "bye" {
			fc.fatalf("got %+v, want GOAWAY 11, last stream 0, debug bye", f)
		}
		if f := fc.next(); f.Type != http2.FrameGoAway || f.Code != 0 || len(f.Data) != 0 {
			fc.fatalf("got %+v, want GOAWAY 0 without debug data", f)
		}
		fc.check(fc.fr.WriteRSTStream(1, http2.ErrCodeNo))
		fc.goodbye(http2.ErrCodeNo)
	})
	r := runCase(t, port, rawCase(0, headersAction(false, request...), map[string]any{"rst_stream": 8},
		map[string]any{"goaway": 11, "debug": "bye"}, map[string]any{"goaway": 0}))
	wantRaw(t, r, `{"rst_stream":0,"end":"rst_stream"}`)
}

// wait holds the next action until the server's headers; the server's PING is answered
// meanwhile, so the ack must come before the DATA.
func TestWaitHeadersAndPing(t *testing.T) {
	port := startFake(t, func(fc *fakeConn) {
		fc.handshake()
		fc.request()
		ping := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
		fc.check(fc.fr.WritePing(false, ping))
		for {
			f := fc.read()
			if f.Type == http2.FrameSettings || f.Type == http2.FrameWindowUpdate {
				continue
			}
			if f.Type != http2.FramePing || !f.Ack || f.Ping != ping {
				fc.fatalf("got %+v, want the PING ack with the same data before anything else", f)
			}
			break
		}
		fc.headers(1, false, ":status", "200")
		if f := fc.next(); f.Type != http2.FrameData || !f.EndStream || hexOf(f.Data) != "00" {
			fc.fatalf("got %+v, want DATA 00 with END_STREAM after the headers", f)
		}
		fc.headers(1, true, "grpc-status", "0")
		fc.goodbye(http2.ErrCodeNo)
	})
	r := runCase(t, port, rawCase(0, headersAction(false, request...), map[string]any{"wait": "headers"},
		map[string]any{"data": "00", "end_stream": true}))
	wantRaw(t, r, `{"http_status":"200","headers":[[":status","200"]],"trailers":[["grpc-status","0"]],"end":"end_stream"}`)
}

// A stream that ends while the client waits for its headers ends the wait and the actions.
func TestWaitHeadersEndedByReset(t *testing.T) {
	port := startFake(t, func(fc *fakeConn) {
		fc.handshake()
		fc.request()
		fc.check(fc.fr.WriteRSTStream(1, http2.ErrCodeRefusedStream))
		fc.goodbye(http2.ErrCodeNo) // and no DATA
	})
	r := runCase(t, port, rawCase(0, headersAction(false, request...), map[string]any{"wait": "headers"},
		map[string]any{"data": "00", "end_stream": true}))
	wantRaw(t, r, `{"rst_stream":7,"end":"rst_stream"}`)
}

func TestSleep(t *testing.T) {
	port := startFake(t, func(fc *fakeConn) {
		fc.handshake()
		fc.request()
		if f := fc.next(); f.Type != http2.FrameData || !f.EndStream {
			fc.fatalf("got %+v, want DATA with END_STREAM", f)
		}
		fc.headers(1, true, ":status", "200", "grpc-status", "0")
		fc.goodbye(http2.ErrCodeNo)
	})
	r := runCase(t, port, rawCase(0, headersAction(false, request...), map[string]any{"sleep_ms": 100},
		map[string]any{"data": "", "end_stream": true}))
	if r.MS < 100 {
		t.Errorf("ms %v, want 100 or more (the sleep)", r.MS)
	}
	if r.Observed.Raw["end"] != "end_stream" {
		t.Errorf("end %v, want end_stream", r.Observed.Raw["end"])
	}
}

func TestResponseFramesAsTheyCame(t *testing.T) {
	// Three messages (flags 0, 1 and 2) and a partial one, sent one byte per DATA frame.
	body := []byte{0, 0, 0, 0, 3, 'a', 'b', 'c', 1, 0, 0, 0, 0, 2, 0, 0, 0, 1, 'x', 0, 0, 0, 0, 9, 1, 2}
	port := startFake(t, func(fc *fakeConn) {
		fc.handshake()
		fc.request()
		fc.headers(1, false, "X-Upper", "v", "bin", "\xff\xfe", "\xc3", "name", "x-dup", "1", "x-dup", "2")
		for _, b := range body {
			fc.check(fc.fr.WriteData(1, false, []byte{b}))
		}
		// Every byte is given back, for the connection and for the stream.
		credit := map[uint32]int{}
		for credit[0] < len(body) || credit[1] < len(body) {
			f := fc.read()
			switch {
			case f.Type == http2.FrameWindowUpdate && f.Incr == 1 && !f.EOF:
				credit[f.Stream]++
			case f.Type == http2.FrameSettings && !f.EOF:
			default:
				fc.fatalf("got %+v, want WINDOW_UPDATEs (credit so far %v)", f, credit)
			}
		}
		fc.headers(1, false, "grpc-status", "0")
		fc.headers(1, false, "x-third", "3")
		fc.headers(1, true)
		fc.goodbye(http2.ErrCodeNo)
	})
	r := runCase(t, port, rawCase(0, headersAction(false, request...)))
	wantRaw(t, r, `{"headers":[["X-Upper","v"],["bin",{"$bytes":"fffe"}],[{"$bytes":"c3"},"name"],["x-dup","1"],["x-dup","2"]],
		"trailers":[["grpc-status","0"]],"extra_header_blocks":[[["x-third","3"]],[]],
		"messages":[{"compressed":false,"hex":"616263"},{"compressed":true,"hex":""},{"compressed":false,"flag":2,"hex":"78"}],
		"data_left":"00000000090102","data_left_length":7,"data_bytes":26,"end":"end_stream"}`)
}

func TestServerResets(t *testing.T) {
	for _, code := range []http2.ErrCode{0, 2, 7, 8, 0xabcd} {
		t.Run(code.String(), func(t *testing.T) {
			port := startFake(t, func(fc *fakeConn) {
				fc.handshake()
				fc.request()
				fc.headers(1, false, ":status", "200")
				fc.check(fc.fr.WriteRSTStream(1, code))
				fc.goodbye(http2.ErrCodeNo)
			})
			r := runCase(t, port, rawCase(0, headersAction(true, request...)))
			wantRaw(t, r, `{"http_status":"200","headers":[[":status","200"]],"rst_stream":`+itoa(int(code))+`,"end":"rst_stream"}`)
		})
	}
}

func TestConnectionEnds(t *testing.T) {
	t.Run("goaway then close", func(t *testing.T) {
		port := startFake(t, func(fc *fakeConn) {
			fc.handshake()
			fc.request() // everything the client sent: the close is orderly (FIN)
			fc.check(fc.fr.WriteGoAway(0, http2.ErrCodeEnhanceYourCalm, []byte("calm down")))
			fc.nc.Close()
		})
		r := runCase(t, port, rawCase(0, headersAction(true, request...)))
		wantRaw(t, r, `{"goaway":{"code":11,"last_stream_id":0,"debug":"calm down"},"end":"connection_closed"}`)
	})
	t.Run("close", func(t *testing.T) {
		port := startFake(t, func(fc *fakeConn) {
			fc.handshake()
			fc.request()
			fc.headers(1, false, ":status", "200")
			fc.nc.Close()
		})
		r := runCase(t, port, rawCase(0, headersAction(true, request...)))
		wantRaw(t, r, `{"http_status":"200","headers":[[":status","200"]],"end":"connection_closed"}`)
	})
	t.Run("goaway, the stream finishes", func(t *testing.T) {
		port := startFake(t, func(fc *fakeConn) {
			fc.handshake()
			fc.request()
			fc.check(fc.fr.WriteGoAway(1, http2.ErrCodeNo, []byte{0xff}))
			fc.okResponse([]byte{7})
			fc.goodbye(http2.ErrCodeNo)
		})
		r := runCase(t, port, rawCase(0, headersAction(true, request...)))
		wantRaw(t, r, `{"http_status":"200","headers":[[":status","200"],["content-type","application/grpc"]],
			"trailers":[["grpc-status","0"]],"messages":[{"compressed":false,"hex":"07"}],"data_bytes":6,
			"goaway":{"code":0,"last_stream_id":1,"debug":{"$bytes":"ff"}},"end":"end_stream"}`)
	})
	t.Run("continuation without headers", func(t *testing.T) {
		port := startFake(t, func(fc *fakeConn) {
			fc.handshake()
			fc.request()
			fc.check(fc.fr.WriteContinuation(1, true, fc.block(":status", "200")))
			fc.goodbye(http2.ErrCodeProtocol)
		})
		r := runCase(t, port, rawCase(0, headersAction(true, request...)))
		if r.Observed.Raw["end"] != "connection_closed" || !strings.Contains(r.Observed.Raw["error"].(string), "PROTOCOL_ERROR") ||
			!strings.Contains(r.Observed.Raw["error"].(string), "CONTINUATION") {
			t.Errorf("got %s, want connection_closed with the protocol error", r.line)
		}
	})
	t.Run("undecodable header block", func(t *testing.T) {
		port := startFake(t, func(fc *fakeConn) {
			fc.handshake()
			fc.request()
			fc.check(fc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: []byte{0x80}, EndHeaders: true}))
			fc.goodbye(http2.ErrCodeCompression)
		})
		r := runCase(t, port, rawCase(0, headersAction(true, request...)))
		if r.Observed.Raw["end"] != "connection_closed" || !strings.Contains(r.Observed.Raw["error"].(string), "COMPRESSION_ERROR") ||
			r.Observed.Raw["headers"] != nil {
			t.Errorf("got %s, want connection_closed with the compression error", r.line)
		}
	})
}

func TestTimeout(t *testing.T) {
	hang := func(fc *fakeConn) {
		fc.handshake()
		fc.request()
		fc.headers(1, false, ":status", "200")
		fc.goodbye(http2.ErrCodeNo) // sent at the deadline
	}
	t.Run("timeout_ms", func(t *testing.T) {
		r := runCase(t, startFake(t, hang), rawCase(1000, headersAction(true, request...)), "--rpc_timeout_ms=600000")
		wantRaw(t, r, `{"http_status":"200","headers":[[":status","200"]],"end":"timeout"}`)
		if r.MS < 1000 {
			t.Errorf("ms %v, want 1000 or more", r.MS)
		}
	})
	t.Run("rpc_timeout_ms", func(t *testing.T) {
		r := runCase(t, startFake(t, hang), rawCase(0, headersAction(true, request...)), "--rpc_timeout_ms=1000")
		wantRaw(t, r, `{"http_status":"200","headers":[[":status","200"]],"end":"timeout"}`)
	})
	t.Run("sleep cut short", func(t *testing.T) {
		port := startFake(t, func(fc *fakeConn) {
			fc.handshake()
			fc.request()
			fc.goodbye(http2.ErrCodeNo)
		})
		r := runCase(t, port, rawCase(1000, headersAction(false, request...), map[string]any{"sleep_ms": 3_600_000}))
		wantRaw(t, r, `{"end":"timeout"}`)
	})
	t.Run("no server settings", func(t *testing.T) {
		port := startFake(t, func(fc *fakeConn) {
			preface := make([]byte, len(http2.ClientPreface))
			if _, err := io.ReadFull(fc.nc, preface); err != nil {
				fc.fatalf("%v", err)
			}
			fc.goodbye(http2.ErrCodeNo) // no HEADERS before it: the client waits for the SETTINGS
		})
		r := runCase(t, port, rawCase(1000, headersAction(true, request...)))
		wantRaw(t, r, `{"end":"timeout"}`)
	})
}

func TestFramesOfOtherStreamsAreIgnored(t *testing.T) {
	port := startFake(t, func(fc *fakeConn) {
		fc.handshake()
		fc.request()
		fc.headers(2, false, "x-shared", "v") // indexed: the decoder must have seen it
		fc.check(fc.fr.WriteData(3, true, []byte("12345")))
		fc.check(fc.fr.WriteRSTStream(3, http2.ErrCodeCancel))
		for {
			f := fc.read()
			if f.Type == http2.FrameWindowUpdate && f.Stream == 0 && f.Incr == 5 {
				break
			}
			if f.EOF || f.Type != http2.FrameSettings {
				fc.fatalf("got %+v, want WINDOW_UPDATE 0 by 5", f)
			}
		}
		fc.headers(1, true, ":status", "200", "x-shared", "v")
		fc.goodbye(http2.ErrCodeNo)
	})
	r := runCase(t, port, rawCase(0, headersAction(true, request...)))
	wantRaw(t, r, `{"http_status":"200","headers":[[":status","200"],["x-shared","v"]],"end_stream_on_headers":true,"end":"end_stream"}`)
}

func TestFlowControl(t *testing.T) {
	t.Run("stream window", func(t *testing.T) {
		port := startFake(t, func(fc *fakeConn) {
			fc.handshake(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
			fc.request()
			fc.check(fc.fr.WriteWindowUpdate(1, 4))
			if f := fc.next(); f.Type != http2.FrameData || hexOf(f.Data) != "00000000" || f.EndStream {
				fc.fatalf("got %+v, want the 4 bytes the window allows", f)
			}
			fc.check(fc.fr.WriteWindowUpdate(1, 100))
			if f := fc.next(); f.Type != http2.FrameData || hexOf(f.Data) != "050a03616263" || !f.EndStream {
				fc.fatalf("got %+v, want the rest with END_STREAM", f)
			}
			fc.okResponse(nil)
			fc.goodbye(http2.ErrCodeNo)
		})
		r := runCase(t, port, rawCase(0, headersAction(false, request...), map[string]any{"message": "0a03616263", "end_stream": true}))
		if r.Observed.Raw["end"] != "end_stream" {
			t.Errorf("got %s, want end_stream", r.line)
		}
	})
	t.Run("connection window", func(t *testing.T) {
		port := startFake(t, func(fc *fakeConn) {
			fc.handshake(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20})
			fc.request()
			sum, credit := 0, 65535
			for {
				f := fc.next()
				if f.Type != http2.FrameData || len(f.Data) > 16384 {
					fc.fatalf("got %+v, want DATA of 16384 bytes or less", f)
				}
				if sum += len(f.Data); sum > credit {
					fc.fatalf("%d bytes of DATA for a connection window of %d", sum, credit)
				}
				if f.EndStream {
					break
				}
				if sum == 65535 {
					credit += 100000
					fc.check(fc.fr.WriteWindowUpdate(0, 100000))
				}
			}
			if sum != 70005 {
				fc.fatalf("%d bytes of DATA, want 70005", sum)
			}
			fc.okResponse(nil)
			fc.goodbye(http2.ErrCodeNo)
		})
		r := runCase(t, port, rawCase(0, headersAction(false, request...), map[string]any{"message": strings.Repeat("00", 70000), "end_stream": true}))
		if r.Observed.Raw["end"] != "end_stream" {
			t.Errorf("got %s, want end_stream", r.line)
		}
	})
	t.Run("no window before the deadline", func(t *testing.T) {
		port := startFake(t, func(fc *fakeConn) {
			fc.handshake(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
			fc.request()
			fc.goodbye(http2.ErrCodeNo) // no DATA first
		})
		r := runCase(t, port, rawCase(1000, headersAction(false, request...), map[string]any{"message": "00", "end_stream": true}))
		wantRaw(t, r, `{"end":"timeout"}`)
	})
}

// failingConn fails every write once broken is closed.
type failingConn struct {
	net.Conn
	broken chan struct{}
}

func (c *failingConn) Write(p []byte) (int, error) {
	select {
	case <-c.broken:
		return 0, errors.New("injected write failure")
	default:
		return c.Conn.Write(p)
	}
}

func TestWriteError(t *testing.T) {
	fc := &failingConn{broken: make(chan struct{})}
	var log rawtest.Buffer
	port := startFake(t, func(s *fakeConn) {
		s.handshake()
		s.request()
		close(fc.broken)
		s.headers(1, false, ":status", "200")
		// Once the client has found that it cannot send the message, the server still answers.
		for deadline := time.Now().Add(rawtest.HangGuard); !strings.Contains(log.String(), "write failed"); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				s.fatalf("the client did not try to send the message")
			}
		}
		s.headers(1, true, "grpc-status", "0")
		if f := s.next(); !f.EOF { // no GOAWAY: the client cannot write any more
			s.fatalf("got %+v, want the end of the connection", f)
		}
	})
	cfg := config{host: "127.0.0.1", port: atoi(port), cases: []string{"c"}, timeout: rawtest.HangGuard,
		casesFile: writeCases(t, map[string]any{"c": rawCase(0, headersAction(false, request...),
			map[string]any{"wait": "headers"}, map[string]any{"message": "", "end_stream": true}, map[string]any{"sleep_ms": 3_600_000})})}
	p := newProgram(cfg, newTestLogger(&log))
	p.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		fc.Conn = nc
		return fc, err
	}
	line := p.runCase("c")
	if line.Status != "passed" {
		t.Fatalf("got %+v; log:\n%s", line, log.String())
	}
	var out bytes.Buffer
	if err := writeLine(&out, line); err != nil {
		t.Fatal(err)
	}
	r := parseLines(t, out.String())[0]
	wantRaw(t, r, `{"http_status":"200","headers":[[":status","200"]],"trailers":[["grpc-status","0"]],"end":"end_stream",
		"write_error":"actions[2] (message): injected write failure"}`)
	if t.Failed() {
		t.Logf("client log:\n%s", log.String())
	}
}

func TestConnectFailed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := portOf(ln.Addr().String())
	ln.Close()
	r := runCase(t, port, rawCase(0, headersAction(true, request...)))
	if r.Observed.Raw["end"] != "connect_failed" || !strings.Contains(r.Observed.Raw["error"].(string), "connecting to 127.0.0.1:"+port) {
		t.Errorf("got %s, want connect_failed with the reason", r.line)
	}
}
