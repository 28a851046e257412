package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"interopraw/internal/rawwire"
)

// errStopped: an action stopped because the stream ended or the deadline passed.
var errStopped = errors.New("stopped")

// perform makes the case's connection, waits for the server's SETTINGS, performs the actions
// in order, waits for the end of stream 1 (or the deadline), closes the connection and
// returns what came back. The deadline bounds everything from the connection attempt on.
func (p *program) perform(logger *log.Logger, deadline time.Time, actions []rawwire.Action) *report {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	nc, tcp, err := p.connect(ctx, logger)
	if err != nil {
		logger.Printf("%v", err)
		return &report{End: endByConnectFail, Error: err.Error()}
	}
	_ = tcp.SetWriteDeadline(deadline) // no write outlives the case
	c := newConn(nc, tcp, logger)
	err = c.start()
	go c.readLoop()
	if err != nil {
		c.writeFailed(ctx, "sending the client preface", err)
	} else if c.await(ctx, c.settings) {
		r := strings.NewReplacer("{authority}", p.authority(), "{scheme}", p.scheme())
		for i, a := range actions {
			if !c.do(ctx, r, i, a) {
				break
			}
		}
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		c.finish(endByTimeout)
	}
	c.mu.Lock()
	end := c.rec.end
	c.mu.Unlock()
	logger.Printf("the stream ended: %s", end)
	c.goodbye()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec.report()
}

// await waits for ch; false when the stream ends or the deadline passes first.
func (c *conn) await(ctx context.Context, ch <-chan struct{}) bool {
	select {
	case <-ch:
		return !c.isEnded()
	case <-c.done:
		return false
	case <-ctx.Done():
		c.finish(endByTimeout)
		return false
	}
}

// do performs action i; false when the case's actions stop here (the stream ended, the
// deadline passed, or a write failed).
func (c *conn) do(ctx context.Context, r *strings.Replacer, i int, a rawwire.Action) bool {
	if c.isEnded() {
		return false
	}
	if ctx.Err() != nil {
		c.finish(endByTimeout)
		return false
	}
	var err error
	switch a.Kind {
	case "headers":
		fields := make([]hpack.HeaderField, len(a.Fields))
		for j, f := range a.Fields {
			fields[j] = hpack.HeaderField{Name: f.Name, Value: r.Replace(f.Value)}
		}
		err = c.sendHeaders(fields, a.Split, a.EndStream)

	case "message", "data":
		err = c.sendData(ctx, a.Payload, a.FrameSize, a.EndStream)

	case "rst_stream":
		err = c.w.Write(func() error { return c.fr.WriteRSTStream(caseStream, http2.ErrCode(a.Code)) })
		if err == nil {
			c.log.Printf("sent RST_STREAM stream=%d code=%d (%v)", caseStream, a.Code, http2.ErrCode(a.Code))
		}

	case "goaway":
		err = c.w.Write(func() error { return c.fr.WriteGoAway(0, http2.ErrCode(a.Code), []byte(a.Debug)) })
		if err == nil {
			c.log.Printf("sent GOAWAY last_stream_id=0 code=%d (%v) debug=%q", a.Code, http2.ErrCode(a.Code), a.Debug)
		}

	case "sleep_ms":
		c.log.Printf("sleeping %v", a.Sleep)
		t := time.NewTimer(a.Sleep)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-c.done:
			return false
		case <-ctx.Done():
			c.finish(endByTimeout)
			return false
		}

	case "wait":
		c.log.Printf("waiting for the server's headers")
		return c.await(ctx, c.headers)

	default:
		err = fmt.Errorf("unknown action kind %q", a.Kind)
	}
	if errors.Is(err, errStopped) {
		if ctx.Err() != nil {
			c.finish(endByTimeout)
		}
		return false
	}
	if err != nil {
		c.writeFailed(ctx, fmt.Sprintf("actions[%d] (%s)", i, a.Kind), err)
		return false
	}
	return true
}

// writeFailed records a failed write of what: write_error, unless the deadline is the reason
// (then the case has timed out). The reader goes on with what the server still sends.
func (c *conn) writeFailed(ctx context.Context, what string, err error) {
	if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
		c.log.Printf("%s: the deadline passed while writing: %v", what, err)
		c.finish(endByTimeout)
		return
	}
	c.mu.Lock()
	if !c.ended && c.rec.writeErr == "" {
		c.rec.writeErr = fmt.Sprintf("%s: %v", what, err)
	}
	c.mu.Unlock()
	c.log.Printf("%s: write failed: %v", what, err)
}

// sendHeaders sends one header block on stream 1, encoded as given, in HEADERS and
// CONTINUATION frames of at most split bytes (0: no limit of its own) and of at most the
// server's MAX_FRAME_SIZE.
func (c *conn) sendHeaders(fields []hpack.HeaderField, split int, endStream bool) error {
	return c.w.Write(func() error {
		block, sizes, err := c.w.WriteHeaderBlock(caseStream, fields, rawwire.Piece(c.maxFrameSize(), split), endStream)
		if err == nil {
			flags := "END_HEADERS"
			if endStream {
				flags = "END_STREAM|" + flags
			}
			c.log.Printf("sent HEADERS stream=%d (%s): %d fields, %d bytes in frames of %v", caseStream, flags, len(fields), block, sizes)
			for _, f := range fields {
				c.log.Printf("    %s", showField(f))
			}
		}
		return err
	})
}

// sendData sends payload on stream 1 in DATA frames of at most frameSize bytes (0: no limit
// of its own), of at most the server's MAX_FRAME_SIZE and of at most the flow-control window
// open at the time, waiting while it is closed. An empty payload is one empty DATA frame.
// END_STREAM goes on the last frame with endStream.
func (c *conn) sendData(ctx context.Context, payload []byte, frameSize int, endStream bool) error {
	rest := payload
	for {
		n := 0
		if len(rest) > 0 {
			want := len(rest)
			if frameSize > 0 {
				want = min(want, frameSize)
			}
			if n = c.reserve(ctx, want); n == 0 {
				return errStopped
			}
		}
		last := n == len(rest)
		es := last && endStream
		if err := c.w.Write(func() error { return c.fr.WriteData(caseStream, es, rest[:n]) }); err != nil {
			return err
		}
		if es {
			c.log.Printf("sent DATA stream=%d (END_STREAM) len=%d", caseStream, n)
		} else {
			c.log.Printf("sent DATA stream=%d len=%d", caseStream, n)
		}
		rest = rest[n:]
		if last {
			return nil
		}
	}
}

// goodbye sends GOAWAY (NO_ERROR, or the code of the connection error the client found),
// unless the connection has ended, and closes the connection.
func (c *conn) goodbye() {
	_ = c.tcp.SetWriteDeadline(time.Now().Add(goodbyeWait)) // also frees a write in progress
	c.w.Lock()
	c.mu.Lock()
	code, gone := c.goAwayCode, c.gone
	c.mu.Unlock()
	if !gone && c.w.WriteLocked(func() error { return c.fr.WriteGoAway(0, code, nil) }) == nil {
		c.log.Printf("sent GOAWAY last_stream_id=0 code=%d (%v)", uint32(code), code)
	}
	c.w.Unlock()
	c.log.Printf("closing the connection")
	c.close()
}
