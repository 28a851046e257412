package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"interopraw/internal/rawtest"
	"interopraw/internal/rawwire"
)

// startServer serves on an ephemeral loopback port in this process and returns its address.
func startServer(t *testing.T, wellBehaved bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(nil, wellBehaved, testLogger(t))
	go srv.serve(ln)
	t.Cleanup(srv.close)
	return ln.Addr().String()
}

// testLogger keeps the server's log and shows it when the test fails.
func testLogger(t *testing.T) *log.Logger {
	buf := &rawtest.Buffer{}
	t.Cleanup(func() {
		if s := buf.String(); t.Failed() && s != "" {
			t.Logf("server log:\n%s", s)
		}
	})
	return log.New(buf, "raw server: ", 0)
}

// event is one thing the client saw: a frame, a whole header block (HEADERS and its
// CONTINUATION frames), or the end of the connection.
type event = rawtest.Frame

// testClient is a hand-written HTTP/2 client: it shows every frame the server sends.
type testClient struct {
	t       *testing.T
	nc      net.Conn
	fr      *http2.Framer
	enc     *hpack.Encoder
	encBuf  bytes.Buffer
	dec     *hpack.Decoder
	nextID  uint32
	credit  map[uint32]uint32 // WINDOW_UPDATE increments received, per stream (0: connection)
	skipped []event           // what until read for streams it was not asked about
}

// dial connects, sends the preface and the client's SETTINGS.
func dial(t *testing.T, addr string, settings ...http2.Setting) *testClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return handshake(t, nc, settings...)
}

func handshake(t *testing.T, nc net.Conn, settings ...http2.Setting) *testClient {
	t.Helper()
	t.Cleanup(func() { nc.Close() })
	c := &testClient{t: t, nc: nc, nextID: 1, credit: map[uint32]uint32{}}
	c.fr = http2.NewFramer(nc, nc)
	c.enc = hpack.NewEncoder(&c.encBuf)
	table := uint32(4096)
	for _, s := range settings {
		if s.ID == http2.SettingHeaderTableSize {
			table = s.Val
		}
	}
	c.dec = hpack.NewDecoder(table, nil)
	if _, err := io.WriteString(nc, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	c.check(c.fr.WriteSettings(settings...))
	return c
}

func (c *testClient) check(err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
}

// request is the header block of a gRPC request; doc, if not nil, becomes x-raw-response-bin.
func request(doc any) []hpack.HeaderField {
	fields := rawwire.RequestHeaders("http", "/interop.raw.Raw/Call", "localhost")
	if doc != nil {
		fields = append(fields, hpack.HeaderField{Name: scriptHeader, Value: encodeDoc(doc)})
	}
	return fields
}

func encodeDoc(doc any) string {
	text, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(text)
}

// open starts a stream with these request headers and returns its id.
func (c *testClient) open(fields []hpack.HeaderField, endStream bool) uint32 {
	c.t.Helper()
	id := c.nextID
	c.nextID += 2
	c.encBuf.Reset()
	for _, f := range fields {
		c.check(c.enc.WriteField(f))
	}
	c.check(c.fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID: id, BlockFragment: c.encBuf.Bytes(), EndStream: endStream, EndHeaders: true,
	}))
	return id
}

// call starts a stream whose script is doc and sends a whole request (one empty message).
func (c *testClient) call(doc any) uint32 {
	c.t.Helper()
	id := c.open(request(doc), false)
	c.check(c.fr.WriteData(id, true, []byte{0, 0, 0, 0, 0}))
	return id
}

// next returns the next frame (a whole header block for HEADERS); it answers SETTINGS and
// counts WINDOW_UPDATE credit without returning them.
func (c *testClient) next() event {
	c.t.Helper()
	for {
		c.check(c.nc.SetReadDeadline(time.Now().Add(rawtest.HangGuard)))
		f, err := c.fr.ReadFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatalf("no frame from the server in %v", rawtest.HangGuard)
			}
			return event{EOF: true}
		}
		ev, err := rawtest.FrameOf(c.fr, c.dec, f)
		c.check(err)
		switch ev.Type {
		case http2.FrameSettings:
			if !ev.Ack {
				c.check(c.fr.WriteSettingsAck())
			}
		case http2.FrameWindowUpdate:
			c.credit[ev.Stream] += ev.Incr
		case http2.FramePing:
			if ev.Ack {
				return ev
			}
		case http2.FrameHeaders, http2.FrameData, http2.FrameRSTStream, http2.FrameGoAway:
			return ev
		default:
			c.t.Fatalf("unexpected frame %v", f)
		}
	}
}

// until returns the events of the given streams, and those of the connection (GOAWAY, its
// end), until each stream has ended (END_STREAM or RST_STREAM from the server) or the
// connection ends.
func (c *testClient) until(ids ...uint32) []event {
	c.t.Helper()
	open := map[uint32]bool{}
	for _, id := range ids {
		open[id] = true
	}
	var got []event
	for len(open) > 0 {
		ev := c.next()
		if ev.EOF {
			return append(got, ev)
		}
		if ev.Type == http2.FramePing {
			continue
		}
		if ev.Stream == 0 || open[ev.Stream] {
			got = append(got, ev)
		} else {
			c.skipped = append(c.skipped, ev)
		}
		if ev.Stream != 0 && (ev.EndStream || ev.Type == http2.FrameRSTStream) {
			delete(open, ev.Stream)
		}
	}
	return got
}

// ping sends a PING and reads until its ack, returning the events read on the way.
func (c *testClient) ping(data [8]byte) []event {
	c.t.Helper()
	c.check(c.fr.WritePing(false, data))
	var got []event
	for {
		ev := c.next()
		switch {
		case ev.EOF:
			c.t.Fatal("the connection ended before the PING ack")
		case ev.Type != http2.FramePing:
			got = append(got, ev)
		case ev.Ping == data:
			return got
		}
	}
}

// pairs is the JSON form of header fields in a headers action.
func pairs(fs []hpack.HeaderField) [][]string {
	out := [][]string{}
	for _, f := range fs {
		out = append(out, []string{f.Name, f.Value})
	}
	return out
}
