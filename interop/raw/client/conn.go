package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"interopraw/internal/rawwire"
)

// The client's own settings: no push, a 1 MiB stream window, and the connection window
// raised to 1 MiB by a WINDOW_UPDATE right after, so that a server is rarely blocked; every
// DATA frame received is given back at once.
const (
	clientWindow  = 1 << 20
	defaultWindow = 65535 // the initial windows before SETTINGS say otherwise (RFC 9113 6.9.2)
	headerTable   = 4096  // the client's SETTINGS_HEADER_TABLE_SIZE (the default)
	goodbyeWait   = time.Second
	caseStream    = 1 // the one request stream of a case
)

// conn is a case's HTTP/2 connection. Its reader goroutine (readLoop) reads every frame the
// server sends: it answers SETTINGS and PING, gives DATA's flow-control credit back, and
// records what arrives on stream 1 until the stream ends. The case's goroutine sends the
// actions' frames (perform.go). Every frame is written through w, under its lock.
type conn struct {
	log *log.Logger
	nc  net.Conn        // TLS or TCP: the frames
	tcp net.Conn        // the TCP connection under nc
	fr  *http2.Framer   // w's
	w   *rawwire.Writer // its HPACK table size follows the server's SETTINGS_HEADER_TABLE_SIZE

	mu            sync.Mutex // everything below
	maxFrame      int        // the server's SETTINGS_MAX_FRAME_SIZE
	initialWindow int64      // the server's SETTINGS_INITIAL_WINDOW_SIZE
	connCredit    int64      // WINDOW_UPDATE increments for the connection
	streamCredit  int64      // WINDOW_UPDATE increments for stream 1
	sent          int64      // DATA bytes sent (all on stream 1)
	rec           record
	ended         bool          // the stream ended: rec is final
	goAwayCode    http2.ErrCode // the code of the client's closing GOAWAY
	gone          bool          // the connection ended under the reader (EOF, a read error)
	blocks        int           // header blocks recorded
	settingsSeen  bool
	settings      chan struct{} // closed at the server's first SETTINGS
	headers       chan struct{} // closed at the first header block on stream 1
	done          chan struct{} // closed when the stream ends
	wake          chan struct{} // a window grew (one waiter: the case's goroutine)
	readerDone    chan struct{} // closed when readLoop returns
}

func newConn(nc, tcp net.Conn, logger *log.Logger) *conn {
	c := &conn{
		log:           logger,
		nc:            nc,
		tcp:           tcp,
		maxFrame:      rawwire.DefaultMaxFrameSize,
		initialWindow: defaultWindow,
		goAwayCode:    http2.ErrCodeNo,
		settings:      make(chan struct{}),
		headers:       make(chan struct{}),
		done:          make(chan struct{}),
		wake:          make(chan struct{}, 1),
		readerDone:    make(chan struct{}),
	}
	c.w = rawwire.NewWriter(nc, nc, nil)
	c.fr = c.w.Framer
	return c
}

// start sends the client preface, the client's SETTINGS and the connection's WINDOW_UPDATE.
func (c *conn) start() error {
	settings := []http2.Setting{
		{ID: http2.SettingEnablePush, Val: 0},
		{ID: http2.SettingInitialWindowSize, Val: clientWindow},
	}
	err := c.w.Write(func() error {
		if err := c.w.WriteClientPreface(); err != nil {
			return err
		}
		if err := c.fr.WriteSettings(settings...); err != nil {
			return err
		}
		return c.fr.WriteWindowUpdate(0, clientWindow-defaultWindow)
	})
	if err == nil {
		c.log.Printf("sent the client preface, SETTINGS ENABLE_PUSH=0 INITIAL_WINDOW_SIZE=%d, WINDOW_UPDATE stream=0 incr=%d",
			clientWindow, clientWindow-defaultWindow)
	}
	return err
}

// finish ends the stream with this end, unless it has ended; the caller holds mu.
func (c *conn) finishLocked(end string) {
	if c.ended {
		return
	}
	c.ended = true
	c.rec.end = end
	close(c.done)
}

// finish ends the stream with this end, unless it has ended.
func (c *conn) finish(end string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.finishLocked(end)
}

