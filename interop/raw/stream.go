package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"interopraw/internal/rawwire"
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

func (s *stream) perform(actions []rawwire.Action) {
	for _, a := range actions {
		if s.ctx.Err() != nil || s.do(a) != nil {
			return
		}
	}
}

// do performs one action.
func (s *stream) do(a rawwire.Action) error {
	c := s.c
	switch a.Kind {
	case "headers":
		return c.w.Write(func() error {
			_, _, err := c.w.WriteHeaderBlock(s.id, a.Fields, rawwire.Piece(c.maxFrame, a.Split), a.EndStream)
			if err == nil && a.EndStream {
				c.endOfResponse(s)
			}
			return err
		})

	case "message", "data":
		return c.w.Write(func() error {
			piece := rawwire.Piece(c.maxFrame, a.FrameSize)
			rest := a.Payload
			for {
				n := min(piece, len(rest))
				last := n == len(rest)
				if err := c.fr.WriteData(s.id, last && a.EndStream, rest[:n]); err != nil {
					return err
				}
				rest = rest[n:]
				if last {
					break
				}
			}
			if a.EndStream {
				c.endOfResponse(s)
			}
			return nil
		})

	case "rst_stream":
		err := c.w.Write(func() error { return c.fr.WriteRSTStream(s.id, http2.ErrCode(a.Code)) })
		c.forget(s.id) // the stream is closed: no more WINDOW_UPDATE for it
		return err

	case "goaway":
		last := s.id
		if a.LastID != nil {
			last = *a.LastID
		}
		return c.w.Write(func() error { return c.fr.WriteGoAway(last, http2.ErrCode(a.Code), []byte(a.Debug)) })

	case "sleep_ms":
		t := time.NewTimer(a.Sleep)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-s.ctx.Done():
			return s.ctx.Err()
		}

	case "close":
		// Under the write mutex, so that no frame is cut in the middle.
		return c.w.Write(func() error {
			c.nc.Close()
			return net.ErrClosed
		})
	}
	return fmt.Errorf("unknown action kind %q", a.Kind)
}

// wellBehavedActions answer a call like a correct gRPC server sending one empty message
// (fault raw-well-behaved).
var wellBehavedActions = []rawwire.Action{
	{Kind: "headers", Fields: []hpack.HeaderField{{Name: ":status", Value: "200"}, {Name: "content-type", Value: "application/grpc"}}},
	{Kind: "message", Payload: rawwire.LengthPrefixed(nil, false, 0)},
	{Kind: "headers", Fields: []hpack.HeaderField{{Name: "grpc-status", Value: "0"}}, EndStream: true},
}

// internalError is a trailers-only response with status INTERNAL and the message why.
func internalError(why string) []rawwire.Action {
	return []rawwire.Action{{Kind: "headers", EndStream: true, Fields: []hpack.HeaderField{
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
