package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"sync"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"interopraw/internal/rawwire"
)

// conn is one HTTP/2 connection. Its read loop (serve) answers SETTINGS and PING, gives back
// flow-control credit for request DATA and starts a goroutine per stream (stream.go). Every
// frame written, by the read loop or by a stream, is written through w, under its lock.
type conn struct {
	srv *server
	nc  net.Conn
	br  *bufio.Reader
	fr  *http2.Framer // w's

	ctx    context.Context // cancelled when the connection ends
	cancel context.CancelFunc

	w        *rawwire.Writer // its HPACK encoder is shared by every stream
	maxFrame int             // the client's SETTINGS_MAX_FRAME_SIZE; guarded by w's lock

	mu        sync.Mutex // streams, maxID, goingAway and the flags of every stream
	streams   map[uint32]*stream
	maxID     uint32
	goingAway bool
	handlers  sync.WaitGroup
}

func newConn(srv *server, nc net.Conn) *conn {
	c := &conn{
		srv:      srv,
		nc:       nc,
		br:       bufio.NewReader(nc),
		maxFrame: rawwire.DefaultMaxFrameSize,
		streams:  map[uint32]*stream{},
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	// A failed write closes the connection: that ends the read loop, which cancels every stream.
	c.w = rawwire.NewWriter(nc, c.br, func() { nc.Close() })
	c.fr = c.w.Framer
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	return c
}

// serve reads the connection until it ends. The caller closes nc.
func (c *conn) serve() {
	defer c.cancel()
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c.br, preface); err != nil {
		if !isClosedConn(err) {
			c.logf("reading the client preface: %v", err)
		}
		return // a readiness probe: connected, then closed
	}
	if string(preface) != http2.ClientPreface {
		c.logf("not an HTTP/2 client preface: %q", preface)
		return
	}
	if c.w.Write(func() error { return c.fr.WriteSettings() }) != nil {
		return
	}
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				c.logf("stream %d: %v", se.StreamID, err)
				c.streamError(se)
				continue
			}
			var ce http2.ConnectionError
			if errors.As(err, &ce) {
				c.logf("%v", err)
				c.mu.Lock()
				last := c.maxID
				c.mu.Unlock()
				_ = c.w.Write(func() error { return c.fr.WriteGoAway(last, http2.ErrCode(ce), nil) })
				return
			}
			if !isClosedConn(err) {
				c.logf("reading a frame: %v", err)
			}
			return
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			c.onHeaders(f)
		case *http2.DataFrame:
			c.onData(f)
		case *http2.RSTStreamFrame:
			if s := c.forget(f.StreamID); s != nil {
				s.cancel()
			}
		case *http2.SettingsFrame:
			if !f.IsAck() {
				c.onSettings(f)
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = c.w.Write(func() error { return c.fr.WritePing(true, f.Data) })
			}
		case *http2.GoAwayFrame:
			c.onGoAway()
		}
		// WINDOW_UPDATE, PRIORITY and the rest: nothing to do (send flow control is ignored).
	}
}

func (c *conn) onHeaders(f *http2.MetaHeadersFrame) {
	id := f.StreamID
	c.mu.Lock()
	if s := c.streams[id]; s != nil { // trailers of a request
		c.mu.Unlock()
		if f.StreamEnded() {
			c.endOfRequest(s)
		}
		return
	}
	if id%2 == 0 || id <= c.maxID || c.goingAway {
		c.mu.Unlock()
		return // a closed stream, a server-initiated id, or a new stream after the client's GOAWAY
	}
	c.maxID = id
	s := newStream(c, id)
	c.streams[id] = s
	c.handlers.Add(1)
	c.mu.Unlock()
	if f.StreamEnded() {
		c.endOfRequest(s)
	}
	fields := slices.Clone(f.Fields) // the framer reuses its slice
	go func() {
		defer c.handlers.Done()
		s.serve(fields)
	}()
}

// onData gives the DATA frame's flow-control credit back, for the connection and, while the
// request is still open, for the stream, so that a client never waits for a window.
func (c *conn) onData(f *http2.DataFrame) {
	n := f.Header().Length
	if n > 0 {
		_ = c.w.Write(func() error {
			if err := c.fr.WriteWindowUpdate(0, n); err != nil {
				return err
			}
			if !f.StreamEnded() && c.streamFor(f.StreamID) != nil {
				return c.fr.WriteWindowUpdate(f.StreamID, n)
			}
			return nil
		})
	}
	if f.StreamEnded() {
		if s := c.streamFor(f.StreamID); s != nil {
			c.endOfRequest(s)
		}
	}
}

func (c *conn) onSettings(f *http2.SettingsFrame) {
	_ = c.w.Write(func() error {
		_ = f.ForeachSetting(func(s http2.Setting) error {
			c.w.ApplySetting(s, &c.maxFrame)
			return nil
		})
		return c.fr.WriteSettingsAck()
	})
}

// onGoAway: no new stream is served; once every stream's actions are done, the connection
// is closed.
func (c *conn) onGoAway() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.goingAway {
		return
	}
	c.goingAway = true
	go func() {
		c.handlers.Wait()
		c.nc.Close()
	}()
}

// streamError answers a request the framer refused (a malformed header block) with
// RST_STREAM.
func (c *conn) streamError(se http2.StreamError) {
	c.mu.Lock()
	if se.StreamID > c.maxID && se.StreamID%2 == 1 {
		c.maxID = se.StreamID
	}
	c.mu.Unlock()
	if s := c.forget(se.StreamID); s != nil {
		s.cancel()
	}
	_ = c.w.Write(func() error { return c.fr.WriteRSTStream(se.StreamID, se.Code) })
}

// streamFor returns the stream id if it is open, else nil.
func (c *conn) streamFor(id uint32) *stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[id]
}

// forget removes the stream id (it is closed) and returns it, or nil if it was not open.
func (c *conn) forget(id uint32) *stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.streams[id]
	delete(c.streams, id)
	return s
}

// endOfRequest records the client's END_STREAM on s.
func (c *conn) endOfRequest(s *stream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.recvEnd {
		return
	}
	s.recvEnd = true
	close(s.requestEnded)
	if s.sentEnd {
		delete(c.streams, s.id)
	}
}

// endOfResponse records the server's END_STREAM on s; the caller holds w's lock.
func (c *conn) endOfResponse(s *stream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s.sentEnd = true
	if s.recvEnd {
		delete(c.streams, s.id)
	}
}

func (c *conn) logf(format string, args ...any) {
	c.srv.log.Printf("%s: "+format, append([]any{c.nc.RemoteAddr()}, args...)...)
}