// isEnded tells whether the stream has ended.
func (c *conn) isEnded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// readLoop reads frames until the connection ends.
func (c *conn) readLoop() {
	defer close(c.readerDone)
	dec := hpack.NewDecoder(headerTable, nil)
	var (
		block       []byte // the header block being assembled
		blockStream uint32
		blockEnd    bool // its HEADERS had END_STREAM
		blockFrames int
	)
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				c.logf("received a frame in error on stream %d, ignored: %v", se.StreamID, err)
				continue
			}
			c.connectionEnded(err, c.fr.ErrorDetail())
			return
		}
		switch f := f.(type) {
		case *http2.HeadersFrame:
			block = append(block[:0], f.HeaderBlockFragment()...)
			blockStream, blockEnd, blockFrames = f.StreamID, f.StreamEnded(), 1
			c.logf("received %s", describe(f.Header()))
			if f.HeadersEnded() {
				if !c.headerBlock(dec, blockStream, blockEnd, block, blockFrames) {
					return
				}
			}

		case *http2.ContinuationFrame: // the framer checks that it follows its HEADERS
			block = append(block, f.HeaderBlockFragment()...)
			blockFrames++
			c.logf("received %s", describe(f.Header()))
			if f.HeadersEnded() {
				if !c.headerBlock(dec, blockStream, blockEnd, block, blockFrames) {
					return
				}
			}

		case *http2.PushPromiseFrame: // refused by ENABLE_PUSH=0; decoded to keep HPACK in step
			c.logf("received %s promised=%d, ignored", describe(f.Header()), f.PromiseID)
			if f.HeadersEnded() {
				if !c.headerBlock(dec, f.StreamID, false, f.HeaderBlockFragment(), 1) {
					return
				}
			}

		case *http2.DataFrame:
			c.logf("received %s", describe(f.Header()))
			c.onData(f)

		case *http2.RSTStreamFrame:
			c.logf("received %s code=%d (%v)", describe(f.Header()), uint32(f.ErrCode), f.ErrCode)
			if f.StreamID == caseStream {
				c.mu.Lock()
				if !c.ended {
					code := uint32(f.ErrCode)
					c.rec.rstCode = &code
					c.finishLocked(endByRSTStream)
				}
				c.mu.Unlock()
			}

		case *http2.SettingsFrame:
			c.onSettings(f)

		case *http2.PingFrame:
			c.logf("received %s data=%x", describe(f.Header()), f.Data)
			if !f.IsAck() && !c.isEnded() {
				if c.w.Write(func() error { return c.fr.WritePing(true, f.Data) }) == nil {
					c.logf("sent PING ack data=%x", f.Data)
				}
			}

		case *http2.WindowUpdateFrame:
			c.logf("received %s incr=%d", describe(f.Header()), f.Increment)
			c.mu.Lock()
			switch f.StreamID {
			case 0:
				c.connCredit += int64(f.Increment)
			case caseStream:
				c.streamCredit += int64(f.Increment)
			}
			c.mu.Unlock()
			c.wakeUp()

		case *http2.GoAwayFrame:
			c.logf("received %s last_stream_id=%d code=%d (%v) debug=%q", describe(f.Header()),
				f.LastStreamID, uint32(f.ErrCode), f.ErrCode, f.DebugData())
			c.mu.Lock()
			if !c.ended && c.rec.goAway == nil {
				c.rec.goAway = &goAway{Code: uint32(f.ErrCode), LastStreamID: f.LastStreamID, Debug: text(string(f.DebugData()))}
			}
			c.mu.Unlock()

		default:
			c.logf("received %s, ignored", describe(f.Header()))
		}
	}
}

// headerBlock decodes a whole header block and records it if it is stream 1's; false when
// the block cannot be decoded (the connection is then over: HPACK is out of step).
func (c *conn) headerBlock(dec *hpack.Decoder, stream uint32, endStream bool, block []byte, frames int) bool {
	fields, err := dec.DecodeFull(block)
	if err != nil {
		c.connectionEnded(http2.ConnectionError(http2.ErrCodeCompression),
			fmt.Errorf("the header block of stream %d (%d bytes in %d frames) cannot be decoded: %v", stream, len(block), frames, err))
		return false
	}
	c.logf("  header block of stream %d: %d fields, %d bytes in %d frames%s", stream, len(fields), len(block), frames,
		map[bool]string{true: ", END_STREAM", false: ""}[endStream])
	for _, f := range fields {
		c.logf("    %s", showField(f))
	}
	if stream != caseStream {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return true
	}
	c.rec.blocks = append(c.rec.blocks, fields)
	c.blocks++
	if c.blocks == 1 {
		c.rec.endOnFirst = endStream
		close(c.headers)
	}
	if endStream {
		c.finishLocked(endByEndStream)
	}
	return true
}

// onData records stream 1's DATA and gives the frame's flow-control credit back: for the
// connection, and for the stream while it is open.
func (c *conn) onData(f *http2.DataFrame) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	open := false
	if f.StreamID == caseStream {
		c.rec.data = append(c.rec.data, f.Data()...)
		c.rec.dataFrames++
		if f.StreamEnded() {
			c.finishLocked(endByEndStream)
		} else {
			open = true
		}
	}
	c.mu.Unlock()
	n := f.Header().Length // padding included
	if n == 0 {
		return
	}
	err := c.w.Write(func() error {
		if err := c.fr.WriteWindowUpdate(0, n); err != nil {
			return err
		}
		if open {
			return c.fr.WriteWindowUpdate(f.StreamID, n)
		}
		return nil
	})
	if err == nil {
		if open {
			c.logf("sent WINDOW_UPDATE stream=0 and stream=%d incr=%d", f.StreamID, n)
		} else {
			c.logf("sent WINDOW_UPDATE stream=0 incr=%d", n)
		}
	}
}

