package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// stream is one call. Its goroutine (serve) waits for the request as its script says, then
// performs the script's actions in order.
type stream struct {
	c  *conn
	id uint32

	ctx    context.Context // cancelled by the client's RST_STREAM or the end of the connection
	cancel context.CancelFunc

	requestEnded chan struct{} // closed at the client's END_STREAM
	recvEnd      bool          // guarded by c.mu
	sentEnd      bool          // guarded by c.mu
}

func newStream(c *conn, id uint32) *stream {
	s := &stream{c: c, id: id, requestEnded: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(c.ctx)
	return s
}

func (s *stream) serve(fields []hpack.HeaderField) {
	defer s.cancel()
	if s.c.srv.wellBehaved {
		if s.awaitRequest() {
			s.perform(wellBehavedActions)
		}
		return
	}
	sc, err := scriptFromHeaders(fields)
	if err != nil {
		s.c.logf("stream %d: %v", s.id, err)
		s.perform(internalError("raw: " + err.Error()))
		return
	}
	if sc.respondBeforeEnd || s.awaitRequest() {
		s.perform(sc.actions)
	}
}

// awaitRequest waits for the client's END_STREAM; false if the stream ended first.
func (s *stream) awaitRequest() bool {
	select {
	case <-s.requestEnded:
		return true
	case <-s.ctx.Done():
		return false
	}
}

func (s *stream) perform(actions []action) {
	for _, a := range actions {
		if s.ctx.Err() != nil || s.do(a) != nil {
			return
		}
	}
}

// do performs one action.
func (s *stream) do(a action) error {
	c := s.c
	switch a.kind {
	case "headers":
		return c.write(func() error {
			c.hbuf.Reset()
			for _, f := range a.fields {
				if err := c.enc.WriteField(f); err != nil {
					return err
				}
			}
			piece := c.maxFrame
			if a.split > 0 && a.split < piece {
				piece = a.split
			}
			block := c.hbuf.Bytes()
			first := block[:min(piece, len(block))]
			rest := block[len(first):]
			err := c.fr.WriteHeaders(http2.HeadersFrameParam{
				StreamID: s.id, BlockFragment: first, EndStream: a.endStream, EndHeaders: len(rest) == 0,
			})
			for err == nil && len(rest) > 0 {
				n := min(piece, len(rest))
				err = c.fr.WriteContinuation(s.id, n == len(rest), rest[:n])
				rest = rest[n:]
			}
			if err == nil && a.endStream {
				c.endOfResponse(s)
			}
			return err
		})

	case "message", "data":
		return c.write(func() error {
			piece := c.maxFrame
			if a.frameSize > 0 && a.frameSize < piece {
				piece = a.frameSize
			}
			rest := a.payload
			for {
				n := min(piece, len(rest))
				last := n == len(rest)
				if err := c.fr.WriteData(s.id, last && a.endStream, rest[:n]); err != nil {
					return err
				}
				rest = rest[n:]
				if last {
					break
				}
			}
			if a.endStream {
				c.endOfResponse(s)
			}
			return nil
		})

	case "rst_stream":
		err := c.write(func() error { return c.fr.WriteRSTStream(s.id, http2.ErrCode(a.code)) })
		c.forget(s.id) // the stream is closed: no more WINDOW_UPDATE for it
		return err

	case "goaway":
		last := s.id
		if a.lastID != nil {
			last = *a.lastID
		}
		return c.write(func() error { return c.fr.WriteGoAway(last, http2.ErrCode(a.code), []byte(a.debug)) })

	case "sleep_ms":
		t := time.NewTimer(a.sleep)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-s.ctx.Done():
			return s.ctx.Err()
		}

	case "close":
		// Under the write mutex, so that no frame is cut in the middle.
		return c.write(func() error {
			c.nc.Close()
			return net.ErrClosed
		})
	}
	return fmt.Errorf("unknown action kind %q", a.kind)
}

// wellBehavedActions answer a call like a correct gRPC server sending one empty message
// (fault raw-well-behaved).
var wellBehavedActions = []action{
	{kind: "headers", fields: []hpack.HeaderField{{Name: ":status", Value: "200"}, {Name: "content-type", Value: "application/grpc"}}},
	{kind: "message", payload: []byte{0, 0, 0, 0, 0}},
	{kind: "headers", fields: []hpack.HeaderField{{Name: "grpc-status", Value: "0"}}, endStream: true},
}

// internalError is a trailers-only response with status INTERNAL and the message why.
func internalError(why string) []action {
	return []action{{kind: "headers", endStream: true, fields: []hpack.HeaderField{
		{Name: ":status", Value: "200"},
		{Name: "content-type", Value: "application/grpc"},
		{Name: "grpc-status", Value: "13"},
		{Name: "grpc-message", Value: percentEncode(why)},
	}}}
}

// percentEncode encodes a grpc-message value as gRPC's HTTP/2 protocol says: every byte
// outside printable ASCII, and '%', as %XX.
func percentEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x20 || b > 0x7e || b == '%' {
			out = append(out, '%', hexDigits[b>>4], hexDigits[b&15])
		} else {
			out = append(out, b)
		}
	}
	return string(out)
}
