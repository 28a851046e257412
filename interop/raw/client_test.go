package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// hangGuard bounds every wait of the tests; no test depends on how long anything takes.
const hangGuard = 20 * time.Second

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
	var mu sync.Mutex
	var buf bytes.Buffer
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if t.Failed() && buf.Len() > 0 {
			t.Logf("server log:\n%s", buf.String())
		}
	})
	return log.New(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), "raw server: ", 0)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// event is one thing the client saw: a frame, a whole header block (HEADERS and its
// CONTINUATION frames), or the end of the connection.
type event struct {
	typ       http2.FrameType
	stream    uint32
	endStream bool

	fields     []hpack.HeaderField // header block, decoded
	pieces     []int               // header block: the fragment size of each frame
	endHeaders []bool              // header block: END_HEADERS of each frame

	data   []byte        // DATA payload, GOAWAY debug data
	code   http2.ErrCode // RST_STREAM, GOAWAY
	lastID uint32        // GOAWAY
	eof    bool          // the connection ended
}

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
	fields := []hpack.HeaderField{
		{Name: ":method", Value: "POST"},
		{Name: ":scheme", Value: "http"},
		{Name: ":path", Value: "/interop.raw.Raw/Call"},
		{Name: ":authority", Value: "localhost"},
		{Name: "content-type", Value: "application/grpc"},
		{Name: "te", Value: "trailers"},
	}
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
		c.check(c.nc.SetReadDeadline(time.Now().Add(hangGuard)))
		f, err := c.fr.ReadFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatalf("no frame from the server in %v", hangGuard)
			}
			return event{eof: true}
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				c.check(c.fr.WriteSettingsAck())
			}
		case *http2.WindowUpdateFrame:
			c.credit[f.StreamID] += f.Increment
		case *http2.PingFrame:
			if f.IsAck() {
				return event{typ: http2.FramePing, data: f.Data[:]}
			}
		case *http2.HeadersFrame:
			return c.headerBlock(f)
		case *http2.DataFrame:
			return event{typ: http2.FrameData, stream: f.StreamID, endStream: f.StreamEnded(), data: bytes.Clone(f.Data())}
		case *http2.RSTStreamFrame:
			return event{typ: http2.FrameRSTStream, stream: f.StreamID, code: f.ErrCode}
		case *http2.GoAwayFrame:
			return event{typ: http2.FrameGoAway, code: f.ErrCode, lastID: f.LastStreamID, data: bytes.Clone(f.DebugData())}
		default:
			c.t.Fatalf("unexpected frame %v", f)
		}
	}
}

func (c *testClient) headerBlock(f *http2.HeadersFrame) event {
	c.t.Helper()
	ev := event{typ: http2.FrameHeaders, stream: f.StreamID, endStream: f.StreamEnded()}
	block := bytes.Clone(f.HeaderBlockFragment())
	ev.pieces = append(ev.pieces, len(block))
	ev.endHeaders = append(ev.endHeaders, f.HeadersEnded())
	for !ev.endHeaders[len(ev.endHeaders)-1] {
		f, err := c.fr.ReadFrame()
		c.check(err)
		cf, ok := f.(*http2.ContinuationFrame)
		if !ok || cf.StreamID != ev.stream {
			c.t.Fatalf("a header block is followed by %v, not a CONTINUATION of stream %d", f, ev.stream)
		}
		block = append(block, cf.HeaderBlockFragment()...)
		ev.pieces = append(ev.pieces, len(cf.HeaderBlockFragment()))
		ev.endHeaders = append(ev.endHeaders, cf.HeadersEnded())
	}
	fields, err := c.dec.DecodeFull(block)
	if err != nil {
		c.t.Fatalf("decoding the header block of stream %d: %v", ev.stream, err)
	}
	ev.fields = fields
	return ev
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
		if ev.eof {
			return append(got, ev)
		}
		if ev.typ == http2.FramePing {
			continue
		}
		if ev.stream == 0 || open[ev.stream] {
			got = append(got, ev)
		} else {
			c.skipped = append(c.skipped, ev)
		}
		if ev.stream != 0 && (ev.endStream || ev.typ == http2.FrameRSTStream) {
			delete(open, ev.stream)
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
		case ev.eof:
			c.t.Fatal("the connection ended before the PING ack")
		case ev.typ != http2.FramePing:
			got = append(got, ev)
		case bytes.Equal(ev.data, data[:]):
			return got
		}
	}
}

// fields builds header fields from name/value pairs.
func fields(pairs ...string) []hpack.HeaderField {
	var out []hpack.HeaderField
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, hpack.HeaderField{Name: pairs[i], Value: pairs[i+1]})
	}
	return out
}

// pairs is the JSON form of header fields in a headers action.
func pairs(fs []hpack.HeaderField) [][]string {
	out := [][]string{}
	for _, f := range fs {
		out = append(out, []string{f.Name, f.Value})
	}
	return out
}

// repoRoot is the repository root, relative to interop/raw where go test runs.
func repoRoot(t *testing.T) string {
	t.Helper()
	root := "../.."
	if _, err := os.Stat(root + "/certs/server.pem"); err != nil {
		t.Fatalf("no certs/server.pem at the repository root: %v", err)
	}
	return root
}