// onSettings applies the server's MAX_FRAME_SIZE, INITIAL_WINDOW_SIZE and HEADER_TABLE_SIZE
// and acknowledges them.
func (c *conn) onSettings(f *http2.SettingsFrame) {
	var shown []string
	_ = f.ForeachSetting(func(s http2.Setting) error {
		shown = append(shown, s.String())
		return nil
	})
	c.logf("received %s", strings.Join(append([]string{describe(f.Header())}, shown...), " "))
	if f.IsAck() {
		return
	}
	c.w.Lock()
	c.mu.Lock()
	_ = f.ForeachSetting(func(s http2.Setting) error {
		if !c.w.ApplySetting(s, &c.maxFrame) && s.ID == http2.SettingInitialWindowSize && s.Valid() == nil {
			c.initialWindow = int64(s.Val) // the stream's window moves by the difference
		}
		return nil
	})
	ended := c.ended
	first := !c.settingsSeen
	c.settingsSeen = true
	c.mu.Unlock()
	if !ended && c.w.WriteLocked(func() error { return c.fr.WriteSettingsAck() }) == nil {
		c.logf("sent SETTINGS ack")
	}
	c.w.Unlock()
	if first {
		close(c.settings)
	}
	c.wakeUp()
}

// connectionEnded records the end of the connection: err from reading (detail, if any, says
// more); io.EOF is the server's orderly close.
func (c *conn) connectionEnded(err, detail error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ce http2.ConnectionError
	isConnErr := errors.As(err, &ce)
	c.gone = !isConnErr
	if c.ended {
		return // the case closed the connection, or it is over anyway
	}
	switch {
	case err == io.EOF:
		c.log.Printf("the server closed the connection")
	case isConnErr:
		c.goAwayCode = http2.ErrCode(ce)
		text := fmt.Sprintf("connection error %v", http2.ErrCode(ce))
		if detail != nil {
			text += ": " + detail.Error()
		}
		c.rec.err = text
		c.log.Printf("%s", text)
	default:
		c.rec.err = "reading a frame: " + err.Error()
		c.log.Printf("%s", c.rec.err)
	}
	c.finishLocked(endByClose)
}

// wakeUp tells a writer waiting for window that the windows changed.
func (c *conn) wakeUp() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// logf logs a line of the case: frames received and the client's answers to them.
func (c *conn) logf(format string, args ...any) {
	c.log.Printf(format, args...)
}

// describe shows a frame header: "HEADERS stream=1 flags=END_STREAM|END_HEADERS len=12".
func describe(h http2.FrameHeader) string {
	flags := ""
	for _, w := range strings.Fields(strings.Trim(h.String(), "[]")) { // [FrameHeader HEADERS flags=… stream=1 len=12]
		if strings.HasPrefix(w, "flags=") {
			flags = " " + w
		}
	}
	return fmt.Sprintf("%v stream=%d%s len=%d", h.Type, h.StreamID, flags, h.Length)
}

// showField shows a header field on one line, quoted when it is not plain printable ASCII,
// a long value cut.
func showField(f hpack.HeaderField) string {
	plain := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] > 0x7e {
				return false
			}
		}
		return s != ""
	}
	name, value := f.Name, f.Value
	if !plain(name) {
		name = fmt.Sprintf("%q", name)
	}
	cut := ""
	if len(value) > maxLoggedValue {
		value, cut = value[:maxLoggedValue], fmt.Sprintf("… (%d bytes in all)", len(f.Value))
	}
	if !plain(value) || strings.TrimSpace(value) != value {
		value = fmt.Sprintf("%q", value)
	}
	return name + ": " + value + cut
}

// maxLoggedValue: a longer header value is cut in the log.
const maxLoggedValue = 200

// close closes the TCP connection and waits, a little, for the reader to see it.
func (c *conn) close() {
	c.tcp.Close()
	select {
	case <-c.readerDone:
	case <-time.After(goodbyeWait):
		c.log.Printf("the reader did not stop within %v of the close", goodbyeWait)
	}
}

// maxFrameSize is the server's SETTINGS_MAX_FRAME_SIZE.
func (c *conn) maxFrameSize() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.maxFrame
}

// reserve takes up to want bytes (want > 0) of send window, cut at the server's
// MAX_FRAME_SIZE, waiting while the connection's or the stream's window is closed. It
// returns 0 when the stream ends or ctx's deadline passes first.
func (c *conn) reserve(ctx context.Context, want int) int {
	for logged := false; ; logged = true {
		c.mu.Lock()
		if c.ended {
			c.mu.Unlock()
			return 0
		}
		avail := min(defaultWindow+c.connCredit-c.sent, c.initialWindow+c.streamCredit-c.sent, int64(c.maxFrame), int64(want))
		if avail > 0 {
			c.sent += avail
			c.mu.Unlock()
			return int(avail)
		}
		connWin, streamWin := defaultWindow+c.connCredit-c.sent, c.initialWindow+c.streamCredit-c.sent
		c.mu.Unlock()
		if !logged {
			c.log.Printf("waiting for window: connection %d, stream %d", connWin, streamWin)
		}
		select {
		case <-c.wake:
		case <-c.done:
		case <-ctx.Done():
			return 0
		}
	}
}
